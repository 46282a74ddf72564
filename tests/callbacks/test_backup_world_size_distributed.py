"""BackupAndRestore rerun with another world size (real torchrun, 2 gloo processes on CPU).

A job killed mid-epoch is rerun with another world size: it prints one notice naming
both sizes, starts at the epoch after the last completed one, with the weights the
uninterrupted job had at that epoch's begin (the end of the last completed epoch), and
its History holds every epoch once. DDP: 2 ranks -> 1 process; FSDP: 2 ranks -> 1 process
-> 2 ranks (the one process's plain tensors resharded into DTensor weights and Adam slots).
In one process (a backup made to look written by 2 ranks): the same resume, refusals of a
damaged or foreign copy, and of a backup without one (an older kerosene's), as before.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from kerosene.callbacks import Callback
from test_backup_ddp import ROOT, SCRIPT, STEPS_PER_EPOCH, _env, finish, torchrun

NOTICE = "resuming at the start of epoch"


def one_process(workdir, *args):
    return subprocess.Popen([sys.executable, SCRIPT, str(workdir), *args], env=_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def assert_begins_like(reference_dir, run_dir, epoch):
    expected = torch.load(reference_dir / f"begin-{epoch}.pt", weights_only=True)
    got = torch.load(run_dir / f"begin-{epoch}.pt", weights_only=True)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.allclose(expected[name], got[name], rtol=1e-6, atol=1e-7), f"weight {name} at epoch {epoch}"


def assert_resumed(out, wrote, runs, epoch):
    """One notice naming both world sizes and the epoch; training began at ``epoch``."""
    assert out.count(NOTICE) == 1, out[-3000:]
    plural = "es" if wrote != 1 else ""
    assert f"written by {wrote} process{plural} but this run has {runs}" in out, out[-3000:]
    assert f"{NOTICE} {epoch + 1} (index {epoch})" in out, out[-3000:]
    begins = [int(line.split()[1]) for line in out.splitlines() if line.startswith("BEGIN ")]
    assert begins and begins[0] == epoch, begins


def history_epochs(run_dir):
    return json.loads((run_dir / "history.json").read_text())["epoch"]


@pytest.mark.parametrize("distribute", ["auto", "fsdp"])
def test_rerun_with_another_world_size_resumes_at_the_epoch_boundary(tmp_path, distribute):
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    common = ("--distribute", distribute, "--record-begin")
    reference = torchrun(reference_dir, "--backup", "none", *common)
    try:
        # 2 ranks (mid-epoch backups every 3 batches). FSDP: rank 1 killed mid-epoch 2. DDP: rank 0
        # killed once epoch 2's copy is on disk but before epoch.json names it: the copy of epoch 1's
        # end is still the one in force. Either way epochs 0 and 1 are the completed ones.
        kill = f"batch:1:{2 * STEPS_PER_EPOCH + 4}" if distribute == "fsdp" else f"copy:0:{2 * STEPS_PER_EPOCH + 4}"
        code, out = finish(torchrun(run_dir, "--kill", kill, *common))
        assert code != 0 and "Signal 9 (SIGKILL)" in out, out[-3000:]
        pointer = json.loads((run_dir / "backup" / "epoch.json").read_text())
        assert pointer["epoch"] == 2 and pointer["world_size"] == 2, pointer
        if distribute == "auto":   # the unnamed complete copy of epoch 3 is there, and is not used
            assert (run_dir / "backup" / ("epoch-a.dcp" if pointer["dir"] == "epoch-b.dcp" else "epoch-b.dcp")).is_dir()

        # 1 process (16 steps an epoch) resumes at epoch 2, then (FSDP) is killed in epoch 3.
        back_to_two = distribute == "fsdp"
        kill_one = ("--kill", f"batch:0:{3 * 2 * STEPS_PER_EPOCH + 2}") if back_to_two else ()
        code, out = finish(one_process(run_dir, *common, *kill_one))
        assert_resumed(out, wrote=2, runs=1, epoch=2)
        if back_to_two:
            assert code != 0, out[-3000:]
            one_begin3 = torch.load(run_dir / "begin-3.pt", weights_only=True)
            # 2 ranks resume the one process's backup at epoch 3, with its epoch-3 weights resharded.
            code, out = finish(torchrun(run_dir, *common))
            assert code == 0 and out.count("DONE") == 2, out[-3000:]
            assert_resumed(out, wrote=1, runs=2, epoch=3)
            got = torch.load(run_dir / "begin-3.pt", weights_only=True)
            assert one_begin3.keys() == got.keys() and any(k.startswith("slot/") for k in got)
            assert all(torch.equal(one_begin3[k], got[k]) for k in one_begin3)   # weights and Adam slots
        else:
            assert code == 0 and "DONE" in out, out[-3000:]
    finally:
        ref_code, ref_out = finish(reference)
    assert ref_code == 0, ref_out[-3000:]
    assert_begins_like(reference_dir, run_dir, 2)   # the 2-rank job's epoch-1-end weights
    assert history_epochs(run_dir) == [0, 1, 2, 3]
    assert not (run_dir / "backup").exists(), "the completed run removes the backup, its copy included"
    rows = (run_dir / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2", "3"]


# --- in one process: a backup made to look written by 2 ranks (a commit.json of world size 2) ---
class Begins(Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.weights[epoch] = [w.copy() for w in self.model.get_weights()]
        state = self.model.optimizer.state_dict()
        self.slots = getattr(self, "slots", {})
        self.slots[epoch] = ({i: {k: v.clone() for k, v in s.items()} for i, s in state["state"].items()},
                             state["iterations"])

    def state_dict(self):
        return {}


def _as_if_two_ranks_wrote(tmp_path):
    """A one-process run stopped by an error in epoch 2; its folder then looks like a 2-rank backup."""
    from test_backup import Boom, CrashAt, fit, new_model
    from kerosene.callbacks import BackupAndRestore
    folder = tmp_path / "backup"
    begins = Begins()
    with pytest.raises(Boom):
        fit(new_model(), [BackupAndRestore(folder, save_freq=2), CrashAt(2, 3), begins])
    (folder / "latest.backup").unlink()
    (folder / "commit.json").write_text(json.dumps({"generation": 5, "world_size": 2}))
    pointer = json.loads((folder / "epoch.json").read_text())
    (folder / "epoch.json").write_text(json.dumps({**pointer, "world_size": 2}))
    return folder, begins


def test_one_process_resumes_a_two_rank_backup_at_the_epoch_boundary(tmp_path):
    from test_backup import fit, new_model
    from kerosene.callbacks import BackupAndRestore
    folder, interrupted = _as_if_two_ranks_wrote(tmp_path)
    begins = Begins()
    with pytest.warns(RuntimeWarning, match=r"written by 2 processes but this run has 1; "
                                            r"resuming at the start of epoch 3 \(index 2\)"):
        history = fit(new_model(), [BackupAndRestore(folder, save_freq=2), begins])
    assert sorted(begins.weights) == [2, 3]
    assert all(np.array_equal(a, b) for a, b in zip(interrupted.weights[2], begins.weights[2]))
    (saved_slots, saved_steps), (slots, steps) = interrupted.slots[2], begins.slots[2]
    assert steps == saved_steps > 0 and saved_slots.keys() == slots.keys()
    assert all(torch.equal(saved_slots[i][k], slots[i][k]) for i in slots for k in slots[i])
    assert history.epoch == [0, 1, 2, 3]
    assert not folder.exists()


@pytest.mark.parametrize("damage,match", [
    ("pointer", "epoch-boundary record .*epoch.json is unreadable"),
    ("state", "run.backup"),
    ("model", "different model"),
])
def test_a_damaged_or_foreign_epoch_copy_is_refused_before_training(tmp_path, damage, match):
    from test_backup import fit, new_model
    from kerosene.callbacks import BackupAndRestore
    from kerosene.errors import BackupError
    folder, _ = _as_if_two_ranks_wrote(tmp_path)
    pointer = json.loads((folder / "epoch.json").read_text())
    if damage == "pointer":
        (folder / "epoch.json").write_text("{not json")
    elif damage == "state":
        path = folder / pointer["dir"] / "run.backup"
        path.write_bytes(path.read_bytes()[:-10])
    model = new_model(units=5 if damage == "model" else 8)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(BackupError, match=match):
        fit(model, [BackupAndRestore(folder, save_freq=2)])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert (folder / "commit.json").exists(), "nothing of the backup is removed on a refusal"


def test_a_backup_from_another_world_size_without_the_copy_is_refused(tmp_path):
    from test_backup import fit, new_model
    from kerosene.callbacks import BackupAndRestore
    from kerosene.errors import BackupError
    folder, _ = _as_if_two_ranks_wrote(tmp_path)
    (folder / "epoch.json").unlink()
    with pytest.raises(BackupError, match="single process.*no epoch-boundary copy"):
        fit(new_model(), [BackupAndRestore(folder, save_freq=2)])
