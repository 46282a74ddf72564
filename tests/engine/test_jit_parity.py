"""jit_compile=True against eager beyond a Dense stack: a multi-output model with loss weights,
regularizers and sample weights under three kinds of LR change, float16 loss scaling, and an
exact resume after a real SIGKILL.

Each compiled fit costs seconds on 2 CPU cores, so one fit serves several assertions.
"""
import json
import os
import signal
import sys

import numpy as np
import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

import kerosene
from kerosene import backend as K
from kerosene.callbacks import Callback, LearningRateScheduler, ReduceLROnPlateau
from kerosene.layers import Dense, Input

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from crash_train import AttemptServer  # noqa: E402

pytest.importorskip("torch._inductor")


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    counters.clear()
    yield
    torch._dynamo.reset()


def graphs():
    return counters["stats"]["unique_graphs"]


class Trace(Callback):
    """Each batch's losses; the LR nudged by K.set_value every batch; the graph count after epoch 0."""

    def __init__(self):
        super().__init__()
        self.batches, self.lrs, self.graphs_after_warmup = [], [], None

    def on_train_batch_begin(self, batch, logs=None):
        lr = float(K.get_value(self.model.optimizer.lr))
        K.set_value(self.model.optimizer.lr, lr * 0.97)

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append([float(logs[k]) for k in ("loss", "a_loss", "b_loss")])
        self.lrs.append(float(K.get_value(self.model.optimizer.lr)))

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.graphs_after_warmup = graphs()


def two_heads(jit, optimizer):
    torch.manual_seed(0)
    inputs = Input(shape=(6,))
    hidden = Dense(8, activation="relu", kernel_regularizer="l1_l2", bias_regularizer="l2")(inputs)
    a = Dense(3, activation="softmax", name="a")(hidden)
    b = Dense(1, name="b", activity_regularizer="l2")(hidden)
    model = kerosene.Model(inputs, [a, b])
    model.compile(optimizer=optimizer, loss={"a": "categorical_crossentropy", "b": "mse"},
                  loss_weights={"a": 1.0, "b": 0.3}, metrics={"a": ["accuracy"]}, jit_compile=jit, device="cpu")
    return model


@pytest.mark.filterwarnings("ignore:LearningRateScheduler and ReduceLROnPlateau both set")   # both on purpose
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_multi_output_with_regularizers_sample_weights_and_lr_changes_matches_eager_without_recompiles(optimizer):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(70, 6)).astype("float32")
    ya = np.eye(3, dtype="float32")[rng.integers(0, 3, 70)]
    yb = rng.normal(size=(70, 1)).astype("float32")
    weights = np.linspace(0.2, 2.0, 70).astype("float32")
    runs = []
    for jit in (False, True):
        model = two_heads(jit, optimizer)
        trace = Trace()
        callbacks = [trace, LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr),
                     # min_delta so large that it cuts the rate after every epoch
                     ReduceLROnPlateau(monitor="val_loss", factor=0.8, patience=0, min_delta=1e3, verbose=0)]
        history = model.fit(x, {"a": ya, "b": yb}, sample_weight=weights, batch_size=16, epochs=3, shuffle=False,
                            validation_split=0.2, verbose=0, callbacks=callbacks)
        runs.append((trace, history.history))
    (eager, eager_history), (compiled, compiled_history) = runs
    assert compiled.graphs_after_warmup >= 2 and not counters["graph_break"], dict(counters["graph_break"])
    assert graphs() == compiled.graphs_after_warmup, "an LR change or the last, smaller batch recompiled"
    np.testing.assert_allclose(compiled.batches, eager.batches, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(compiled_history["val_loss"], eager_history["val_loss"], rtol=2e-5, atol=1e-6)
    assert compiled.lrs == eager.lrs and compiled_history["lr"] == eager_history["lr"]
    assert len(set(compiled.lrs)) == len(compiled.lrs) == 12   # a new rate at every batch


def test_mixed_float16_trains_train_step_eagerly_with_a_warning_and_eager_losses():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    runs = []
    for jit in (False, True):
        torch.manual_seed(0)
        model = kerosene.Sequential([Dense(8, activation="relu", input_dim=6), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit, device="cpu",
                      precision="mixed_float16")
        if jit:
            with pytest.warns(UserWarning, match="GradScaler.*train_step runs eagerly"):
                history = model.fit(x, y, batch_size=20, epochs=2, shuffle=False, verbose=0,
                                    validation_data=(x[:20], y[:20]))
        else:
            history = model.fit(x, y, batch_size=20, epochs=2, shuffle=False, verbose=0,
                                validation_data=(x[:20], y[:20]))
        runs.append((history.history, model._compile_state.loss_scaler.get_scale()))
    assert graphs() >= 1   # the test step is compiled
    np.testing.assert_allclose(runs[1][0]["loss"], runs[0][0]["loss"], rtol=1e-6)
    np.testing.assert_allclose(runs[1][0]["val_loss"], runs[0][0]["val_loss"], rtol=1e-3, atol=1e-4)
    assert runs[1][1] == runs[0][1]


def test_sigkill_mid_epoch_then_rerun_with_jit_compile_is_bitwise_identical(tmp_path):
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    reference_dir.mkdir()
    run_dir.mkdir()
    attempts = AttemptServer(tmp_path / "attempts.log")
    try:
        common = ["--jit", "--epochs", "4", "--case", "lr"]
        code, _ = attempts.run([reference_dir, "--backup", "none", *common])
        assert code == 0, f"the uninterrupted run failed; see {attempts.log.name}"
        # batch 30: epoch 2, two batches past its last backup (every 4 batches)
        code, _ = attempts.run([run_dir, "--backup", "4", *common, "--kill", "batch:30"])
        assert code == -signal.SIGKILL, f"expected a SIGKILL, got {code}; see {attempts.log.name}"
        code, out = attempts.run([run_dir, "--backup", "4", *common])
        assert code == 0 and "DONE" in out, f"the rerun failed ({code}); see {attempts.log.name}"
    finally:
        attempts.close()
    expected = torch.load(reference_dir / "final.pt", weights_only=True)
    got = torch.load(run_dir / "final.pt", weights_only=True)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), f"{name} differs from the uninterrupted run"
    history = json.loads((run_dir / "history.json").read_text())
    assert history == json.loads((reference_dir / "history.json").read_text())
    assert history["epoch"] == [0, 1, 2, 3]


class ReadsTheLoss(kerosene.Sequential):
    """A user's train_step with a graph break after its update (code dynamo cannot trace, say)."""

    def train_step(self, data):
        x, y, sample_weight = data
        loss = self.compute_loss(x, y, self(x), sample_weight)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        torch._dynamo.graph_break()
        return {"loss": loss.detach()}


def test_a_train_step_that_breaks_the_graph_runs_eagerly_with_a_warning_and_eager_losses():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    runs = []
    for jit in (False, True):
        torch.manual_seed(0)
        model = ReadsTheLoss([Dense(4, activation="relu", input_dim=6), Dense(2)])
        model.compile(optimizer="adam", loss="mse", jit_compile=jit, device="cpu")
        if jit:
            with pytest.warns(UserWarning, match=r"train_step breaks the graph .* so it runs eagerly"):
                history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        else:
            history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        runs.append(history.history["loss"])
    assert graphs() == 0
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-6)
