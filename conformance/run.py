"""Run Keras 2.2.4's own tests of the training API against kerosene (``make conformance``).

Downloads Keras 2.2.4's source distribution from the package index once (cached under
``.cache/``, never committed), extracts only its ``tests/`` folder, runs the files in
``FILES`` with pytest through the ``keras`` -> ``kerosene`` import alias, and compares each
test's outcome with ``expected_failures.txt``. Exits non-zero when a test fails that is not
listed there.

    python conformance/run.py            # all files
    python conformance/run.py -k lambda  # extra arguments go to pytest
"""
import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".cache")
VERSION = "2.2.4"
SOURCE = os.path.join(CACHE, f"keras-{VERSION}-tests")
FILES = [
    "tests/keras/test_callbacks.py",
    "tests/keras/test_sequential_model.py",
    "tests/keras/engine/test_training.py",
    "tests/test_model_saving.py",
    "tests/keras/optimizers_test.py",
    "tests/keras/losses_test.py",
    "tests/keras/metrics_test.py",
    "tests/test_loss_weighting.py",
    "tests/test_loss_masking.py",
]
# Only TensorFlow itself may be listed as 'tf:'; 'todo:' marks what kerosene still lacks,
# 'backend-table:' a test whose own table knows only Keras 2's three backends, and 'pytest:'
# a test that calls a pytest API removed since Keras 2.2.4 (it fails on any library); 'h5py:' the
# same for an h5py behaviour changed since (h5py 3 opens File(name) read-only by default).
REASON_KINDS = ("tf:", "todo:", "backend-table:", "pytest:", "h5py:")


def fetch_tests():
    """Return the folder holding Keras 2.2.4's ``tests/``, downloading the sdist if needed."""
    if os.path.isdir(os.path.join(SOURCE, "tests")):
        return SOURCE
    os.makedirs(CACHE, exist_ok=True)
    archives = glob.glob(os.path.join(CACHE, f"[Kk]eras-{VERSION}.tar.gz"))
    if not archives:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--no-binary", ":all:", f"keras=={VERSION}", "-d", CACHE], check=True)
        archives = glob.glob(os.path.join(CACHE, f"[Kk]eras-{VERSION}.tar.gz"))
    staging = tempfile.mkdtemp(dir=CACHE)
    with tarfile.open(archives[0]) as tar:
        prefix = tar.getnames()[0].split("/")[0] + "/tests/"
        members = [m for m in tar.getmembers()
                   if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
        for m in members:
            m.name = m.name[len(prefix.rsplit("tests/", 1)[0]):]
        tar.extractall(staging, members=members, filter="data")
    os.replace(staging, SOURCE)
    return SOURCE


def check_list(path, allowed):
    sys.path.insert(0, HERE)
    from keras_alias import read_list  # the plugin's own parser, so both read lists alike
    entries = read_list(path)
    for node, reason in entries.items():
        if allowed and not reason.startswith(allowed):
            raise SystemExit(f"{os.path.relpath(path, ROOT)}: {node}: reason must start "
                             f"with one of {', '.join(allowed)}; got {reason!r}")
    return entries


def main(argv):
    expected = check_list(os.path.join(HERE, "expected_failures.txt"), REASON_KINDS)
    check_list(os.path.join(HERE, "run_anyway.txt"), ())
    source = fetch_tests()
    report = os.path.join(CACHE, "conformance-report.json")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [HERE, ROOT, os.environ.get("PYTHONPATH")])),
               KEROSENE_CONFORMANCE_REPORT=report, KERAS_BACKEND="torch")
    if os.path.exists(report):
        os.remove(report)
    cmd = [sys.executable, "-m", "pytest", "-p", "keras_alias", "-q", "-p", "no:cacheprovider",
           "-c", os.path.join(HERE, "pytest.ini"), "--rootdir", source,
           "--continue-on-collection-errors", "-W", "ignore::DeprecationWarning", *FILES, *argv]
    subprocess.run(cmd, cwd=source, env=env)
    with open(report, encoding="utf8") as f:
        outcomes = json.load(f)
    passed = sorted(n for n, o in outcomes.items() if o == "passed")
    failed = sorted(n for n, o in outcomes.items() if o in ("failed", "not run"))
    skipped = sorted(n for n, o in outcomes.items() if o == "skipped")
    unexpected = [n for n in failed if n not in expected]
    stale = [n for n in passed if n in expected]
    for n in unexpected:
        print(f"UNEXPECTED FAILURE {n}")
    for n in stale:
        print(f"now passes, remove from expected_failures.txt: {n}  ({expected[n]})")
    todo = sum(1 for n in failed if expected.get(n, "").startswith("todo:"))
    print(f"conformance (Keras {VERSION} tests): {len(passed)} passed, {len(failed)} failed "
          f"({len(failed) - len(unexpected)} listed, {todo} of them todo; {len(unexpected)} "
          f"unexpected), {len(skipped)} skipped")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
