"""compile(distribute='fsdp'): the option's checks, one process with a notice, and a real 2-rank gloo launch.

The launch (one for the module) trains tests/scripts/fsdp_train.py's cases under FSDP and
under DDP on 2 processes; the single-process baseline trains the same cases here with the
global batch size. The failure tests launch tests/scripts/ddp_train.py's failing scenarios
under FSDP, rank by rank, as the DDP tests do.
"""
import json
import os
import socket
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch
from torch.distributed.fsdp import MixedPrecisionPolicy

import kerosene
from kerosene.distributed import FSDP
from kerosene.engine.fsdp import _precision_policy

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "scripts", "fsdp_train.py")
HANG_GUARD = 240  # seconds; the launch trains 8 fits on 2 contended cores

sys.path.insert(0, os.path.dirname(SCRIPT))
import fsdp_train  # noqa: E402
from torchrun_launch import launch_env, torchrun  # noqa: E402

FAIL_SCRIPT = os.path.join(ROOT, "tests", "scripts", "ddp_train.py")
FAIL_BOUND = 120  # seconds for the rank left to fail, start-up included; a hang waits 1800 s


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("fsdp")
    proc = torchrun(SCRIPT, [str(out)], timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    results[0]["out"] = str(out)
    return results


def _assert_weights_close(got, want, **tolerance):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.array(a), np.array(b), **tolerance)


@pytest.mark.parametrize("arch,opt", fsdp_train.CASES)
def test_fsdp_fit_matches_ddp_and_one_process_over_the_same_global_batches(ranks, arch, opt):
    fsdp, ddp = ranks[0][f"{arch}-{opt}-fsdp"], ranks[0][f"{arch}-{opt}-ddp"]
    assert ranks[0]["world_size"] == 2
    assert fsdp["param_types"] == ["DTensor"]  # really sharded, not DDP under another name
    assert ddp["param_types"] == ["Parameter"]
    single = fsdp_train.train_case(arch, opt, batch_size=32)
    _assert_weights_close(fsdp["weights"], ddp["weights"], rtol=1e-5, atol=1e-6)
    _assert_weights_close(fsdp["weights"], single["weights"], rtol=1e-5, atol=1e-6)
    _assert_weights_close(ranks[1][f"{arch}-{opt}-fsdp"]["weights"], fsdp["weights"], rtol=0, atol=0)
    np.testing.assert_allclose(fsdp["history"]["loss"], single["history"]["loss"], rtol=1e-5)
    assert fsdp["history"]["loss"][-1] < fsdp["history"]["loss"][0]  # it trained


@pytest.mark.parametrize("arch,opt", fsdp_train.CASES)
def test_each_rank_holds_about_half_the_parameter_and_optimizer_state_bytes(ranks, arch, opt):
    local = [ranks[r][f"{arch}-{opt}-fsdp"]["local_bytes"] for r in range(2)]
    whole = ranks[0][f"{arch}-{opt}-fsdp"]["whole_bytes"]
    assert sum(local) == whole
    assert max(local) <= 0.55 * whole, (local, whole)
    ddp = ranks[0][f"{arch}-{opt}-ddp"]
    assert ddp["local_bytes"] == ddp["whole_bytes"] == whole  # DDP keeps it all on every rank


def test_fsdp_outside_a_launch_trains_as_one_process_with_a_one_line_notice():
    x, y = fsdp_train.make_data()
    model = fsdp_train.make_model("dense", "sgd", "fsdp")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    notices = [str(w.message) for w in caught if "distribute='fsdp'" in str(w.message)]
    assert notices == ["distribute='fsdp' outside a torch.distributed launch: training as one process, unsharded"]
    baseline = fsdp_train.make_model("dense", "sgd", "auto")
    for _ in range(2):
        baseline.fit(x, y, batch_size=32, epochs=1, verbose=0)
    _assert_weights_close(model.get_weights(), baseline.get_weights(), rtol=0, atol=0)


