"""EarlyStopping: exact stop epochs from scripted monitor values, Keras 3 as an oracle,
restore_best_weights on every way training ends, resumable state, bad input."""
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

from kerosene.callbacks import Callback, EarlyStopping, LambdaCallback
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype="float32")


class Script(Callback):
    """Writes the scripted value of ``key`` for each epoch into the epoch logs."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values = list(values)
        self.key = key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = float(self.values[epoch])


class WeightsPerEpoch(Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = [np.array(w, copy=True) for w in self.model.get_weights()]


def model():
    m = Sequential([Dense(1, input_dim=4)])
    m.compile(optimizer="sgd", loss="mse")
    return m


def run(values, epochs=None, extra=(), initial_epoch=0, **kwargs):
    es = EarlyStopping(**kwargs)
    m = model()
    history = m.fit(X, Y, batch_size=16, epochs=epochs or len(values), verbose=0, validation_data=(X, Y),
                    initial_epoch=initial_epoch, callbacks=[Script(values), es, *extra])
    return history.epoch, es, m


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def run_keras(keras, values, **kwargs):
    class KScript(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = float(values[epoch])

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    es = keras.callbacks.EarlyStopping(**kwargs)
    history = m.fit(X, Y, batch_size=16, epochs=len(values), verbose=0, callbacks=[KScript(), es])
    return history.epoch, es


# --- exact stop epochs, checked against Keras 3 where Keras 2 and 3 agree ----------------------
ORACLE_CASES = [
    ([1.0, 0.9, 0.95, 0.8, 0.7], dict(patience=0), 2),
    ([1.0, 0.9, 0.95, 0.96, 0.85, 0.9, 0.91, 0.92], dict(patience=2), 3),
    ([1.0, 0.9, 0.95, 0.96, 0.85, 0.9, 0.91, 0.92], dict(patience=3), 7),
    ([1.0, 0.97, 0.95, 0.80, 0.79, 0.78, 0.6], dict(patience=2, min_delta=0.05), 2),
    ([1.0, 0.97, 0.90, 0.89, 0.88, 0.6], dict(patience=2, min_delta=0.05), 4),
    ([0.1, 0.2, 0.3, 0.25, 0.26, 0.4], dict(patience=2, mode="max"), 4),
    ([1.0, 2.0, 3.0, 0.5, 0.6, 0.7, 0.8], dict(patience=1, start_from_epoch=3), 4),
    ([1.0, 0.9, 0.8, 0.7, 0.6], dict(patience=0), None),
]


@pytest.mark.parametrize("values,kwargs,stop", ORACLE_CASES)
def test_stop_epoch_matches_expectation_and_keras3(keras, values, kwargs, stop):
    epochs, es = run(values, **kwargs)[:2]
    expected_epochs = list(range(len(values) if stop is None else stop + 1))
    assert epochs == expected_epochs
    assert es.stopped_epoch == (stop or 0)
    k_epochs, k_es = run_keras(keras, values, **kwargs)
    assert epochs == list(k_epochs)
    assert es.stopped_epoch == k_es.stopped_epoch


def test_baseline_keras2_semantics():
    # The baseline is never beaten: patience 2 counts from epoch 0 (Keras 2 rule).
    epochs, es, _ = run([1.0, 0.9, 0.8, 0.1], baseline=0.5, patience=2)
    assert epochs == [0, 1] and es.stopped_epoch == 1 and es.best == 0.5
    # Beating the baseline counts as an improvement and resets the wait.
    epochs, es, _ = run([0.9, 0.4, 0.45, 0.46, 0.47], baseline=0.5, patience=2)
    assert epochs == [0, 1, 2, 3] and es.best == 0.4
    # patience 0 with a baseline not beaten on the first epoch stops right away.
    epochs, es, _ = run([0.9, 0.1], baseline=0.5, patience=0)
    assert epochs == [0] and es.stopped_epoch == 0 and es.stopped


def test_wait_and_best_are_readable():
    _, es, _ = run([1.0, 0.5, 0.6, 0.7], patience=5)
    assert es.best == 0.5 and es.wait == 2 and es.best_epoch == 1 and not es.stopped


def test_negative_min_delta_is_taken_as_its_size():
    a = run([1.0, 0.97, 0.95, 0.80], patience=1, min_delta=-0.05)[0]
    b = run([1.0, 0.97, 0.95, 0.80], patience=1, min_delta=0.05)[0]
    assert a == b == [0, 1]


def test_auto_mode_goes_up_for_accuracy_like_names():
    es = EarlyStopping(monitor="val_auc")
    assert es.mode == "max"
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    assert EarlyStopping(monitor="loss").mode == "min"


def test_verbose_messages(capsys):
    run([1.0, 0.9, 0.95, 0.96], patience=1, verbose=1, restore_best_weights=True)
    out = capsys.readouterr().out
    assert "Epoch 00003: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


# --- restore_best_weights ----------------------------------------------------------------------
def _predictions_with(weights):
    m = model()
    m.set_weights(weights)
    return m.predict(X, verbose=0)


def _check_restored(m, recorder, best_epoch):
    for got, want in zip(m.get_weights(), recorder.weights[best_epoch]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(m.predict(X, verbose=0), _predictions_with(recorder.weights[best_epoch]),
                               rtol=0, atol=0)


def test_restore_when_patience_runs_out():
    before, after = WeightsPerEpoch(), WeightsPerEpoch()
    es = EarlyStopping(patience=2, restore_best_weights=True)
    m = model()
    history = m.fit(X, Y, batch_size=16, epochs=5, verbose=0, validation_data=(X, Y),
                    callbacks=[Script([1.0, 0.5, 0.7, 0.8, 0.9]), before, es, after])
    assert history.epoch == [0, 1, 2, 3] and es.best_epoch == 1
    assert not np.array_equal(before.weights[1][0], before.weights[3][0])
    _check_restored(m, before, 1)
    # As in Keras 2, the weights come back in the epoch that stops: later callbacks see them.
    np.testing.assert_array_equal(after.weights[3][0], before.weights[1][0])


def test_restore_works_with_any_model_with_get_and_set_weights():
    class Plain:  # not a kerosene model: an int for weights, as Keras 2's own test uses
        stop_training = False
        weights = -1

        def get_weights(self):
            return self.weights

        def set_weights(self, weights):
            self.weights = weights

    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    es.model = Plain()
    es.on_train_begin()
    for epoch, loss in enumerate([0.2, 0.15, 0.1, 0.11, 0.12]):
        es.model.weights = epoch
        es.on_epoch_end(epoch, {"val_loss": loss})
        if es.model.stop_training:
            break
    assert es.model.get_weights() == 2 and es.stopped_epoch == 4


def test_restore_when_epochs_run_out():
    rec = WeightsPerEpoch()
    epochs, es, m = run([1.0, 0.5, 0.7, 0.8], patience=10, restore_best_weights=True, extra=[rec])
    assert epochs == [0, 1, 2, 3] and not es.stopped
    _check_restored(m, rec, 1)


def test_restore_when_another_callback_stops():
    rec = WeightsPerEpoch()

    def stop_at_2(epoch, logs):
        if epoch == 2:
            m_holder[0].stop_training = True

    m_holder = []
    es = EarlyStopping(patience=10, restore_best_weights=True)
    m = model()
    m_holder.append(m)
    m.fit(X, Y, batch_size=16, epochs=6, verbose=0, validation_data=(X, Y),
          callbacks=[Script([1.0, 0.3, 0.9, 0.2, 0.1, 0.1]), es, rec, LambdaCallback(on_epoch_end=stop_at_2)])
    assert m.stop_reason == "stop_training"
    _check_restored(m, rec, 1)


def test_restore_when_training_fails():
    rec = WeightsPerEpoch()

    def boom(epoch, logs):
        if epoch == 2:
            raise RuntimeError("boom")

    es = EarlyStopping(patience=10, restore_best_weights=True)
    m = model()
    with pytest.raises(RuntimeError, match="boom"):
        m.fit(X, Y, batch_size=16, epochs=6, verbose=0, validation_data=(X, Y),
              callbacks=[Script([0.8, 0.3, 0.9, 0.2]), es, rec, LambdaCallback(on_epoch_end=boom)])
    _check_restored(m, rec, 1)


def test_restore_best_epoch_when_baseline_is_never_beaten():
    rec = WeightsPerEpoch()
    epochs, es, m = run([0.9, 0.7, 0.8], baseline=0.5, patience=3, restore_best_weights=True, extra=[rec])
    assert epochs == [0, 1, 2] and es.best_epoch == 1
    _check_restored(m, rec, 1)


def test_no_restore_without_the_flag():
    rec = WeightsPerEpoch()
    _, _, m = run([1.0, 0.5, 0.7, 0.8], patience=10, extra=[rec])
    for got, want in zip(m.get_weights(), rec.weights[3]):
        np.testing.assert_array_equal(got, want)


# --- state --------------------------------------------------------------------------------------
def test_state_dict_resumes_the_count_exactly():
    values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5]
    full_epochs, full_es, _ = run(values, patience=3, restore_best_weights=True)
    assert full_epochs == [0, 1, 2, 3, 4]

    first = EarlyStopping(patience=3, restore_best_weights=True)
    m = model()
    m.fit(X, Y, batch_size=16, epochs=3, verbose=0, validation_data=(X, Y), callbacks=[Script(values), first])
    state = first.state_dict()
    assert state["wait"] == 1 and state["best"] == 0.9 and state["best_epoch"] == 1
    assert len(state["best_weights"]) == 2

    second = EarlyStopping(patience=3, restore_best_weights=True)
    restore = LambdaCallback(on_train_begin=lambda logs: second.load_state_dict(state))
    history = m.fit(X, Y, batch_size=16, epochs=6, initial_epoch=3, verbose=0, validation_data=(X, Y),
                    callbacks=[Script(values), second, restore])
    assert history.epoch == [3, 4] and second.stopped_epoch == full_es.stopped_epoch == 4
    for got, want in zip(m.get_weights(), state["best_weights"]):
        np.testing.assert_array_equal(got, want)


def test_a_second_fit_starts_fresh():
    es = EarlyStopping(patience=1)
    m = model()
    m.fit(X, Y, batch_size=16, epochs=3, verbose=0, validation_data=(X, Y),
          callbacks=[Script([1.0, 1.1, 1.2]), es])
    assert es.stopped_epoch == 1
    history = m.fit(X, Y, batch_size=16, epochs=3, verbose=0, validation_data=(X, Y),
                    callbacks=[Script([5.0, 4.0, 3.0]), es])
    assert history.epoch == [0, 1, 2] and es.stopped_epoch == 0 and es.best == 3.0


# --- monitors that may be absent ---------------------------------------------------------------------
def test_monitor_never_logged_warns_at_train_begin_and_each_epoch():
    es = EarlyStopping(monitor="val_loss", patience=0)
    m = model()
    with pytest.warns(RuntimeWarning) as caught:
        m.fit(X, Y, batch_size=16, epochs=2, verbose=0, callbacks=[es])
    messages = [str(w.message) for w in caught]
    assert any("never logs" in msg for msg in messages)
    assert sum("not available" in msg for msg in messages) == 2


def test_validation_every_n_epochs_warns_once_and_skips_quietly():
    es = EarlyStopping(monitor="val_loss", patience=0)
    m = model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = m.fit(X, Y, batch_size=16, epochs=6, verbose=0, validation_data=(X, Y), validation_freq=2,
                        callbacks=[es])
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert sum("validation_freq" in msg for msg in messages) == 1
    assert not any("not available" in msg for msg in messages)
    assert "val_loss" in history.history


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,error,words", [
    (dict(mode="bogus"), ValueError, "mode"),
    (dict(patience=-1), ValueError, "patience"),
    (dict(patience=1.5), ValueError, "patience"),
    (dict(monitor="val_wobble"), ValueError, "mode='min'"),
    (dict(monitor=3), TypeError, "monitor"),
    (dict(min_delta="a"), TypeError, "min_delta"),
    (dict(baseline="low"), TypeError, "baseline"),
    (dict(start_from_epoch=-2), ValueError, "start_from_epoch"),
    (dict(restore_best_weights="yes"), TypeError, "restore_best_weights"),
])
def test_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        EarlyStopping(**kwargs)


def test_unknown_name_accepted_with_explicit_mode():
    assert EarlyStopping(monitor="val_wobble", mode="max").mode == "max"


def test_verbose_may_be_a_bool(capsys):
    run([1.0, 1.1], patience=0, verbose=True)
    assert "Epoch 00002: early stopping" in capsys.readouterr().out
