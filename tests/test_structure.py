"""The package's structure, computed from its source: circles, floors, deferred imports, sizes.

The floors are the table in docs/design.md; ``structure_graph`` reads every import
statement with ``ast`` (inside functions too) without importing anything.
"""
import os
import re
import textwrap

import pytest

from structure_graph import circles, floor_of, import_graph, read_floors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "kerosene")
DESIGN = os.path.join(ROOT, "docs", "design.md")

# The one circle the design allows: Model() with inputs/outputs makes a Functional, which is a Model.
ALLOWED_CIRCLE = ["kerosene.models.functional", "kerosene.models.model"]
# Keras 2 import paths that re-export a name from a floor up (nothing imports them, so no circle).
KERAS2_PATHS_UP = {("kerosene.engine.training", "kerosene.models"), ("kerosene.engine.topology", "kerosene.models")}
MAX_LINES = 450


@pytest.fixture(scope="module")
def graph():
    return import_graph(PACKAGE)


@pytest.fixture(scope="module")
def floors():
    table = read_floors(DESIGN)
    assert len(table) >= 5, f"docs/design.md lost its floor table (read {table})"
    return table


def upward_imports(graph, floors, allowed=frozenset()):
    found = []
    for imp in graph.imports:
        low, high = floor_of(imp.source, floors), floor_of(imp.target, floors)
        if low is not None and high is not None and high > low and (imp.source, imp.target) not in allowed:
            found.append(f"{imp.source} (floor {low}) imports {imp.target} (floor {high}) at "
                         f"{os.path.relpath(imp.path, ROOT)}:{imp.line}")
    return found


def test_the_only_circle_is_model_and_functional(graph):
    assert circles(graph.edges) in ([], [ALLOWED_CIRCLE])


def test_every_module_has_a_floor(graph, floors):
    missing = sorted(m for m in graph.files if floor_of(m, floors) is None)
    assert not missing, f"modules with no floor in docs/design.md: {missing}"


def test_no_module_imports_from_a_higher_floor(graph, floors):
    assert upward_imports(graph, floors, KERAS2_PATHS_UP) == []


def test_deferred_imports_say_why(graph):
    silent = [f"{os.path.relpath(i.path, ROOT)}:{i.line} ({i.source} -> {i.target})"
              for i in graph.imports if i.deferred and len(i.reason) < 10]
    assert not silent, f"imports inside functions need a reason beside them: {silent}"


def test_no_module_is_over_450_lines(graph):
    long = {m: n for m, p in graph.files.items() if (n := sum(1 for _ in open(p, encoding="utf8"))) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_callbacks_use_no_private_engine_state(graph):
    private = re.compile(r"\._loop_state\b|\._compile_state\b|(?<!self)\._refresh\(")
    hits = [f"{os.path.relpath(p, ROOT)}:{n}" for m, p in graph.files.items() if m.startswith("kerosene.callbacks")
            for n, line in enumerate(open(p, encoding="utf8"), 1) if private.search(line)]
    assert not hits


def _package(tmp_path, files):
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return str(root)


def test_the_checker_finds_a_circle_held_shut_by_a_deferred_import(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from .high import g\n    return g\n",
        "high.py": "from .low import f\n",
        "leaf.py": "from . import low\n",
    })
    g = import_graph(root)
    assert circles(g.edges) == [["pkg.high", "pkg.low"]]
    deferred = [i for i in g.imports if i.deferred]
    assert [(i.source, i.target, i.reason) for i in deferred] == [("pkg.low", "pkg.high", "")]


def test_the_checker_finds_an_upward_import_and_reads_reasons(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "base.py": "def f():\n    from .top import x  # start-up time: top is heavy\n    return x\n",
        "top.py": "from .base import f\nx = 1\n",
        "sub/__init__.py": "from ..base import f\n",
    })
    design = tmp_path / "design.md"
    design.write_text("<!-- floors -->\n| floor | what | modules |\n|---|---|---|\n"
                      "| 0 | bottom | `pkg.base` |\n| 1 | top | `pkg.top` `pkg.sub*` `pkg` |\n")
    g = import_graph(root)
    table = read_floors(str(design))
    assert table == [(0, ["pkg.base"]), (1, ["pkg.top", "pkg.sub*", "pkg"])]
    assert floor_of("pkg.sub", table) == 1
    ups = upward_imports(g, table)
    assert len(ups) == 1 and ups[0].startswith("pkg.base (floor 0) imports pkg.top (floor 1)")
    assert [i.reason for i in g.imports if i.deferred] == ["start-up time: top is heavy"]
    assert upward_imports(g, table, allowed={("pkg.base", "pkg.top")}) == []
