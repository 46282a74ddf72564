"""BackupAndRestore under FSDP: SIGKILL one rank of a real 2-process torchrun job mid-epoch, rerun it, and
compare with a job never interrupted: weights, History and CSV rows are bitwise the same.

Each rank's backup part holds its own shards of the weights and of the optimizer's slots
(kerosene/saving/backup_fsdp.py). Set KEROSENE_CRASH_SEED to replay a draw.
"""
import json
import os
import random

import torch

from test_backup_ddp import STEPS_PER_EPOCH, finish, generations, torchrun


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

    expected = torch.load(reference_dir / "final.pt", weights_only=True)
    for rank_file in ("rank0.pt", "rank1.pt"):
        got = torch.load(run_dir / rank_file, weights_only=True)
        assert expected.keys() == got.keys()
        for name in expected:
            assert torch.equal(expected[name], got[name]), f"{rank_file}: weight {name} differs (seed {seed})"
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch"] == [0, 1, 2, 3]
    assert history == json.loads((reference_dir / "history.json").read_text())
    assert (run_dir / "log.csv").read_text() == (reference_dir / "log.csv").read_text()
    assert not (run_dir / "backup").exists()
