"""A pytest plugin that runs Keras 2's own tests against kerosene.

``import keras`` and ``import keras.<path>`` resolve to ``kerosene`` and ``kerosene.<path>``
(the same module objects, nothing else rewritten), so a test sees exactly what a user who
changed only the import line would see. Tests named in ``run_anyway.txt`` have their
``skipif`` marks removed: they skip themselves on a non-TensorFlow backend but check
behaviour kerosene has. Each test's outcome is written as JSON to the file named by
``KEROSENE_CONFORMANCE_REPORT`` for ``conformance/run.py`` to compare with the lists.

    python -m pytest -p keras_alias tests/keras/test_callbacks.py
"""
import importlib
import importlib.abc
import importlib.util
import json
import os
import sys

import pytest

_PREFIX = "keras"
_TARGET = "kerosene"


class KerasAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve ``keras[.x]`` to the already-importable ``kerosene[.x]``."""

    def find_spec(self, name, path=None, target=None):
        if name != _PREFIX and not name.startswith(_PREFIX + "."):
            return None
        real = _TARGET + name[len(_PREFIX):]
        try:
            spec = importlib.util.find_spec(real)
        except ImportError:
            return None
        if spec is None:
            return None
        return importlib.util.spec_from_loader(
            name, self, is_package=spec.submodule_search_locations is not None)

    def create_module(self, spec):
        return importlib.import_module(_TARGET + spec.name[len(_PREFIX):])

    def exec_module(self, module):
        """The kerosene module is already executed; it is only given a second name."""


sys.meta_path.insert(0, KerasAlias())


def read_list(path):
    """Map each node id in a committed list file to its reason (``#`` starts a comment)."""
    entries = {}
    with open(path, encoding="utf8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            node, _, reason = line.partition(" ")
            if not reason.strip():
                raise ValueError(f"{path}:{number}: {node!r} has no reason; each line is "
                                 "'<test id> <reason>'")
            entries[node] = reason.strip()
    return entries


_HERE = os.path.dirname(os.path.abspath(__file__))
_RUN_ANYWAY = read_list(os.path.join(_HERE, "run_anyway.txt"))
_OUTCOMES = {}


def pytest_collection_modifyitems(items):
    for item in items:
        # A parametrized test may be listed once, by the id without its parameters.
        if item.nodeid in _RUN_ANYWAY or item.nodeid.split("[")[0] in _RUN_ANYWAY:
            item.own_markers = [m for m in item.own_markers if m.name != "skipif"]


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        previous = _OUTCOMES.get(report.nodeid)
        # A failure in setup, call or teardown fails the test; a skip is kept as a skip.
        if previous is None or previous == "passed":
            _OUTCOMES[report.nodeid] = report.outcome


def pytest_collectreport(report):
    if report.outcome == "failed":
        _OUTCOMES[report.nodeid] = "failed"


def pytest_sessionfinish(session):
    path = os.environ.get("KEROSENE_CONFORMANCE_REPORT")
    if path:
        for item in session.items:
            _OUTCOMES.setdefault(item.nodeid, "not run")
        with open(path, "w", encoding="utf8") as f:
            json.dump(_OUTCOMES, f, indent=1, sort_keys=True)
