"""Keras 2 callback behaviour on kerosene: instance hooks, Keras 2.2 metric spellings,
``validation_data``, batch-log values, and callbacks driven without fit."""
import csv
import warnings

import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback, ModelCheckpoint,
                                ReduceLROnPlateau)
from kerosene.engine.logs import AliasedLogs, BatchLogs, resolve_log_key
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(3).normal(size=(40, 4)).astype("float32")
Y = np.eye(2, dtype="float32")[(X[:, 0] > 0).astype(int)]


def model(metric="accuracy"):
    m = Sequential([Dense(8, input_dim=4, activation="relu"), Dense(2, activation="softmax")])
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=[metric])
    return m


# --- hooks assigned on an instance ----------------------------------------------------------
def test_hooks_assigned_on_an_instance_are_called():
    calls = []
    cb = Callback()
    cb.on_batch_end = lambda batch, logs: calls.append(("batch", batch))
    cb.on_epoch_end = lambda epoch, logs: calls.append(("epoch", epoch))
    cb.on_test_batch_end = lambda batch, logs: calls.append(("test", batch))
    model().fit(X, Y, batch_size=20, epochs=2, verbose=0, validation_data=(X, Y), callbacks=[cb])
    assert calls == [("batch", 0), ("batch", 1), ("test", 0), ("test", 1), ("epoch", 0),
                     ("batch", 0), ("batch", 1), ("test", 0), ("test", 1), ("epoch", 1)]


def test_listeners_are_decided_per_instance_and_nobody_else_is_called():
    quiet, loud = Callback(), Callback()
    loud.on_train_batch_begin = lambda batch, logs: None
    assert not quiet.overrides("on_train_batch_begin") and not quiet.overrides("on_batch_end")
    assert loud.overrides("on_train_batch_begin") and not loud.overrides("on_train_batch_end")
    lam = LambdaCallback(on_batch_end=lambda b, l: None)
    assert lam.overrides("on_train_batch_end") and not lam.overrides("on_train_batch_begin")
    lam.on_epoch_begin = lambda e, l: None  # assigned after construction: counted too
    assert lam.overrides("on_epoch_begin")


# --- Keras 2.2 metric spellings --------------------------------------------------------------
def test_resolve_log_key_spellings():
    keys = ["loss", "accuracy", "val_accuracy", "out_1_mean_squared_error", "weighted_acc"]
    assert resolve_log_key("acc", keys) == "accuracy"
    assert resolve_log_key("val_acc", keys) == "val_accuracy"
    assert resolve_log_key("out_1_mse", keys) == "out_1_mean_squared_error"
    assert resolve_log_key("weighted_accuracy", keys) == "weighted_acc"
    assert resolve_log_key("val_loss", keys) is None and resolve_log_key("cc", keys) is None


@pytest.mark.parametrize("given, other", [("accuracy", "acc"), ("acc", "accuracy")])
def test_both_spellings_read_one_entry_in_history_logs_and_csv(tmp_path, given, other):
    seen = []
    probe = LambdaCallback(on_batch_end=lambda b, logs: seen.append(logs[other]),
                           on_epoch_end=lambda e, logs: seen.append((logs["val_" + other], "val_" + other in logs)))
    path = tmp_path / "log.csv"
    history = model(given).fit(X, Y, batch_size=20, epochs=2, verbose=0, validation_data=(X, Y),
                               callbacks=[probe, CSVLogger(path)])
    assert history.history[other] is history.history[given]
    assert history.history["val_" + other] == history.history["val_" + given]
    assert sorted(history.history) == sorted(["loss", given, "val_loss", "val_" + given])
    header = next(csv.reader(open(path)))
    assert header == ["epoch", given, "loss", "val_" + given, "val_loss"]
    assert seen[2] == (history.history["val_" + given][0], True)


