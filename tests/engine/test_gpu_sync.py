"""On CUDA, a training step never waits for the device unless a callback reads batch logs.

Runs fit under ``torch.cuda.set_sync_debug_mode('error')`` from the start of each epoch
until the epoch's logs are reduced (that one reduction per epoch is allowed to sync), so
any ``.item()``, blocking copy or data-dependent shape inside the steps raises.
Skipped without CUDA; benchmarks/gpu_check.sh runs it on a GPU machine.
"""
import numpy as np
import pytest
import torch

from kerosene.callbacks import Callback
from kerosene.engine.logs import EpochAggregator
from kerosene.layers import Activation, Conv2D, Dense, Flatten, MaxPooling2D
from kerosene.models import Sequential

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class SyncErrorsDuringSteps(Callback):
    """Turns sync errors on at each epoch's start (it overrides no batch hook)."""

    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        torch.cuda.synchronize()   # leave the set-up's copies behind
        torch.cuda.set_sync_debug_mode("error")

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


@pytest.fixture
def sync_guard(monkeypatch):
    original = EpochAggregator.result

    def result(self):
        torch.cuda.set_sync_debug_mode(0)   # the one sync per epoch: reducing the epoch's logs
        return original(self)

    monkeypatch.setattr(EpochAggregator, "result", result)
    monkeypatch.setattr(EpochAggregator, "running", result)
    yield
    torch.cuda.set_sync_debug_mode(0)


def _data(shape, samples=512, classes=10):
    rng = np.random.default_rng(0)
    x = rng.random((samples,) + shape, dtype=np.float32)
    y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, samples)]
    return x, y


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd"])
def test_dense_fit_does_not_sync_per_step(sync_guard, optimizer):
    x, y = _data((784,))
    model = Sequential([Dense(64, activation="relu", input_dim=784), Dense(10), Activation("softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", device="cuda")
    guard = SyncErrorsDuringSteps()
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[guard])
    assert guard.epochs == 2
    assert all(type(v) is float for v in history.history["loss"])


def test_channels_last_cnn_fit_does_not_sync_per_step(sync_guard):
    x, y = _data((28, 28, 1), samples=256)
    model = Sequential([Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(2), Flatten(),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", device="cuda")
    guard = SyncErrorsDuringSteps()
    model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[guard])
    assert guard.epochs == 2


def test_reading_batch_logs_is_what_syncs(sync_guard):
    x, y = _data((784,))
    model = Sequential([Dense(10, input_dim=784), Activation("softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", device="cuda")

    class LossHistory(SyncErrorsDuringSteps):
        def on_batch_end(self, batch, logs=None):
            logs.get("loss")

    with pytest.raises(RuntimeError, match="synchroniz"):
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[LossHistory()])


@pytest.mark.parametrize("jit", [True, "cuda_graphs"], ids=["jit", "cuda_graphs"])
def test_compiled_fit_does_not_sync_per_step_after_its_compile(sync_guard, jit):
    # 520 rows in batches of 64: eight compiled steps and a last, smaller batch run eagerly.
    x, y = _data((784,), samples=520)
    model = Sequential([Dense(64, activation="relu", input_dim=784), Dense(10), Activation("softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", device="cuda", jit_compile=jit)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)   # compiles (and captures): allowed to sync
    guard = SyncErrorsDuringSteps()
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[guard],
                        validation_data=(x[:128], y[:128]))
    assert guard.epochs == 2
    assert all(type(v) is float for v in history.history["loss"] + history.history["val_loss"])
