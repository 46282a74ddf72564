"""kill -9 mid-epoch with the inputs and callbacks that used to resume into a different
model (issue 14's silent cases), rerun, and compare bitwise with an uninterrupted run:
weights, History (with its lr trajectory) and CSV bytes.

Each case: an uninterrupted run without BackupAndRestore, then a run with a backup every
4 batches that is killed before batch 30 (epoch 2, 2 batches past its last backup) and
before batch 66 (epoch 5), then rerun until it finishes.
"""
import json
import signal
import sys
import os

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from crash_train import AttemptServer  # noqa: E402


def result(folder):
    weights = torch.load(folder / "final.pt", weights_only=True)
    return weights, json.loads((folder / "history.json").read_text()), (folder / "log.csv").read_bytes()


def assert_same_run(expected_dir, got_dir):
    expected, got = result(expected_dir), result(got_dir)
    assert expected[0].keys() == got[0].keys()
    for name in expected[0]:
        assert torch.equal(expected[0][name], got[0][name]), f"{name} differs from the uninterrupted run"
    assert got[1] == expected[1]
    assert got[2] == expected[2]
    return got[1]


@pytest.fixture
def attempts(tmp_path):
    server = AttemptServer(tmp_path / "attempts.log")
    yield server
    server.close()


def killed_then_rerun(attempts, run_dir, *args):
    for point in ("batch:30", "batch:66"):
        code, _ = attempts.run([run_dir, "--backup", "4", *args, "--kill", point])
        assert code == -signal.SIGKILL, f"{point}: expected a SIGKILL, got {code}; see {attempts.log.name}"
    code, out = attempts.run([run_dir, "--backup", "4", *args])
    assert code == 0 and "DONE" in out, f"the rerun failed ({code}); see {attempts.log.name}"


@pytest.mark.parametrize("case", ["lr", "weighted", "augment", "generator", "sequence", "sequence-replay"])
def test_mid_epoch_kill_then_rerun_is_bitwise_identical(tmp_path, attempts, case):
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    code, _ = attempts.run([reference_dir, "--backup", "none", "--case", case])
    assert code == 0, f"the uninterrupted run failed; see {attempts.log.name}"
    killed_then_rerun(attempts, run_dir, "--case", case)
    history = assert_same_run(reference_dir, run_dir)
    assert history["epoch"] == list(range(8))
    log = attempts.log.name
    with open(log) as handle:
        warnings_seen = handle.read()
    if case == "lr":   # one decay step per epoch, none twice
        rates = history["history"]["lr"]
        assert rates == pytest.approx([0.03 * float(torch.exp(torch.tensor(-0.1 * (k + 1)))) for k in range(8)])
    if case == "generator":
        assert "cannot save a Python generator's position" in warnings_seen
    if case == "sequence-replay":
        assert "replayed its on_epoch_end" in warnings_seen
    if case == "sequence":
        assert "replayed its on_epoch_end" not in warnings_seen


def test_rerun_with_another_batch_size_is_refused_then_resumes_exactly(tmp_path, attempts):
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    assert attempts.run([reference_dir, "--backup", "none"])[0] == 0
    code, _ = attempts.run([run_dir, "--backup", "4", "--kill", "batch:30"])
    assert code == -signal.SIGKILL
    code, _ = attempts.run([run_dir, "--backup", "4", "--batch-size", "8"])
    assert code == 1
    with open(attempts.log.name) as handle:
        log = handle.read()
    assert "BackupError" in log and "step 4 of an epoch of 12 steps over 120 samples" in log, log[-2000:]
    assert "this run's epochs have 15 steps over 120 samples" in log
    assert attempts.run([run_dir, "--backup", "4"])[0] == 0   # the same batch_size again: exact
    assert_same_run(reference_dir, run_dir)


def scalars(folder):
    """Every scalar TensorBoard shows for the run in ``folder``: {run/tag: [(step, value), ...]}."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    shown = {}
    for run in ("train", "validation"):
        accumulator = EventAccumulator(str(folder / "tb" / run), size_guidance={"scalars": 0, "tensors": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            shown[f"{run}/{tag}"] = [(e.step, e.value) for e in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["tensors"]:
            shown[f"{run}/{tag}"] = [(e.step, float(e.tensor_proto.float_val[0])) for e in accumulator.Tensors(tag)]
    return shown


def test_kill_between_an_epochs_rows_and_its_backup_writes_no_row_or_point_twice(tmp_path, attempts):
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    options = ["--csv-append", "--tensorboard"]
    assert attempts.run([reference_dir, "--backup", "none", *options])[0] == 0
    # epoch_end:0 lands before the first epoch's backup: only the backup fit writes at its start holds.
    for point in ("epoch_end:0", "epoch_end:3"):
        code, _ = attempts.run([run_dir, "--backup", "epoch", *options, "--kill", point])
        assert code == -signal.SIGKILL, f"{point}: expected a SIGKILL, got {code}; see {attempts.log.name}"
    assert attempts.run([run_dir, "--backup", "epoch", *options])[0] == 0
    assert_same_run(reference_dir, run_dir)      # CSV bytes: one header, epochs 0..7 once each
    expected, got = scalars(reference_dir), scalars(run_dir)
    assert "train/epoch_loss" in got and got == expected
