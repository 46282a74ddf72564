"""kill -9 a real training process at random points, rerun it until it finishes, and
compare with a run that was never interrupted: weights bitwise equal, History and CSV
with every epoch once, EarlyStopping's stop epoch and ReduceLROnPlateau's rates the same.

Set KEROSENE_CRASH_SEED to replay a failing draw of kill points.
"""
import csv
import json
import os
import random
import signal
import subprocess
import sys

import torch

from kerosene.callbacks import backup as backup_module

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from crash_train import AttemptServer  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "crash_train.py")


def start(workdir, *args):
    """A fresh interpreter running the script (for the uninterrupted reference run)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, SCRIPT, str(workdir), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def finish(process, timeout=150):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def check_backup_folder(folder):
    """Whatever a kill left, the backup itself decodes; returns the temp files found."""
    if not folder.exists():
        return []
    names = os.listdir(folder)
    if "latest.backup" in names:
        backup_module.decode((folder / "latest.backup").read_bytes(), folder / "latest.backup")
    return [n for n in names if n.endswith(".tmp")]


def csv_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_sigkill_at_random_points_then_rerun_is_bitwise_identical(tmp_path):
    seed = int(os.environ.get("KEROSENE_CRASH_SEED", random.randrange(1 << 30)))
    print(f"KEROSENE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    # The uninterrupted run has no BackupAndRestore at all: backups must not change the result.
    reference = start(reference_dir, "--backup", "none", "--monitors")

    kill_points = [
        f"batch:{rng.randrange(1, 8)}",
        f"write:{rng.randrange(8, 16)}",   # torn half-way through writing a backup
        "val:1",                           # inside epoch 1's validation
        f"batch:{rng.randrange(25, 30)}",
        f"batch:{rng.randrange(30, 36)}",
    ]
    common = (run_dir, "--backup", "4", "--monitors")
    attempts = AttemptServer(tmp_path / "attempts.log")
    kills = 0
    try:
        for point in kill_points:
            code, out = attempts.run([*common, "--kill", point])
            assert code == -signal.SIGKILL, f"{point}: expected a SIGKILL, got {code}; see {attempts.log.name}"
            kills += 1
            temp_files = check_backup_folder(run_dir / "backup")
            if point.startswith("write"):
                assert temp_files, "the kill inside the backup write should leave its torn temp file"
        code, out = attempts.run(common, kill_after=rng.uniform(0.0, 0.5))   # killed from outside
        kills += code == -signal.SIGKILL
        check_backup_folder(run_dir / "backup")
        while code != 0:
            code, out = attempts.run(common)
            assert code == 0, f"the rerun failed ({code}); see {attempts.log.name}"
    finally:
        attempts.close()
    assert "DONE" in out
    assert kills >= 5

    ref_code, _, ref_err = finish(reference)
    assert ref_code == 0, ref_err[-3000:]
    expected = torch.load(reference_dir / "final.pt", weights_only=True)
    got = torch.load(run_dir / "final.pt", weights_only=True)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), f"{name} differs after {kills} kills (seed {seed})"

    ref_history = json.loads((reference_dir / "history.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch"] == list(range(len(history["epoch"])))     # every epoch once, in order
    assert history == ref_history                                    # values, stop reason, lr trajectory
    # The run really exercised EarlyStopping and ReduceLROnPlateau.
    assert history["stop_reason"] == "stop_training" and len(history["epoch"]) < 8
    assert len(set(history["history"]["lr"])) > 1

    if (reference_dir / "log.csv").exists():
        rows = csv_rows(run_dir / "log.csv")
        assert [int(r["epoch"]) for r in rows] == history["epoch"]
        assert (run_dir / "log.csv").read_text() == (reference_dir / "log.csv").read_text()
    assert not (run_dir / "backup").exists(), "the finished run removes its backup and temp files"
