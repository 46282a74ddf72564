"""Every ```python block in docs/*.md and README.md runs, so the documentation cannot rot.

The blocks of one page run in order in one namespace (a page reads as one session),
inside a fresh working folder, so files a snippet writes never touch the checkout.
A block can only be left out with a visible reason: the line before its fence reads
``<!-- snippet: skip because ... -->``. Pages that show a fragment of a user's own
script get the data it assumes from ``GIVEN`` below, again with the reason stated.
"""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + [os.path.join(ROOT, "README.md")]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"<!--\s*snippet:\s*skip\s+(.+?)\s*-->\s*$")

# Data the page's code assumes from the reader's own script, and why it is not built on the page.
GIVEN = {
    "distributed.md": (
        "the page shows the training fragment of a user's script; its data comes from the user",
        "import numpy as np\n"
        "x = np.random.default_rng(0).normal(size=(256, 20)).astype('float32')\n"
        "y = np.eye(3, dtype='float32')[np.random.default_rng(1).integers(0, 3, 256)]\n"
        "x_val, y_val = x[:64], y[:64]\n"),
}


def snippets():
    found = []
    for page in PAGES:
        if not os.path.isfile(page):
            continue
        text = open(page, encoding="utf8").read()
        for index, match in enumerate(FENCE.finditer(text)):
            line = text.count("\n", 0, match.start()) + 1
            previous = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            skip = SKIP.search(previous)
            found.append(pytest.param(page, index, line, match.group(1), skip.group(1) if skip else None,
                                      id=f"{os.path.relpath(page, ROOT)}:{line}"))
    return found


SNIPPETS = snippets()
_sessions = {}


def _execute(page, line, code, namespace):
    # Pad so that a traceback names the page's own line numbers.
    exec(compile("\n" * line + code, os.path.relpath(page, ROOT), "exec"), namespace)


@pytest.fixture
def session(tmp_path_factory, monkeypatch):
    """Run a page's block in the page's namespace and folder, after the blocks before it.

    Blocks normally run in order; when one is selected alone (``-k``), the earlier blocks
    of its page run first, so each block sees what the reader would have.
    """
    def run(page, index, line, code):
        if page not in _sessions:
            folder = tmp_path_factory.mktemp(os.path.basename(page).replace(".", "_"))
            namespace = {"__name__": "__doc_snippet__"}
            given = GIVEN.get(os.path.basename(page))
            if given:
                exec(given[1], namespace)
            _sessions[page] = {"folder": folder, "namespace": namespace, "next": 0}
        state = _sessions[page]
        monkeypatch.chdir(state["folder"])
        earlier = [p.values for p in SNIPPETS if p.values[0] == page and state["next"] <= p.values[1] < index]
        for _, _, earlier_line, earlier_code, skip_reason in earlier:
            if not skip_reason:
                _execute(page, earlier_line, earlier_code, state["namespace"])
        state["next"] = index + 1
        _execute(page, line, code, state["namespace"])
    return run


def test_docs_have_snippets():
    pages = {os.path.basename(p.values[0]) for p in SNIPPETS}
    for required in ("README.md", "getting-started.md", "callbacks.md", "custom-callbacks.md", "saving.md",
                     "porting-from-keras.md", "torch-modules.md"):
        assert required in pages, f"{required} has no runnable python example"


@pytest.mark.parametrize("page, index, line, code, skip_reason", SNIPPETS)
def test_snippet_runs(session, page, index, line, code, skip_reason):
    if skip_reason:
        pytest.skip(skip_reason)
    session(page, index, line, code)


def test_callbacks_page_shows_every_builtin_callback():
    import kerosene.callbacks
    page = open(os.path.join(ROOT, "docs", "callbacks.md"), encoding="utf8").read()
    blocks = "\n".join(FENCE.findall(page))
    for name in kerosene.callbacks.__all__:
        found = getattr(kerosene.callbacks, name)
        if name in ("Callback", "CallbackList") or not (isinstance(found, type)
                                                        and issubclass(found, kerosene.callbacks.Callback)):
            continue    # the base classes, and K/np (Keras 2's `from keras.callbacks import *` gave them)
        assert f"## {name}" in page, f"docs/callbacks.md has no section for {name}"
        assert name in blocks or name in ("BaseLogger", "History", "ProgbarLogger"), \
            f"docs/callbacks.md has no runnable example using {name}"