@pytest.mark.parametrize("bad", ["fdsp", "FSDP", 2, None, True])
def test_compile_rejects_a_bad_distribute_naming_it(bad):
    model = kerosene.Sequential([kerosene.layers.Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match=r"`distribute` must be one of \('auto', 'ddp', 'fsdp'\)") as err:
        model.compile("sgd", "mse", distribute=bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("kwargs,error,names", [
    ({"reshard_after_forward": 0}, ValueError, "reshard_after_forward"),
    ({"reshard_after_forward": "yes"}, ValueError, "reshard_after_forward"),
    ({"mixed_precision": "bfloat16"}, TypeError, "mixed_precision"),
    ({"cpu_offload": 1}, TypeError, "cpu_offload"),
    ({"shard": "everything"}, ValueError, "shard"),
])
def test_fsdp_settings_reject_bad_values_naming_the_argument(kwargs, error, names):
    with pytest.raises(error, match=f"FSDP `{names}`") as err:
        FSDP(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


def test_compile_accepts_each_distribute_form():
    model = kerosene.Sequential([kerosene.layers.Dense(2, input_dim=3)])
    for value in ("auto", "ddp", "fsdp", FSDP(reshard_after_forward=False, shard="root")):
        model.compile("sgd", "mse", distribute=value)
        assert model._compile_state.distribute.kind == (value if isinstance(value, str) else "fsdp")


@pytest.mark.parametrize("arch", ["dense", "module"])
def test_weights_of_an_fsdp_model_come_out_whole_and_go_back_into_the_shards(ranks, arch, tmp_path):
    got = [ranks[r][f"weights-{arch}"] for r in range(2)]
    assert got[0]["param_types"] == got[0]["param_types_after"] == ["DTensor"]   # still sharded after all
    # get_weights gives the full arrays on every rank, the same on both.
    _assert_weights_close(got[1]["trained"], got[0]["trained"], rtol=0, atol=0)
    assert [np.shape(w) for w in got[0]["trained"]] == [w.shape for w in fsdp_train.make_model(
        arch, "adam", "auto").get_weights()]
    assert got[0]["after_set"] and got[1]["after_set"]      # set_weights scattered the new values
    assert got[0]["after_load"] and got[1]["after_load"]    # load_weights of the .h5 brought them back
    for r in range(2):
        assert "FSDP" in got[r]["pt_error"] and "'.h5'" in got[r]["pt_error"]


def test_files_written_under_fsdp_are_one_ordinary_file_that_one_process_loads(ranks):
    out = ranks[0]["out"]
    trained = ranks[0]["weights-dense"]["trained"]
    single = fsdp_train.make_model("dense", "adam", "auto")
    single.load_weights(os.path.join(out, "dense-w.h5"))
    _assert_weights_close(single.get_weights(), trained, rtol=0, atol=0)
    loaded = kerosene.models.load_model(os.path.join(out, "dense-m.h5"))
    _assert_weights_close(loaded.get_weights(), trained, rtol=0, atol=0)
    x, _ = fsdp_train.make_data()
    np.testing.assert_allclose(loaded.predict(x[:8], verbose=0), ranks[0]["weights-dense"]["predict"],
                               rtol=1e-5, atol=1e-6)
    # ModelCheckpoint wrote one file, the last epoch's model, and no temporary file is left.
    checkpoint = kerosene.models.load_model(os.path.join(out, "dense-ckpt.h5"))
    _assert_weights_close(checkpoint.get_weights(), trained, rtol=0, atol=0)
    assert sorted(f for f in os.listdir(out) if not f.endswith(".json")) == [
        "dense-ckpt.h5", "dense-m.h5", "dense-w.dcp", "dense-w.h5", "module-ckpt.h5", "module-w.dcp", "module-w.h5"]


@pytest.mark.parametrize("arch", ["dense", "module"])
def test_a_dcp_checkpoint_of_two_fsdp_ranks_loads_into_one_process(ranks, arch):
    out = ranks[0]["out"]
    assert len([f for f in os.listdir(os.path.join(out, f"{arch}-w.dcp")) if f.endswith(".distcp")]) == 2
    single = fsdp_train.make_model(arch, "adam", "auto")
    x, _ = fsdp_train.make_data()
    single.predict(x[:1], verbose=0)
    single.load_weights(os.path.join(out, f"{arch}-w.dcp"))
    _assert_weights_close(single.get_weights(), ranks[0][f"weights-{arch}"]["trained"], rtol=0, atol=0)


# --- uneven data: fit's last global batch split 3/2, evaluate and predict over 101 and 97 rows ----------
@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
def test_fit_with_an_unevenly_split_last_global_batch_matches_one_process(ranks, engine):
    got = ranks[0][f"uneven-{engine}"]
    single = fsdp_train.train_case("dense", "adam", batch_size=32, samples=fsdp_train.UNEVEN,
                                   validation=fsdp_train.uneven_validation())
    # Each rank's gradient weighted by its rows of the last global batch (3 and 2 of 5), as one process means them.
    _assert_weights_close(got["weights"], single["weights"], rtol=1e-5, atol=1e-6)
    _assert_weights_close(ranks[1][f"uneven-{engine}"]["weights"], got["weights"], rtol=0, atol=0)
    # Validation's second global batch (1 row) leaves rank 1 a filler forward under FSDP.
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(got["history"][key], single["history"][key], rtol=1e-5, err_msg=key)


def _single_with(weights, make=lambda: fsdp_train.make_model("dense", "adam", "auto")):
    model = make()
    model.set_weights([np.array(w, dtype="float32") for w in weights])
    return model


@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
@pytest.mark.parametrize("rows", fsdp_train.EVAL_ROWS)
def test_evaluate_runs_as_many_steps_on_every_rank_and_equals_one_process(ranks, engine, rows):
    x, y = fsdp_train.make_data(fsdp_train.UNEVEN)
    single = _single_with(ranks[0][f"uneven-{engine}"]["trained"])
    want = single.evaluate(x[:rows], y[:rows], batch_size=16, verbose=0, return_dict=True)
    for r in range(2):
        got = ranks[r][f"uneven-{engine}"][f"evaluate-{rows}"]
        assert sorted(got) == sorted(want)
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=1e-5, abs=1e-6), (r, key)


@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
@pytest.mark.parametrize("rows", fsdp_train.EVAL_ROWS)
def test_predict_shards_the_rows_and_gives_every_rank_all_outputs_in_input_order(ranks, engine, rows):
    x, _ = fsdp_train.make_data(fsdp_train.UNEVEN)
    want = _single_with(ranks[0][f"uneven-{engine}"]["trained"]).predict(x[:rows], batch_size=16)
    for r in range(2):
        np.testing.assert_allclose(ranks[r][f"uneven-{engine}"][f"predict-{rows}"], want, rtol=1e-5, atol=1e-6)
    sizes = [ranks[r][f"uneven-{engine}"][f"predict-sizes-{rows}"] for r in range(2)]
    # Global batches of 32 rows split 16/16; the last one's rest 3/2 (101 rows) or 1/0 (97 rows):
    # rank 1's filler forward for the empty share reaches no callback.
    last = {101: [3, 2], 97: [1]}[rows]
    assert sizes == [[16, 16, 16, last[0]], [16, 16, 16] + last[1:]]


@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
def test_evaluate_and_predict_of_one_row_leave_rank_1_only_filler_forwards(ranks, engine):
    x, y = fsdp_train.make_data(fsdp_train.UNEVEN)
    single = _single_with(ranks[0][f"uneven-{engine}"]["trained"])
    want = single.evaluate(x[:1], y[:1], verbose=0, return_dict=True)
    for r in range(2):
        got = ranks[r][f"uneven-{engine}"]
        for key in want:
            assert got["evaluate-1"][key] == pytest.approx(want[key], rel=1e-5, abs=1e-6), (r, key)
        np.testing.assert_allclose(got["predict-1"], single.predict(x[:1]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
def test_evaluate_and_predict_over_a_dataloader_and_a_sequence_shard_and_equal_one_process(ranks, engine):
    x, y = fsdp_train.make_data(fsdp_train.UNEVEN)
    rows = fsdp_train.EVAL_ROWS[1]
    single = _single_with(ranks[0][f"uneven-{engine}"]["trained"])
    want_eval = single.evaluate(x[:rows], y[:rows], batch_size=16, verbose=0, return_dict=True)
    want = single.predict(x[:rows], batch_size=16)
    for r in range(2):
        got = ranks[r][f"uneven-{engine}"]
        for key in want_eval:
            assert got["evaluate-loader"][key] == pytest.approx(want_eval[key], rel=1e-5, abs=1e-6), (r, key)
        np.testing.assert_allclose(got["predict-loader"], want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got["predict-sequence"], want, rtol=1e-5, atol=1e-6)
    sizes = [ranks[r][f"uneven-{engine}"] for r in range(2)]
    # The loader deals rows 0, 2, 4... to rank 0 (49 rows) and 1, 3... to rank 1 (48); the Sequence
    # deals batches 0, 2, 4, 6 to rank 0 and 1, 3, 5 to rank 1 (its last batch has 1 row).
    assert [s["predict-sizes-loader"] for s in sizes] == [[16, 16, 16, 1], [16, 16, 16]]
    assert [s["predict-sizes-sequence"] for s in sizes] == [[16, 16, 16, 1], [16, 16, 16]]


@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
def test_fit_from_a_dataloader_shards_its_rows_for_a_keras_model_and_equals_one_process(ranks, engine):
    # A Keras model's loader inputs are cast per batch; the rows under that cast are still sharded.
    got = [ranks[r][f"loader-fit-{engine}"] for r in range(2)]
    assert got[0]["steps"] == got[1]["steps"] == fsdp_train.SAMPLES // 32
    single = fsdp_train.loader_fit_case("auto", batch_size=32)
    _assert_weights_close(got[0]["weights"], single["weights"], rtol=1e-5, atol=1e-6)
    _assert_weights_close(got[1]["weights"], got[0]["weights"], rtol=0, atol=0)
    np.testing.assert_allclose(got[0]["history"]["loss"], single["history"]["loss"], rtol=1e-5)


@pytest.mark.parametrize("engine", ["fsdp", "ddp"])
def test_predict_of_a_two_output_model_is_gathered_output_by_output(ranks, engine):
    x, _ = fsdp_train.make_data(fsdp_train.UNEVEN)
    got = [ranks[r][f"uneven-{engine}"]["multi_output"] for r in range(2)]
    want = _single_with(got[0]["weights"], lambda: fsdp_train.make_two_output_model("auto")).predict(
        x[:fsdp_train.EVAL_ROWS[1]], batch_size=16)
    assert len(want) == 2
    for r in range(2):
        assert len(got[r]["predict"]) == 2
        for part, expected in zip(got[r]["predict"], want):
            np.testing.assert_allclose(part, expected, rtol=1e-5, atol=1e-6)


# --- mixed_bfloat16 through FSDP's MixedPrecisionPolicy -----------------------------------------------
def test_mixed_bfloat16_under_fsdp_gathers_bfloat16_weights_and_trains_as_ddp_does(ranks):
    fsdp, ddp = ranks[0]["bfloat16-fsdp"], ranks[0]["bfloat16-ddp"]
    assert fsdp["forward_dtypes"] == ["torch.bfloat16"]    # FSDP's policy, not autocast alone
    assert ddp["forward_dtypes"] == ["torch.float32"]
    assert fsdp["master_dtypes"] == ["torch.float32"]      # the shards the optimizer updates stay float32
    _assert_weights_close(fsdp["weights"], ddp["weights"], rtol=1e-2, atol=1e-3)
    _assert_weights_close(ranks[1]["bfloat16-fsdp"]["weights"], fsdp["weights"], rtol=0, atol=0)
    np.testing.assert_allclose(fsdp["history"]["loss"], ddp["history"]["loss"], rtol=1e-2)
    assert fsdp["history"]["loss"][-1] < fsdp["history"]["loss"][0]


def test_the_users_fsdp_mixed_precision_wins_over_the_compile_precision():
    mine = MixedPrecisionPolicy(param_dtype=torch.float16)
    assert _precision_policy(FSDP(mixed_precision=mine), "mixed_bfloat16") is mine
    chosen = _precision_policy(FSDP(), "mixed_bfloat16")
    assert (chosen.param_dtype, chosen.reduce_dtype) == (torch.bfloat16, torch.float32)
    assert _precision_policy(FSDP(), None).param_dtype is None
    assert _precision_policy(FSDP(), "mixed_float16").param_dtype is None   # float16 stays autocast + loss scaling


# --- a failing rank under FSDP: the rank left fails fast with the first error ---------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch_fsdp_by_hand(out, scenario, wait_for=(0, 1)):
    """Start 2 ranks as plain processes (no torchrun agent to end the rank left for us).

    Returns ``(returncode, output, seconds)`` for each rank in ``wait_for``; the others are
    killed once those have ended. The collective timeout stays the default 1800 s, so only
    the library's failure path can end the rank left within ``FAIL_BOUND``.
    """
    port = str(_free_port())
    procs = []
    start = time.monotonic()
    for rank in range(2):
        env = launch_env(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                         MASTER_PORT=port, KEROSENE_DIST_INIT_TIMEOUT="60", KEROSENE_DIST_TIMEOUT="1800")
        procs.append(subprocess.Popen(
            [sys.executable, FAIL_SCRIPT, str(out), "--scenario", scenario, "--distribute", "fsdp"], env=env,
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    results = {}
    try:
        for rank in wait_for:
            output, _ = procs[rank].communicate(timeout=FAIL_BOUND + 60)
            results[rank] = (procs[rank].returncode, output, time.monotonic() - start)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return results


def _assert_rank_0_failed_fast_with_rank_1s_error(result, out, scenario):
    code0, out0, seconds = result
    assert code0 != 0, "rank 0 must not carry on alone"
    assert "first failure was on rank 1: ValueError: boom from rank 1" in out0, out0[-3000:]
    assert seconds < FAIL_BOUND, (seconds, out0[-3000:])
    if scenario.startswith("fail_in_step"):
        # rank 0 was waiting in a collective issued by FSDP's hooks, not by kerosene
        assert os.path.join("torch", "distributed", "fsdp") in out0, out0[-3000:]
    assert not (out / "rank0.json").exists()


@pytest.mark.parametrize("scenario", ["fail_on_rank1", "fail_in_step_on_rank1"])
def test_under_fsdp_one_rank_raising_makes_the_others_fail_with_the_first_error(tmp_path, scenario):
    results = _launch_fsdp_by_hand(tmp_path, scenario)
    code1, out1, _ = results[1]
    assert code1 != 0 and "ValueError: boom from rank 1" in out1, out1[-3000:]
    _assert_rank_0_failed_fast_with_rank_1s_error(results[0], tmp_path, scenario)


@pytest.mark.parametrize("scenario", ["fail_on_rank1_then_stop", "fail_in_step_on_rank1_then_stop"])
def test_under_fsdp_a_raising_rank_releases_the_others_before_its_callbacks_end(tmp_path, scenario):
    # rank 1 raises, then stops (SIGSTOP) in on_train_end while its process still holds the
    # sharded model; rank 0 must fail at once, not wait out the collective timeout
    results = _launch_fsdp_by_hand(tmp_path, scenario, wait_for=[0])
    _assert_rank_0_failed_fast_with_rank_1s_error(results[0], tmp_path, scenario)
