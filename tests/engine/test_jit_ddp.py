"""DDP with jit_compile=True: one real 2-rank gloo launch of tests/scripts/ddp_train.py --jit,
against the same training in one eager process over the same global batches.

Under DDP the model's forward is compiled inside DDP and the step around it runs eagerly
(DDP's all-reduce hooks never run in a traced backward): engine/jit.py, JitSteps.inside_ddp.
"""
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "scripts", "ddp_train.py")

sys.path.insert(0, os.path.dirname(SCRIPT))
import ddp_train  # noqa: E402
from torchrun_launch import torchrun  # noqa: E402

pytest.importorskip("torch._inductor")


def test_torchrun_with_jit_compile_matches_one_eager_process_and_compiles_the_forward(tmp_path):
    out = tmp_path / "ddp"
    out.mkdir()
    proc = torchrun(SCRIPT, [str(out), "--jit"], timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    single_dir = tmp_path / "single"
    single_dir.mkdir()
    single = ddp_train.train(str(single_dir), batch_size=32)
    for result in ranks:
        assert result["world_size"] == 2 and result["params"]["global_batch_size"] == 32
        assert result["graphs"] >= 2, "the forward (inside DDP) and the test step should be compiled"
        assert result["epochs"] == single["epochs"]
        for got, want in zip(result["weights"], single["weights"]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        for key, values in single["history"].items():
            np.testing.assert_allclose(result["history"][key], values, rtol=1e-4, atol=1e-6)
        for key, value in single["evaluate"].items():
            assert result["evaluate"][key] == pytest.approx(value, rel=1e-4, abs=1e-6)
    assert ranks[0]["weights"] == ranks[1]["weights"], "replicas drifted apart"
