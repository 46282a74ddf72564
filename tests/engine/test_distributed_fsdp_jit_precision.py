"""FSDP with ``jit_compile=True`` and with ``mixed_float16`` (real torchrun, 2 gloo ranks, one shared launch).

- ``jit_compile=True`` under FSDP trains and its final weights equal eager FSDP's (allclose):
  on torch 2.13 dynamo skips FSDP2's hooks, so the whole-step graph breaks and train_step
  runs eagerly, with a warning saying so (test and predict steps stay compiled);
- ``mixed_float16`` under FSDP trains with its loss scaler (autocast float16 plus torch's
  GradScaler, FSDP's parameters staying float32) and equals DDP with ``mixed_float16``.
"""
import json
import os

import numpy as np
import pytest

from tests.scripts.torchrun_launch import ROOT, torchrun

SCRIPT = os.path.join(ROOT, "tests", "scripts", "fsdp_jit_precision_train.py")


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("fsdp_jit_precision")
    done = torchrun(SCRIPT, [str(out)], timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)], done.stdout + done.stderr


def assert_close(a, b, **tolerance):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.array(x), np.array(y), **tolerance)


def test_jit_compile_under_fsdp_trains_and_equals_eager_fsdp(ranks):
    ranks, output = ranks
    assert "jit_compile: train_step breaks the graph" in output and "runs eagerly" in output
    assert "cannot trace the hooks of FSDP2" in output
    for rank in ranks:
        jit, eager = rank["fsdp-jit-float32"], rank["fsdp-eager-float32"]
        assert jit["loss"][1] < jit["loss"][0]
        assert_close(jit["weights"], eager["weights"], rtol=1e-4, atol=1e-5)
    assert ranks[0]["fsdp-jit-float32"]["weights"] == ranks[1]["fsdp-jit-float32"]["weights"]


def test_mixed_float16_under_fsdp_trains_with_its_loss_scaler_as_ddp_does(ranks):
    ranks, _ = ranks
    for rank in ranks:
        fsdp, ddp = rank["fsdp-eager-mixed_float16"], rank["ddp-eager-mixed_float16"]
        assert fsdp["scaler"] and ddp["scaler"]
        assert fsdp["loss"][1] < fsdp["loss"][0]
        assert_close(fsdp["weights"], ddp["weights"], rtol=1e-3, atol=1e-4)
