"""Guards for the mechanisms that keep fit() as cheap as a hand-written loop (nothing is timed).

- a callback that overrides no batch hook is never called per batch;
- batch logs stay tensors (no ``.item()``/``.tolist()``/``float()`` per step) unless a
  callback reads them;
- History holds Python floats, a few hundred bytes per epoch, and peak memory does not
  grow with the number of epochs;
- ``jit_compile=True`` and ``precision='mixed_bfloat16'`` train and give losses close to
  the plain run.

The loss-for-loss comparison with a hand-written torch loop lives in
tests/engine/test_engine_fit_training.py (``test_fit_matches_hand_written_loop``).
"""
import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import Callback
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential


def _model(seed=0, **compile_kwargs):
    torch.manual_seed(seed)
    model = Sequential([Dense(8, activation="relu", input_dim=20), Dense(3), Activation("softmax")])
    model.compile(optimizer=compile_kwargs.pop("optimizer", "rmsprop"), loss="categorical_crossentropy",
                  device="cpu", **compile_kwargs)
    return model


# --- hook dispatch -------------------------------------------------------------------------
def test_callback_overriding_no_batch_hook_is_never_called_per_batch(blobs, monkeypatch):
    x, y, _ = blobs
    calls = {}

    def counting(hook):
        original = getattr(Callback, hook)

        def wrapper(self, *args, **kwargs):
            calls[hook] = calls.get(hook, 0) + 1
            return original(self, *args, **kwargs)
        return wrapper

    # Patch the base class itself, so a subclass that overrides nothing still inherits the
    # base's (counted) methods and is, correctly, seen as overriding nothing.
    for hook in ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end"):
        monkeypatch.setattr(Callback, hook, counting(hook))

    class EpochOnly(Callback):
        def __init__(self):
            super().__init__()
            self.epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    quiet = [Callback() for _ in range(5)] + [EpochOnly()]
    _model().fit(x, y, batch_size=30, epochs=2, verbose=0, callbacks=quiet)
    assert quiet[-1].epochs == 2
    assert calls == {}

    class Reader(Callback):
        def __init__(self):
            super().__init__()
            self.seen = 0

        def on_batch_end(self, batch, logs=None):
            self.seen += 1

    reader = Reader()
    _model().fit(x, y, batch_size=30, epochs=2, verbose=0, callbacks=quiet + [reader])
    assert reader.seen == 20                       # 300 rows / 30 per batch * 2 epochs
    # Only the overriding callback's alias chain ran: Callback.on_train_batch_end -> Reader.on_batch_end.
    assert calls == {"on_train_batch_end": 20}


# --- lazy batch logs -----------------------------------------------------------------------
class _SyncCounter:
    """Counts the ways a tensor becomes a Python number: item, tolist, float(), numpy."""

    METHODS = ("item", "tolist", "__float__", "numpy", "__int__", "__bool__")

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.METHODS:
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._wrap(original))

    def _wrap(self, original):
        def wrapper(tensor, *args, **kwargs):
            self.count += 1
            return original(tensor, *args, **kwargs)
        return wrapper


def _reads_during_fit(counter, x, y, batch_size, callbacks=()):
    model = _model()
    model.fit(x[:30], y[:30], batch_size=30, epochs=1, verbose=0)  # build and warm up outside the count
    before = counter.count
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=list(callbacks))
    return counter.count - before


def test_batch_logs_are_not_materialised_when_no_one_reads_them(blobs, monkeypatch):
    x, y, _ = blobs
    counter = _SyncCounter(monkeypatch)
    few = _reads_during_fit(counter, x, y, batch_size=100)     # 3 steps
    many = _reads_during_fit(counter, x, y, batch_size=10)     # 30 steps
    assert few == many, f"tensor reads grow with steps: {few} for 3 steps, {many} for 30"

    class Indifferent(Callback):   # overrides on_batch_end but never looks at the logs
        def on_batch_end(self, batch, logs=None):
            assert "loss" in logs   # key lookups are free

    assert _reads_during_fit(counter, x, y, batch_size=10, callbacks=[Indifferent()]) == many

    class LossHistory(Callback):
        def on_train_begin(self, logs=None):
            self.losses = []

        def on_batch_end(self, batch, logs=None):
            self.losses.append(logs.get("loss"))

    reader = LossHistory()
    reading = _reads_during_fit(counter, x, y, batch_size=10, callbacks=[reader])
    assert reading - many == 30    # exactly one read per step, and only because a callback asked
    assert all(type(v) is np.float64 for v in reader.losses)  # numpy scalars, Python floats too


