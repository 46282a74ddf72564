"""Real multi-process runs on gloo: torchrun, a hand-made launch, a failing rank, a broken launch.

Each run trains tests/scripts/ddp_train.py on 2 processes; the single-process baseline
runs the same ``train()`` here with the global batch size.
"""
import json
import os
import signal
import socket
import subprocess
import sys

import h5py
import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "scripts", "ddp_train.py")
HANG_GUARD = 120  # seconds; a run that takes this long is hung, not slow

sys.path.insert(0, os.path.dirname(SCRIPT))
import ddp_train  # noqa: E402
from torchrun_launch import launch_env, torchrun  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch_by_hand(out, scenario, world=2, wait_for=None, **env_extra):
    """Start each rank as a plain process with the torchrun variables (no agent to clean up).

    ``wait_for`` (ranks) waits for those ranks only and kills the others (a stopped rank).
    """
    port = str(_free_port())
    procs = []
    for rank in range(world):
        env = launch_env(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=port, KEROSENE_DIST_INIT_TIMEOUT="60", **env_extra)
        procs.append(subprocess.Popen([sys.executable, SCRIPT, str(out), "--scenario", scenario], env=env,
                                      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for rank, proc in enumerate(procs):
            if wait_for is not None and rank not in wait_for:
                proc.kill()
            stdout, stderr = proc.communicate(timeout=HANG_GUARD)
            results.append((proc.returncode, stdout + stderr))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return results


def _rank_results(out, world=2):
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(world)]


@pytest.fixture(scope="module")
def torchrun_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    proc = torchrun(SCRIPT, [str(out)], timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    return out, ddp_train.train(str(out), batch_size=32)


def test_torchrun_fit_matches_one_process_over_the_same_global_batches(torchrun_run, single_run):
    ranks = _rank_results(torchrun_run)
    _, single = single_run
    for result in ranks:
        assert result["world_size"] == 2
        assert result["params"]["batch_size"] == 16
        assert result["params"]["global_batch_size"] == 32
        for got, want in zip(result["weights"], single["weights"]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        for key, values in single["history"].items():
            np.testing.assert_allclose(result["history"][key], values, rtol=1e-4, atol=1e-6)
        for key, value in single["evaluate"].items():  # evaluate shards the rows and reduces the means
            assert result["evaluate"][key] == pytest.approx(value, rel=1e-4, abs=1e-6)
        assert not any(key.startswith("module.") for key in result["state_dict_keys"])
        assert result["state_dict_keys"] == single["state_dict_keys"]
    assert ranks[0]["weights"] == ranks[1]["weights"], "replicas drifted apart"


def test_torchrun_callbacks_write_once_and_all_ranks_stop_together(torchrun_run):
    ranks = _rank_results(torchrun_run)
    epochs = ranks[0]["epochs"]
    assert 1 <= len(epochs) < 6, "EarlyStopping should have ended training before the last epoch"
    assert ranks[1]["epochs"] == epochs
    assert ranks[0]["steps"] == ranks[1]["steps"] == 7 * len(epochs)
    files = sorted(p.name for p in torchrun_run.iterdir())
    checkpoints = [f"ckpt-{e + 1:02d}.weights.h5" for e in epochs]
    assert files == sorted(checkpoints + ["log.csv", "rank0.json", "rank1.json", "user_epochs.txt"])
    lines = (torchrun_run / "log.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,")
    assert [line.split(",")[0] for line in lines[1:]] == [str(e) for e in epochs]
    assert (torchrun_run / "user_epochs.txt").read_text().split() == [str(e) for e in epochs]


def test_checkpoint_written_under_ddp_loads_in_one_process(torchrun_run):
    ranks = _rank_results(torchrun_run)
    last = torchrun_run / f"ckpt-{ranks[0]['epochs'][-1] + 1:02d}.weights.h5"
    with h5py.File(last, "r") as f:
        names = []
        f.visit(names.append)
    assert not any("module" in name for name in names)
    model = ddp_train.make_model()
    model.load_weights(str(last))
    for got, want in zip(model.get_weights(), ranks[0]["weights"]):
        np.testing.assert_array_equal(got, np.asarray(want, dtype=got.dtype))


def test_a_stop_asked_by_one_rank_mid_epoch_stops_every_rank_at_the_same_step(tmp_path):
    results = _launch_by_hand(tmp_path, "stop_on_rank1")
    for code, output in results:
        assert code == 0, output
    ranks = _rank_results(tmp_path)
    # rank 1 stops after batch 3 of epoch 1: 7 steps of epoch 0, then 4 steps.
    assert ranks[0]["steps"] == ranks[1]["steps"] == 11
    assert ranks[0]["epochs"] == ranks[1]["epochs"] == [0, 1]
    assert ranks[0]["weights"] == ranks[1]["weights"]


def test_one_rank_raising_makes_the_others_fail_with_the_first_error(tmp_path):
    results = _launch_by_hand(tmp_path, "fail_on_rank1")
    (code0, out0), (code1, out1) = results
    assert code1 != 0 and "ValueError: boom from rank 1" in out1
    assert code0 != 0, "rank 0 must not carry on alone"
    assert "first failure was on rank 1: ValueError: boom from rank 1" in out0
    assert not (tmp_path / "rank0.json").exists()


def test_a_raising_rank_releases_the_others_before_its_callbacks_end(tmp_path):
    # rank 1 raises, then stops (SIGSTOP) in on_train_end, before fit has let go of its DDP
    # wrapper; rank 0 must fail at once, not wait out the collective timeout (default 1800 s)
    (code0, out0), _ = _launch_by_hand(tmp_path, "fail_on_rank1_then_stop", wait_for=[0])
    assert code0 != 0, "rank 0 must not carry on alone"
    assert "first failure was on rank 1: ValueError: boom from rank 1" in out0, out0[-3000:]
    assert not (tmp_path / "rank0.json").exists()


def test_a_killed_rank_is_named_by_the_rank_left(tmp_path):
    (code0, out0), (code1, _) = _launch_by_hand(tmp_path, "kill_rank1", KEROSENE_DIST_TIMEOUT="20")
    assert code1 == -signal.SIGKILL
    assert code0 != 0, "rank 0 must not carry on alone"
    assert "kerosene.distributed: rank 1 went away: a collective failed on rank 0 and rank 1 did not answer" in out0, \
        out0[-3000:]
    assert not (tmp_path / "rank0.json").exists()


def test_a_hung_rank_is_named_once_the_collective_timeout_passes(tmp_path):
    # rank 1 stops (SIGSTOP) mid-epoch; rank 0 waits KEROSENE_DIST_TIMEOUT, not the default 30 minutes
    (code0, out0), _ = _launch_by_hand(tmp_path, "hang_rank1", wait_for=[0], KEROSENE_DIST_TIMEOUT="5")
    assert code0 != 0
    assert "Timed out waiting 5000ms" in out0, out0[-3000:]
    assert "kerosene.distributed: rank 1 went away" in out0, out0[-3000:]


def test_a_launch_whose_peers_never_meet_fails_clearly_instead_of_hanging(tmp_path):
    """Rank 0 alone waits for a peer that never comes; rank 1 alone finds no master to reach."""
    procs = []
    for rank in (0, 1):
        env = launch_env(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(_free_port()), KEROSENE_DIST_INIT_TIMEOUT="3")
        procs.append(subprocess.Popen([sys.executable, SCRIPT, str(tmp_path)], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for rank, proc in enumerate(procs):
        try:
            _, stderr = proc.communicate(timeout=HANG_GUARD)
        finally:
            proc.kill()
        assert proc.returncode != 0
        assert "DistributedLaunchError" in stderr
        assert "MASTER_ADDR" in stderr and f"RANK={rank}" in stderr
