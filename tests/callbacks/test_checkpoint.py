"""ModelCheckpoint: templates, messages, modes, save_freq, period, thresholds, state, bad input."""
import os
import warnings

import numpy as np
import pytest

from kerosene import layers as L
from kerosene.callbacks import Callback, ModelCheckpoint
from kerosene.models import Sequential, load_model


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
    return x, y


def _model():
    model = Sequential([L.Dense(6, input_dim=4, activation="relu"), L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_template_with_epoch_and_logs_creates_folders(tmp_path):
    x, y = _data()
    template = str(tmp_path / "run" / "nested" / "weights.{epoch:02d}-{val_loss:.2f}.hdf5")
    history = _model().fit(x, y, epochs=3, batch_size=16, verbose=0, validation_data=(x, y),
                           callbacks=[ModelCheckpoint(template)])
    files = sorted(os.listdir(tmp_path / "run" / "nested"))
    expected = [f"weights.{e + 1:02d}-{v:.2f}.hdf5" for e, v in enumerate(history.history["val_loss"])]
    assert files == expected
    restored = load_model(str(tmp_path / "run" / "nested" / expected[-1]))
    assert restored.optimizer is not None


def test_save_weights_only_pt_and_messages(tmp_path, capsys):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[ModelCheckpoint(str(tmp_path / "w{epoch}.pt"), save_weights_only=True, verbose=1)])
    out = capsys.readouterr().out
    assert f"Epoch 00001: saving model to {tmp_path / 'w1.pt'}" in out
    assert f"Epoch 00002: saving model to {tmp_path / 'w2.pt'}" in out
    other = _model()
    other.load_weights(str(tmp_path / "w2.pt"))
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


class _Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.begun = getattr(self, "begun", []) + [epoch]

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


class _ScriptedLogs(Callback):
    """Replaces the monitored value with a scripted sequence (runs before the checkpoint)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


@pytest.mark.parametrize("monitor, values, mode, saves", [
    ("val_loss", [0.5, 0.4, 0.45, 0.3], "auto", [1, 2, 4]),
    ("val_accuracy", [0.5, 0.7, 0.6, 0.9], "auto", [1, 2, 4]),     # auto picks max for accuracy
    ("val_accuracy", [0.5, 0.7, 0.4, 0.9], "min", [1, 3]),
])
def test_save_best_only_modes(tmp_path, capsys, monitor, values, mode, saves):
    x, y = _data()
    saved_epochs = []
    cp = ModelCheckpoint(str(tmp_path / "m.h5"), monitor=monitor, save_best_only=True, mode=mode, verbose=1)
    original_write = cp._write
    cp._write = lambda path: (saved_epochs.append(len(scripted_epochs)), original_write(path))
    recorder = _Recorder()
    scripted_epochs = recorder.epochs
    _model().fit(x, y, epochs=4, batch_size=32, verbose=0, validation_data=(x, y),
                 callbacks=[_ScriptedLogs(monitor, values), recorder, cp])
    assert saved_epochs == saves
    out = capsys.readouterr().out
    if mode == "auto" and monitor == "val_loss":
        assert "Epoch 00001: val_loss improved from inf to 0.50000, saving model to" in out
        assert "Epoch 00003: val_loss did not improve from 0.40000" in out
    assert os.path.exists(tmp_path / "m.h5")


def test_initial_value_threshold(tmp_path):
    x, y = _data()
    cp = ModelCheckpoint(str(tmp_path / "m.h5"), save_best_only=True, initial_value_threshold=0.2)
    _model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                 callbacks=[_ScriptedLogs("val_loss", [0.3, 0.25]), cp])
    assert not os.path.exists(tmp_path / "m.h5") and cp.best == 0.2


def test_missing_monitor_warns_and_skips(tmp_path):
    x, y = _data()
    cp = ModelCheckpoint(str(tmp_path / "m.h5"), monitor="val_loss", save_best_only=True)
    with pytest.warns(RuntimeWarning, match="val_loss"):
        _model().fit(x, y, epochs=2, verbose=0, callbacks=[cp])    # no validation: no val_loss
    assert not os.path.exists(tmp_path / "m.h5")


def test_unknown_template_key_fails_before_the_first_epoch(tmp_path):
    x, y = _data()
    counter = _Recorder()
    cp = ModelCheckpoint(str(tmp_path / "w-{val_f1:.2f}.h5"))
    with pytest.raises(ValueError, match="'val_f1'.*never logs.*val_accuracy"):
        _model().fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[cp, counter])
    assert getattr(counter, "begun", []) == []
    # a user callback before the checkpoint may write 'val_f1' into the epoch logs: the check waits for them
    with pytest.raises(ValueError, match="needs 'val_f1', which is not in the logs"):
        _model().fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[counter, cp])
    assert counter.begun == [0]


def test_keras2_spelling_in_template_and_monitor(tmp_path):
    # metrics=['accuracy'] logs 'val_accuracy'; Keras 2.2 code names it 'val_acc'.
    x, y = _data()
    cp = ModelCheckpoint(str(tmp_path / "w-{epoch}-{val_acc:.3f}.h5"), monitor="val_acc", save_best_only=True,
                         save_weights_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = _model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[cp])
    first = f"w-1-{history.history['val_accuracy'][0]:.3f}.h5"
    assert first in os.listdir(tmp_path) and history.history["val_acc"] is history.history["val_accuracy"]


def test_save_freq_in_batches(tmp_path):
    x, y = _data(64)
    cp = ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.h5"), save_freq=3, save_weights_only=True)
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False, callbacks=[cp])   # 4 batches/epoch
    assert sorted(os.listdir(tmp_path)) == ["b-1-3.h5", "b-2-2.h5"]


def test_period_is_a_deprecated_alias(tmp_path):
    x, y = _data()
    with pytest.warns(DeprecationWarning, match="period"):
        cp = ModelCheckpoint(str(tmp_path / "p{epoch}.h5"), period=2)
    _model().fit(x, y, epochs=5, verbose=0, callbacks=[cp])
    assert sorted(os.listdir(tmp_path)) == ["p2.h5", "p4.h5"]


def test_state_dict_resumes(tmp_path):
    x, y = _data()
    cp = ModelCheckpoint(str(tmp_path / "m.h5"), save_best_only=True)
    _model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                 callbacks=[_ScriptedLogs("val_loss", [0.4, 0.3]), cp])
    state = cp.state_dict()
    assert state["best"] == 0.3 and state["epochs_since_last_save"] == 0
    resumed = ModelCheckpoint(str(tmp_path / "m.h5"), save_best_only=True)
    resumed.load_state_dict(state)
    os.remove(tmp_path / "m.h5")
    _model().fit(x, y, epochs=4, initial_epoch=2, verbose=0, validation_data=(x, y),
                 callbacks=[_ScriptedLogs("val_loss", [0, 0, 0.35, 0.33]), resumed])
    assert not os.path.exists(tmp_path / "m.h5") and resumed.best == 0.3   # no worse model overwrote the best
    with pytest.raises(ValueError, match="monitoring"):
        ModelCheckpoint(str(tmp_path / "m.h5"), monitor="loss").load_state_dict(state | {"monitor": "val_acc"})


def test_only_the_main_process_writes(tmp_path, monkeypatch):
    import kerosene.distributed as dist
    monkeypatch.setattr(dist, "is_main_process", lambda: False)
    x, y = _data()
    cp = ModelCheckpoint(str(tmp_path / "m.h5"))
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[cp])
    assert os.listdir(tmp_path) == [] and cp.last_saved_path == str(tmp_path / "m.h5")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"filepath": 3}, TypeError, "filepath"),
    ({"filepath": "m.txt"}, ValueError, r"\.h5, \.hdf5"),
    ({"filepath": "m.pt"}, ValueError, "whole model"),
    ({"filepath": "m-{}.h5"}, ValueError, "positional"),
    ({"filepath": "m-{epoch.h5"}, ValueError, "template"),
    ({"filepath": "m.h5", "mode": "maximum"}, ValueError, "mode"),
    ({"filepath": "m.h5", "save_freq": 0}, ValueError, "save_freq"),
    ({"filepath": "m.h5", "save_freq": "batch"}, ValueError, "save_freq"),
    ({"filepath": "m.h5", "period": 0}, ValueError, "period"),
    ({"filepath": "m.h5", "save_best_only": "yes"}, TypeError, "save_best_only"),
    ({"filepath": "m.h5", "monitor": "speed", "save_best_only": True}, ValueError, "mode='min'"),
    ({"filepath": "m.h5", "initial_value_threshold": "low"}, TypeError, "initial_value_threshold"),
    ({"filepath": "m.h5", "unknown": 1}, TypeError, "unknown"),
])
def test_bad_arguments(kwargs, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(error, match=match):
            ModelCheckpoint(**kwargs)
