"""jit_compile=True: the whole step compiled gives eager's losses, and never recompiles after warm-up.

torch.compile spends seconds per graph on 2 CPU cores: the models are tiny and the tests few.
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

import kerosene
from kerosene import backend as K
from kerosene.callbacks import BackupAndRestore, Callback, LambdaCallback
from kerosene.layers import Dense, Dropout

pytest.importorskip("torch._inductor")


@pytest.fixture(autouse=True)
def fresh_dynamo():
    # Each test counts its own graphs and recompiles from a fresh dynamo.
    torch._dynamo.reset()
    counters.clear()
    yield
    torch._dynamo.reset()


def data(n=60, classes=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = np.eye(classes, dtype="float32")[rng.integers(0, classes, n)]
    return x, y


def model_for(jit, optimizer, cls=kerosene.Sequential, **compile_kwargs):
    torch.manual_seed(0)
    model = cls([Dense(8, activation="relu", input_dim=6, kernel_regularizer="l2"), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=jit,
                  device="cpu", **compile_kwargs)
    return model


class LrEveryBatch(Callback):
    """K.set_value on the learning rate before every batch; records each batch's loss."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_begin(self, batch, logs=None):
        K.set_value(self.model.optimizer.lr, 0.02 / (1 + batch + len(self.losses)))

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def graphs():
    return counters["stats"]["unique_graphs"]


def run(model, epochs, trace=None, **kwargs):
    trace = trace or LrEveryBatch()
    x, y = data(70)
    history = model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0, callbacks=[trace],
                        validation_split=0.2, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, **kwargs)
    return trace.losses, history.history


@pytest.mark.parametrize("optimizer", [
    "adam", "rmsprop", "nadam", "adagrad", "adadelta", "adamax",
    lambda: kerosene.optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0)],
    ids=["adam", "rmsprop", "nadam", "adagrad", "adadelta", "adamax", "sgd-nesterov-clipnorm"])
def test_compiled_fit_matches_eager_and_lr_changes_never_recompile(optimizer):
    make = optimizer if callable(optimizer) else (lambda: optimizer)
    eager_losses, eager_history = run(model_for(False, make()), epochs=3)
    model = model_for(True, make())
    trace = LrEveryBatch()
    run(model, epochs=1, trace=trace)          # warm-up: compiles the train and the test step
    compiled = graphs()
    assert compiled >= 2 and not counters["graph_break"], dict(counters["graph_break"])
    # 56 training rows in batches of 16: the last batch of 8 runs eagerly; an LR change at every batch.
    losses, history = run(model, epochs=2, trace=trace)
    assert graphs() == compiled, "an LR change or the last, smaller batch recompiled the step"
    np.testing.assert_allclose(losses, eager_losses, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(history["val_loss"], eager_history["val_loss"][1:], rtol=2e-5, atol=1e-6)
    assert model.optimizer.iterations == 3 * 4
    assert model.optimizer.lr == pytest.approx(0.02 / (1 + 3 + 11))


class TwiceTheLoss(kerosene.Sequential):
    """A user's train_step: the loss doubled for the update, a log of its own."""

    def train_step(self, data):
        x, y, sample_weight = data
        y_pred = self(x)
        loss = 2.0 * self.compute_loss(x, y, y_pred, sample_weight)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.detach(), "peak": y_pred.detach().max()}


def test_an_overridden_train_step_is_compiled_as_written_with_sample_weights():
    x, y = data(48)
    weights = np.linspace(0.5, 1.5, 48).astype("float32")
    results = []
    for jit in (False, True):
        model = model_for(jit, "sgd", cls=TwiceTheLoss)
        got = []
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, sample_weight=weights,
                  callbacks=[LambdaCallback(on_batch_end=lambda b, logs: got.append((logs["loss"], logs["peak"])))])
        results.append(got)
    assert graphs() >= 1 and not counters["graph_break"]
    np.testing.assert_allclose(results[1], results[0], rtol=2e-5, atol=1e-6)


def test_mixed_bfloat16_trains_compiled_close_to_eager():
    x, y = data()
    runs = []
    for jit in (False, True):
        model = model_for(jit, kerosene.optimizers.SGD(0.05), precision="mixed_bfloat16")
        got = []
        model.fit(x, y, batch_size=20, epochs=2, shuffle=False, verbose=0,
                  callbacks=[LambdaCallback(on_batch_end=lambda b, logs: got.append(logs["loss"]))])
        runs.append(got)
    np.testing.assert_allclose(runs[1], runs[0], rtol=0.02, atol=0.01)


