"""A monitor the logs never hold: an error at the first epoch end when it looks like a misspelt
logged key ('vall_loss'), Keras 2's warning otherwise; keys written by other callbacks and keys
logged only on some epochs are not errors."""
import warnings

import numpy as np
import pytest

from kerosene.callbacks import Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from kerosene.layers import Dense
from kerosene.models import Sequential

RNG = np.random.RandomState(0)
X = RNG.rand(16, 4).astype("float32")
Y = np.eye(2, dtype="float32")[np.arange(16) % 2]


class Epochs(Callback):
    def on_train_begin(self, logs=None):
        self.ended = 0

    def on_epoch_end(self, epoch, logs=None):
        self.ended += 1


def fit(callbacks, epochs=3, **kwargs):
    m = Sequential([Dense(2, activation="softmax", input_shape=(4,))])
    m.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    counter = Epochs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m.fit(X, Y, epochs=epochs, verbose=0, callbacks=[counter] + callbacks, **kwargs)
        finally:
            fit.warnings = [str(w.message) for w in caught]
    return counter.ended


MONITORS = {
    "EarlyStopping": lambda monitor, tmp: EarlyStopping(monitor=monitor, mode="min", patience=10),
    "ReduceLROnPlateau": lambda monitor, tmp: ReduceLROnPlateau(monitor=monitor, mode="min"),
    "ModelCheckpoint": lambda monitor, tmp: ModelCheckpoint(str(tmp / "best.h5"), monitor=monitor, mode="min",
                                                            save_best_only=True),
}


@pytest.mark.parametrize("owner", sorted(MONITORS))
@pytest.mark.parametrize("monitor, close", [("vall_loss", "val_loss"), ("val_acuracy", "val_accuracy"),
                                            ("los", "loss")])
def test_a_misspelt_monitor_is_an_error_at_the_first_epoch_end(owner, monitor, close, tmp_path):
    callback = MONITORS[owner](monitor, tmp_path)
    counter = Epochs()
    m = Sequential([Dense(2, activation="softmax", input_shape=(4,))])
    m.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=rf"{owner} monitors '{monitor}', which the first epoch did not log; "
                                             rf"did you mean '{close}'\? The epoch logged: .*val_loss"):
            m.fit(X, Y, epochs=3, verbose=0, validation_split=0.25, callbacks=[counter, callback])
    assert counter.ended == 1
    said = [str(w.message) for w in caught if "never logs" in str(w.message)]
    assert said and f"did you mean '{close}'?" in said[0], [str(w.message) for w in caught]


@pytest.mark.parametrize("owner", sorted(MONITORS))
def test_val_monitor_without_validation_only_warns_as_in_keras2(owner, tmp_path):
    assert fit([MONITORS[owner]("val_loss", tmp_path)]) == 3
    assert any("val_loss" in w for w in fit.warnings)


@pytest.mark.parametrize("owner", sorted(MONITORS))
def test_a_name_like_no_logged_key_only_warns(owner, tmp_path):
    assert fit([MONITORS[owner]("f1_macro", tmp_path)], validation_split=0.25) == 3
    assert any("f1_macro" in w for w in fit.warnings)


class Writes(Callback):
    def __init__(self, key, every=1):
        super().__init__()
        self.key, self.every = key, every

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every == 0:
            logs[self.key] = float(epoch)


@pytest.mark.parametrize("owner", sorted(MONITORS))
def test_a_key_another_callback_writes_is_no_error(owner, tmp_path):
    # 'los' looks like 'loss', but the callback before the monitor writes it: it is read
    assert fit([Writes("los"), MONITORS[owner]("los", tmp_path)]) == 3
    assert not any("not available" in w or "skipping" in w for w in fit.warnings), fit.warnings


def test_a_key_written_after_the_first_epoch_is_no_error():
    assert fit([Writes("los", every=2), EarlyStopping(monitor="los", mode="min", patience=5)], epochs=4) == 4


def test_a_val_monitor_logged_only_on_some_epochs_is_no_error(tmp_path):
    callbacks = [MONITORS[o]("val_loss", tmp_path) for o in sorted(MONITORS)]
    assert fit(callbacks, epochs=4, validation_split=0.25, validation_freq=2) == 4


def test_keras2_spelling_is_no_misspelling():
    assert fit([EarlyStopping(monitor="val_acc", patience=5)], validation_split=0.25) == 3
    assert not any("val_acc" in w for w in fit.warnings), fit.warnings