@pytest.mark.parametrize("monitor", ["val_acc", "val_accuracy"])
def test_monitors_resolve_either_spelling(tmp_path, monitor):
    stop = EarlyStopping(monitor=monitor, patience=2, baseline=1.01)
    reduce = ReduceLROnPlateau(monitor=monitor, patience=0, factor=0.5, min_delta=10)
    keep = ModelCheckpoint(str(tmp_path / "best.h5"), monitor=monitor, save_best_only=True, save_weights_only=True)
    m = model("accuracy" if monitor == "val_acc" else "acc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'never logs' warning
        history = m.fit(X, Y, batch_size=20, epochs=3, verbose=0, validation_data=(X, Y),
                        callbacks=[stop, reduce, keep])
    assert history.epoch == [0, 1] and stop.stopped  # the baseline is never beaten
    assert float(m.optimizer.lr) == pytest.approx(0.005)  # reduced once, after epoch 1
    assert (tmp_path / "best.h5").exists()


# --- validation_data, batch logs -------------------------------------------------------------
def test_validation_data_is_keras2_inputs_targets_and_weights():
    class Grab(Callback):
        def on_train_begin(self, logs=None):
            self.grabbed = self.validation_data

    grab = Grab()
    x_val = X.astype("float64")
    model().fit(X, Y, epochs=1, verbose=0, validation_data=(x_val, Y), callbacks=[grab])
    x, y, w = grab.grabbed
    assert x is x_val and y is Y
    np.testing.assert_array_equal(w, np.ones(40, dtype="float32"))
    weights = np.linspace(0, 1, 40).astype("float32")
    model().fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y, weights), callbacks=[grab])
    assert grab.grabbed[2] is weights
    model().fit(X, Y, epochs=1, verbose=0, callbacks=[grab])
    assert grab.grabbed is None


def test_batch_log_values_are_numpy_scalars_read_lazily():
    logs = BatchLogs({"loss": torch.tensor(0.25), "accuracy": torch.tensor(0.5)}, batch=3, size=8)
    assert logs._lazy and "acc" in logs and logs._lazy  # keys and membership cost no transfer
    loss = logs["loss"]
    assert type(loss) is np.float64 and isinstance(loss, float) and loss[()] == 0.25
    assert logs["acc"] == 0.5 and logs["batch"] == 3 and type(logs["size"]) is int
    seen = []
    model().fit(X, Y, batch_size=20, epochs=1, verbose=0,
                callbacks=[LambdaCallback(on_batch_end=lambda b, logs: seen.append(type(logs["loss"])))])
    assert seen == [np.float64, np.float64]


def test_aliased_logs_keep_one_key_per_value():
    logs = AliasedLogs(val_accuracy=0.75)
    assert logs["val_acc"] == 0.75 and logs.get("val_acc") == 0.75 and logs.get("acc", "none") == "none"
    assert list(logs) == ["val_accuracy"] and "{val_acc:.2f}".format_map(logs) == "0.75"
    with pytest.raises(KeyError):
        logs["acc"]


# --- callbacks driven without fit, on anything with the Keras 2 surface -----------------------
def test_reduce_lr_on_plateau_with_an_lr_variable():
    class Optimizer:
        def __init__(self):
            self.lr = K.variable(1.0)

    class Plain:
        optimizer = Optimizer()

    plateau = ReduceLROnPlateau(monitor="val_loss", patience=2)
    plateau.model = Plain()
    rates = []
    for epoch, loss in enumerate([0.0860, 0.1096, 0.1040]):
        plateau.on_epoch_end(epoch, {"val_loss": loss})
        rates.append(K.get_value(plateau.model.optimizer.lr))
    assert rates == [1.0, 1.0, pytest.approx(0.1)]


def test_reduce_lr_on_plateau_epsilon_warns_in_keras2_words():
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated and will be removed, use `min_delta`"):
        plateau = ReduceLROnPlateau(epsilon=1e-13)
    assert plateau.min_delta == 1e-13 and not hasattr(plateau, "epsilon")


def test_input_dim_on_a_later_layer_is_ignored():
    m = Sequential([Dense(3, input_dim=4), Dense(2, input_dim=99)])
    m.compile("sgd", "mse")
    assert m.predict(X).shape == (40, 2) and m.layers[1].input_shape == (None, 3)
    with pytest.raises(ValueError, match="expected shape \\(None, 4\\)"):
        m.predict(np.zeros((2, 5), "float32"))