def test_backup_and_restore_resumes_a_compiled_run_exactly(tmp_path):
    x, y = data(40)

    class CrashAt(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if (self.epoch, batch) == (1, 1):
                raise RuntimeError("crash")

    def new():
        torch.manual_seed(0)
        model = kerosene.Sequential([Dense(8, input_dim=6, activation="relu"), Dropout(0.3), Dense(3)])
        model.compile(optimizer="adam", loss="mse", jit_compile=True, device="cpu")
        return model

    def fit(model, callbacks):
        return model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=True, callbacks=callbacks)

    reference = new()
    ref_history = fit(reference, [])
    first = new()
    with pytest.raises(RuntimeError, match="crash"):
        fit(first, [BackupAndRestore(tmp_path / "backup", save_freq=2), CrashAt()])
    torch.manual_seed(999)
    resumed = new()
    history = fit(resumed, [BackupAndRestore(tmp_path / "backup", save_freq=2)])
    assert history.history == ref_history.history
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 15


def test_cuda_graphs_on_cpu_is_refused_at_compile_naming_the_device():
    model = kerosene.Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match=r"jit_compile='cuda_graphs'.*'cpu'.*jit_compile=True"):
        model.compile(optimizer="sgd", loss="mse", jit_compile="cuda_graphs", device="cpu")
    with pytest.raises(ValueError, match=r"`jit_compile` must be True, False, 'auto' or 'cuda_graphs', got 'yes'"):
        model.compile(optimizer="sgd", loss="mse", jit_compile="yes")


class FloatOnlySGD(kerosene.optimizers.SGD):
    """An optimizer whose update needs Python floats (a user's, say)."""

    _tensor_hyperparameters = False


def test_an_optimizer_that_needs_float_hyperparameters_trains_eagerly_with_a_warning():
    x, y = data(32)
    model = model_for(True, FloatOnlySGD(0.01))
    with pytest.warns(UserWarning, match="FloatOnlySGD's update needs Python floats, so train_step runs eagerly"):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert graphs() == 0
    assert model.optimizer.iterations == 2


@pytest.mark.parametrize("make", [lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
                                  lambda p: torch.optim.Adam(p, lr=0.01),
                                  lambda p: torch.optim.RMSprop(p, lr=0.01)], ids=["SGD", "Adam", "RMSprop"])
def test_a_plain_torch_optimizer_trains_eagerly_with_a_warning_and_eager_losses(make):
    x, y = data(48)
    runs = []
    for jit in (False, True):
        torch.manual_seed(0)
        model = kerosene.Sequential([Dense(8, activation="relu", input_dim=6), Dense(3, activation="softmax")])
        model.build((None, 6))
        optimizer = make(model.parameters())
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", jit_compile=jit, device="cpu")
        got = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                      callbacks=[LambdaCallback(on_batch_end=lambda b, logs: got.append(logs["loss"]))])
        name = type(optimizer).__name__
        assert any(f"torch optimizer {name} is not compiled" in str(w.message) for w in caught) == jit
        runs.append(got)
    assert graphs() == 0
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-6, atol=1e-7)


TWELVE_MODELS = """
import numpy as np, kerosene
from torch._dynamo.utils import counters
from kerosene.layers import Dense
x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
for i in range(12):
    model = kerosene.Sequential([Dense(1, input_dim=4)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True, device="cpu")
    model.fit(x, x[:, :1], batch_size=16, epochs=1, verbose=0)
print("graphs", counters["stats"]["unique_graphs"], "breaks", len(counters["graph_break"]))
"""


def test_twelve_models_in_one_process_are_all_compiled_and_fit_prints_nothing():
    # dynamo keys its cache on the code object: with one shared train_step code the ninth model
    # passed recompile_limit and trained eagerly, and each first compile logged a profiler line.
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    proc = subprocess.run([sys.executable, "-c", TWELVE_MODELS], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "graphs 12 breaks 0\n"   # (train_step is compiled with fullgraph=True)
    assert proc.stderr == ""
