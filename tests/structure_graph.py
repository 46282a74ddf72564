"""The import graph of a package, read from its source with ``ast`` (nothing is imported).

Every import statement between the package's own modules counts, module-level and
deferred (inside a function) alike. ``tests/test_structure.py`` checks the graph against
the floors that docs/design.md lists.

    graph = import_graph('kerosene')
    graph.edges['kerosene.models.model']     # {'kerosene.engine.trainer', ...}
    circles(graph.edges)                     # [['kerosene.models.functional', 'kerosene.models.model']]
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field


@dataclass
class Import:
    """One import statement from ``source`` to ``target`` (``deferred`` when inside a function)."""
    source: str
    target: str
    path: str
    line: int
    deferred: bool
    reason: str = ""   # the comment on the statement's line or the line above, for deferred ones


@dataclass
class Graph:
    files: dict = field(default_factory=dict)     # module -> path
    edges: dict = field(default_factory=dict)     # module -> set of modules it imports
    imports: list = field(default_factory=list)   # every Import


def _module_name(package_dir, path):
    rel = os.path.relpath(path, os.path.dirname(os.path.abspath(package_dir)))[:-3].replace(os.sep, ".")
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def _absolute(current, is_package, level, name):
    if level == 0:
        return name
    parts = current.split(".")
    base = parts if is_package else parts[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _comment_near(lines, lineno):
    """The ``#`` comment on line ``lineno`` (1-based) or on the line just above it."""
    for text in (lines[lineno - 1], lines[lineno - 2] if lineno >= 2 else ""):
        match = re.search(r"#\s*(.+)$", text)
        if match:
            return match.group(1).strip()
    return ""


def import_graph(package_dir):
    """The :class:`Graph` of the package in ``package_dir``."""
    package_dir = os.path.abspath(package_dir)
    top = os.path.basename(package_dir.rstrip(os.sep))
    graph = Graph()
    for folder, _, names in os.walk(package_dir):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                graph.files[_module_name(package_dir, path)] = path
    graph.edges = {module: set() for module in graph.files}
    for module, path in graph.files.items():
        source = open(path, encoding="utf8").read()
        lines = source.splitlines()
        tree = ast.parse(source, path)
        in_function = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_function.update(id(sub) for sub in ast.walk(node))
        is_package = path.endswith("__init__.py")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node.level, node.module)
                # `from pkg import sub` depends on the submodule; `from mod import name` on mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in graph.files else base for a in node.names]
            else:
                continue
            for target in targets:
                if not target or not (target == top or target.startswith(top + ".")):
                    continue
                while target and target not in graph.files:   # the longest module the name points into
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                if not target or target == module:
                    continue
                deferred = id(node) in in_function
                graph.edges[module].add(target)
                graph.imports.append(Import(module, target, path, node.lineno, deferred,
                                            _comment_near(lines, node.lineno) if deferred else ""))
    return graph


def circles(edges):
    """The import circles (strongly connected components of more than one module), sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def read_floors(design_md):
    """``[(floor number, [module names])]`` from the floor table of docs/design.md.

    The table's rows look like ``| 0 | bottom | `kerosene.errors` `kerosene._naming` |``;
    a name ending in ``*`` stands for the module and everything below it.
    """
    floors = []
    in_table = False
    for line in open(design_md, encoding="utf8"):
        if "<!-- floors" in line:
            in_table = True
            continue
        if in_table:
            if not line.strip().startswith("|"):
                if floors:
                    break
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not cells[0].isdigit():
                continue
            floors.append((int(cells[0]), re.findall(r"`([A-Za-z0-9_.*]+)`", cells[-1])))
    return floors


def floor_of(module, floors):
    """The floor whose most specific pattern matches ``module``; None when none does."""
    best, best_len = None, -1
    for number, patterns in floors:
        for pattern in patterns:
            if pattern.endswith("*"):
                stem = pattern[:-1].rstrip(".")
                hit = module == stem or module.startswith(stem + ".")
                size = len(stem)
            else:
                hit, size = module == pattern, len(pattern) + 1
            if hit and size > best_len:
                best, best_len = number, size
    return best
