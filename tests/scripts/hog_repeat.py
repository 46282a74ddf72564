"""Run the DDP tests and the kill -9 tests N times in a row beside a CPU hog; print the pass count.

Not part of ``make test``: it is issue 14's "pass 20 times in a row on a loaded machine"
check. One busy-loop process per core keeps the machine loaded while each round runs the
selected test files in a fresh pytest process; a round passes when pytest exits 0.

Usage::

    python tests/scripts/hog_repeat.py            # N=20, every core hogged
    python tests/scripts/hog_repeat.py -n 1 --hogs 1 -k killed   # a quick check of the script

Prints one line per round and ``passed P of N rounds`` at the end (exit status 0 only when
every round passed); the output of a failed round is kept under ``--keep`` (default
``hog_repeat_failures/``) for reading.
"""
import argparse
import multiprocessing
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEST_FILES = [
    "tests/engine/test_distributed_ddp.py",
    "tests/callbacks/test_backup_ddp.py",
    "tests/callbacks/test_backup_crash.py",
    "tests/callbacks/test_backup_crash_cases.py",
]


def _spin():
    while True:
        pass


def start_hogs(count):
    hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(count)]
    for hog in hogs:
        hog.start()
    return hogs


def stop_hogs(hogs):
    for hog in hogs:
        hog.terminate()
    for hog in hogs:
        hog.join(5)


def run_round(files, extra, timeout):
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=ROOT)
    command = [sys.executable, "-m", "pytest", *files, "-q", "-x", "-p", "no:cacheprovider", *extra]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as err:
        code, output = "timeout", f"round ran past {timeout} s\n{err.stdout or ''}{err.stderr or ''}"
    return code, output, time.monotonic() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=20)
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy-loop processes (default: cores)")
    parser.add_argument("-k", default=None, help="pytest -k expression to select tests")
    parser.add_argument("--files", nargs="+", default=TEST_FILES)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one round may take")
    parser.add_argument("--keep", default="hog_repeat_failures")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.hogs < 0:
        parser.error(f"--rounds must be >= 1 and --hogs >= 0, got {args.rounds} and {args.hogs}")
    extra = ["-k", args.k] if args.k else []
    hogs = start_hogs(args.hogs)
    passed = 0
    try:
        for index in range(1, args.rounds + 1):
            code, output, seconds = run_round(args.files, extra, args.timeout)
            summary = output.strip().splitlines()[-1] if output.strip() else ""
            if code == 0:
                passed += 1
            else:
                os.makedirs(args.keep, exist_ok=True)
                with open(os.path.join(args.keep, f"round{index}.txt"), "w") as f:
                    f.write(output)
            print(f"round {index}: {'PASS' if code == 0 else f'FAIL ({code})'} in {seconds:.0f} s: {summary}",
                  flush=True)
    finally:
        stop_hogs(hogs)
    print(f"passed {passed} of {args.rounds} rounds ({args.hogs} hog process(es), files: {' '.join(args.files)})")
    return 0 if passed == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