# --- history and memory --------------------------------------------------------------------
def test_history_stores_python_floats(blobs):
    x, y, _ = blobs
    model = _model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"], device="cpu")
    history = model.fit(x, y, batch_size=32, epochs=3, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in history.history.items():
        assert len(values) == 3
        assert all(type(v) is float for v in values), (key, [type(v) for v in values])
    assert all(type(e) is int for e in history.epoch)


_MEMORY_SCRIPT = textwrap.dedent("""
    import json, pickle, resource, sys
    import numpy as np, torch
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((256, 32), dtype=np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 256)]
    model = Sequential([Dense(16, activation="relu", input_dim=32), Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"], device="cpu")
    model.fit(x, y, batch_size=16, epochs=10, validation_split=0.25, verbose=0)
    rss_short = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    history = model.fit(x, y, batch_size=16, epochs=100, validation_split=0.25, verbose=0)
    rss_long = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_short_kb": rss_short, "rss_long_kb": rss_long,
                      "history_bytes": len(pickle.dumps(history.history)) + len(pickle.dumps(history.epoch)),
                      "epochs": len(history.epoch),
                      "types": sorted({type(v).__name__ for vs in history.history.values() for v in vs})}))
""")


def test_hundred_epochs_keep_small_history_and_flat_peak_memory():
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["epochs"] == 100
    assert result["types"] == ["float"]
    # 4 keys of floats: well under a KB per epoch (tensors or graphs would be far more).
    assert result["history_bytes"] / 100 < 1024, result
    # 10 times the epochs must not raise the peak: allow a few MB of allocator noise.
    growth_mb = (result["rss_long_kb"] - result["rss_short_kb"]) / 1024
    assert growth_mb < 8, result


# --- jit_compile and mixed precision ---------------------------------------------------------
def _losses(model, x, y, epochs=2):
    got = []
    model.fit(x, y, batch_size=50, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[kerosene.callbacks.LambdaCallback(on_batch_end=lambda b, logs: got.append(logs["loss"]))])
    return got


def test_mixed_bfloat16_trains_in_bfloat16_with_close_losses(blobs):
    x, y, _ = blobs
    x = x / 5.0   # moderate logits; SGD, unlike RMSprop, does not blow rounding noise up to full-size steps
    # A stale autocast weight cache (steps reusing the first step's bfloat16 weights) fails this by ~30%.
    plain = _losses(_model(optimizer=kerosene.optimizers.SGD(0.05)), x, y)
    mixed_model = _model(optimizer=kerosene.optimizers.SGD(0.05), precision="mixed_bfloat16")
    dtypes = set()
    mixed_model.layers[0].register_forward_hook(lambda m, i, o: dtypes.add(o.dtype))
    mixed = _losses(mixed_model, x, y)
    assert torch.bfloat16 in dtypes                           # autocast was on in the step
    assert all(p.dtype == torch.float32 for p in mixed_model.parameters())  # weights stay float32
    assert all(type(v) is np.float64 for v in mixed)  # batch values read as numpy float64, as Keras 2
    np.testing.assert_allclose(mixed, plain, rtol=0.02, atol=0.01)   # bfloat16 keeps ~3 significant digits
    assert mixed[-1] < mixed[0]                               # and it learns


def test_jit_compile_trains_with_losses_equal_to_eager(blobs):
    # torch.compile on the CPU spends tens of seconds compiling; the model is tiny to keep it short.
    pytest.importorskip("torch._inductor")
    x, y, _ = blobs
    x, y = x[:100], y[:100]
    eager = _losses(_model(), x, y)
    model = _model(jit_compile=True)
    compiled = _losses(model, x, y)
    assert model._compile_state.steps is not None
    np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-6)


# --- bad input -------------------------------------------------------------------------------
def test_bad_precision_and_jit_compile_are_rejected_before_training():
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match="precision"):
        model.compile(optimizer="sgd", loss="mse", precision="float8")


def test_jit_compile_auto_stays_eager():
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    model = Sequential([Dense(2, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse", jit_compile="auto")
    assert model._compile_state.jit_compile is False


def test_mixed_float16_scales_the_loss_and_trains():
    import numpy as np
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((256, 8), dtype=np.float32)
    y = (x @ rng.random((8, 1), dtype=np.float32)).astype(np.float32)
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(1)])
    model.compile(optimizer="adam", loss="mse", precision="mixed_float16", device="cpu")
    history = model.fit(x, y, batch_size=32, epochs=5, verbose=0)
    scaler = model._compile_state.loss_scaler
    assert isinstance(scaler, torch.amp.GradScaler) and scaler.get_scale() > 1
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(p.dtype == torch.float32 for p in model.parameters())
