"""fit/evaluate/predict: hook order, log keys, stop semantics."""
import numpy as np
import pytest

import kerosene
from kerosene.callbacks import Callback, LambdaCallback, TerminateOnNaN
from fit_helpers import Recorder, small_model  # tests/engine/fit_helpers.py


def test_fit_hook_order_with_validation(blobs, seeded):
    x, y, _ = blobs
    model = small_model(metrics=["accuracy"])
    rec = Recorder()
    history = model.fit(x[:100], y[:100], batch_size=50, epochs=2, verbose=0,
                        validation_data=(x[100:160], y[100:160]), callbacks=[rec])
    one_epoch = ["epoch_begin", "batch_begin", "batch_end", "batch_begin", "batch_end",
                 "test_begin", "test_batch_begin", "test_batch_end", "test_batch_begin", "test_batch_end",
                 "test_batch_begin", "test_batch_end", "test_end", "epoch_end"]
    # validation of 60 samples at batch size 50: 2 test batches
    one_epoch = one_epoch[:6] + ["test_batch_begin", "test_batch_end"] * 2 + ["test_end", "epoch_end"]
    assert rec.names() == ["train_begin"] + one_epoch * 2 + ["train_end"]
    batch_end = [c for c in rec.calls if c[0] == "batch_end"][0]
    assert set(batch_end[2]) == {"batch", "size", "loss", "accuracy"}
    assert batch_end[2]["size"] == 50 and batch_end[2]["batch"] == 0
    epoch_end = [c for c in rec.calls if c[0] == "epoch_end"][0]
    assert list(epoch_end[2]) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(type(v) is float for v in epoch_end[2].values())
    assert rec.calls[-1][1] == epoch_end[2] or rec.calls[-1][1].keys() == epoch_end[2].keys()
    assert history.epoch == [0, 1]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.params["epochs"] == 2 and history.params["steps"] == 2
    assert history.params["metrics"] == ["loss", "accuracy", "val_loss", "val_accuracy"]


def test_epoch_logs_are_size_weighted_means_of_batch_values(blobs, seeded):
    x, y, _ = blobs
    model = small_model(optimizer=kerosene.optimizers.SGD(learning_rate=0.0))
    losses, sizes = [], []
    cb = LambdaCallback(on_batch_end=lambda b, logs: (losses.append(logs["loss"]), sizes.append(logs["size"])))
    history = model.fit(x[:70], y[:70], batch_size=32, epochs=1, verbose=0, shuffle=False, callbacks=[cb])
    assert sizes == [32, 32, 6]
    expected = sum(l * s for l, s in zip(losses, sizes)) / 70
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    # lr=0: the evaluate loss over the same data is the same mean
    assert model.evaluate(x[:70], y[:70], batch_size=32, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_evaluate_and_predict_hooks(blobs):
    x, y, _ = blobs
    model = small_model(metrics=["acc"])
    rec = Recorder()
    result = model.evaluate(x[:64], y[:64], batch_size=32, verbose=0, callbacks=[rec])
    assert isinstance(result, list) and len(result) == 2
    assert rec.names() == ["test_begin"] + ["test_batch_begin", "test_batch_end"] * 2 + ["test_end"]
    assert set(rec.calls[2][2]) == {"batch", "size", "loss", "acc"}
    assert set(rec.calls[-1][1]) == {"loss", "acc"}
    rec = Recorder()
    out = model.predict(x[:40], batch_size=32, callbacks=[rec])
    assert out.shape == (40, 3)
    assert rec.names() == ["predict_begin"] + ["predict_batch_begin", "predict_batch_end"] * 2 + ["predict_end"]
    assert rec.calls[2][2]["outputs"].shape == (32, 3)


def test_evaluate_returns_scalar_without_metrics(blobs):
    x, y, _ = blobs
    model = small_model()
    value = model.evaluate(x, y, verbose=0)
    assert isinstance(value, float)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss"}
    assert model.metrics_names == ["loss"]


def test_stop_training_in_batch_end_stops_within_epoch_and_skips_validation(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()

    class StopAt(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    history = model.fit(x[:200], y[:200], batch_size=20, epochs=5, verbose=0,
                        validation_data=(x[200:], y[200:]), callbacks=[StopAt(), rec])
    assert rec.names().count("batch_end") == 2
    assert "test_begin" not in rec.names()
    assert rec.names()[-2:] == ["epoch_end", "train_end"]
    assert history.epoch == [0]
    assert "val_loss" not in history.history
    assert model.stop_reason == "stop_training"


def test_stop_training_in_epoch_end_stops_after_epoch(blobs):
    x, y, _ = blobs
    model = small_model()

    class StopAfter(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, batch_size=100, epochs=10, verbose=0, callbacks=[StopAfter()])
    assert history.epoch == [0, 1]


def test_stop_training_set_in_train_begin_is_kept(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    stopper = LambdaCallback(on_train_begin=lambda logs: setattr(model, "stop_training", True))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[stopper, rec])
    assert rec.names().count("epoch_end") == 1


def test_on_train_end_runs_on_error_and_reason_recorded(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()

    class Boom(Callback):
        def on_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[rec, Boom()])
    assert rec.names()[-1] == "train_end"
    assert model.stop_reason == "error"


def test_keyboard_interrupt_runs_on_train_end(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()

    class Interrupt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[rec, Interrupt()])
    assert rec.names()[-1] == "train_end"
    assert model.stop_reason == "interrupted"


def test_on_train_end_gets_last_epoch_logs_and_completed_reason(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[rec], validation_split=0.2)
    assert set(rec.calls[-1][1]) == {"loss", "val_loss"}
    assert model.stop_reason == "completed"


def test_terminate_on_nan(blobs, capsys):
    x, y, _ = blobs
    x = x.copy()
    x[45] = np.nan
    model = small_model()
    rec = Recorder()
    history = model.fit(x, y, batch_size=10, epochs=3, verbose=0, shuffle=False,
                        validation_split=0.1, callbacks=[TerminateOnNaN(), rec])
    assert rec.names().count("batch_end") == 5
    assert history.epoch == [0] and "val_loss" not in history.history
    assert model.stop_reason == "nan"
    assert "Batch 4: Invalid loss, terminating training" in capsys.readouterr().out
