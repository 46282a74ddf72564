"""BackupAndRestore under torch.distributed: SIGKILL one rank of a real 2-process torchrun job
(gloo, CPU), rerun the job until it finishes, and compare with a job never interrupted.

The first kill lands between two ranks' writes of one backup (a mix of generations on
disk), the second kills rank 0 mid-epoch. Set KEROSENE_CRASH_SEED to replay a draw.
"""
import json
import os
import random
import re
import subprocess
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "scripts", "ddp_crash_train.py")
HANG_GUARD = 240  # seconds for one torchrun job; longer means hung, not slow
STEPS_PER_EPOCH = 8   # 152 training rows, 10 per rank, 2 ranks


def _env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", KERAS_BACKEND="torch", PYTHONPATH=ROOT, PYTHONUNBUFFERED="1")
    return env


def torchrun(workdir, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone", SCRIPT,
         str(workdir), *args],
        env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process):
    try:
        out, _ = process.communicate(timeout=HANG_GUARD)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, out


def generations(folder):
    """The commit's generation and the generations of every part file found."""
    commit = json.loads((folder / "commit.json").read_text())["generation"]
    parts = {}
    for name in os.listdir(folder):
        match = re.match(r"^(shared|rank-\d)\.(\d+)\.backup$", name)
        if match:
            parts.setdefault(match.group(1), set()).add(int(match.group(2)))
    return commit, parts


def assert_same_run(reference_dir, run_dir, seed):
    """Both ranks' final weights and the History of the resumed job bitwise those of the reference job."""
    expected = torch.load(reference_dir / "final.pt", weights_only=True)
    for rank_file in ("rank0.pt", "rank1.pt"):
        got = torch.load(run_dir / rank_file, weights_only=True)
        assert expected.keys() == got.keys()
        for name in expected:
            assert torch.equal(expected[name], got[name]), f"{rank_file}: {name} differs (seed {seed})"
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch"] == [0, 1, 2, 3]                       # every epoch once, in order
    assert history == json.loads((reference_dir / "history.json").read_text())


def test_sigkill_one_rank_then_rerun_the_job_is_bitwise_identical(tmp_path):
    seed = int(os.environ.get("KEROSENE_CRASH_SEED", random.randrange(1 << 30)))
    print(f"KEROSENE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    backup = run_dir / "backup"
    # The uninterrupted job has no BackupAndRestore: backups must not change the result.
    reference = torchrun(reference_dir, "--backup", "none")
    try:
        # 1. Rank 1 dies right after writing its part of a backup, before the commit.
        point = f"write:1:{rng.randrange(STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH)}"
        code, out = finish(torchrun(run_dir, "--kill", point))
        assert code != 0 and "Signal 9 (SIGKILL)" in out, f"{point} (seed {seed}):\n{out[-3000:]}"
        commit, parts = generations(backup)
        assert max(parts["rank-1"]) == commit + 1, f"no uncommitted part was left: {commit}, {parts}"
        assert commit in parts["shared"] and commit in parts["rank-0"] and commit in parts["rank-1"]

        # (A single process rerun would resume from the epoch-boundary copy, not from these
        # parts: test_backup_world_size_distributed.py.)

        # 2. Rank 0 dies mid-epoch, later on, after the resume.
        point = f"batch:0:{rng.randrange(2 * STEPS_PER_EPOCH + 2, 4 * STEPS_PER_EPOCH - 1)}"
        code, out = finish(torchrun(run_dir, "--kill", point))
        assert code != 0 and "Signal 9 (SIGKILL)" in out, f"{point} (seed {seed}):\n{out[-3000:]}"
        assert generations(backup)[0] > commit, "the resumed job should have committed newer backups"

        # 3. The rerun finishes.
        code, out = finish(torchrun(run_dir))
        assert code == 0 and out.count("DONE") == 2, out[-3000:]
    finally:
        ref_code, ref_out = finish(reference)
    assert ref_code == 0, ref_out[-3000:]

    assert_same_run(reference_dir, run_dir, seed)
    rows = (run_dir / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2", "3"]
    assert (run_dir / "log.csv").read_text() == (reference_dir / "log.csv").read_text()
    assert not backup.exists(), "rank 0 removes every part and the commit when the job completes"
