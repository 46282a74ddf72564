"""BackupAndRestore under FSDP: SIGKILL one rank of a real 2-process torchrun job mid-epoch, rerun it, and
compare with a job never interrupted: weights, History and CSV rows are bitwise the same.

Each rank's backup part holds its own shards of the weights and of the optimizer's slots
(kerosene/saving/backup_fsdp.py). Set KEROSENE_CRASH_SEED to replay a draw.
"""
import os
import random

from test_backup_ddp import STEPS_PER_EPOCH, assert_same_run, finish, generations, torchrun


def test_sigkill_one_fsdp_rank_mid_epoch_then_rerun_is_bitwise_identical(tmp_path):
    seed = int(os.environ.get("KEROSENE_CRASH_SEED", random.randrange(1 << 30)))
    print(f"KEROSENE_CRASH_SEED={seed}")
    rng = random.Random(seed)
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    reference = torchrun(reference_dir, "--backup", "none", "--distribute", "fsdp")
    try:
        point = f"batch:1:{rng.randrange(STEPS_PER_EPOCH + 1, 3 * STEPS_PER_EPOCH - 1)}"
        code, out = finish(torchrun(run_dir, "--kill", point, "--distribute", "fsdp"))
        assert code != 0 and "Signal 9 (SIGKILL)" in out, f"{point} (seed {seed}):\n{out[-3000:]}"
        commit, parts = generations(run_dir / "backup")
        assert commit in parts["rank-0"] and commit in parts["rank-1"]
        code, out = finish(torchrun(run_dir, "--distribute", "fsdp"))
        assert code == 0 and out.count("DONE") == 2, out[-3000:]
    finally:
        ref_code, ref_out = finish(reference)
    assert ref_code == 0, ref_out[-3000:]

    assert_same_run(reference_dir, run_dir, seed)
    assert (run_dir / "log.csv").read_text() == (reference_dir / "log.csv").read_text()
    assert not (run_dir / "backup").exists()
