"""SwapEMAWeights: the average checked against numpy and Keras 3's use_ema optimizers,
and swapped in exactly where it should be."""
import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")

from kerosene import optimizers
from kerosene.callbacks import Callback, SwapEMAWeights
from kerosene.layers import Dense
from kerosene.models import Sequential

RNG = np.random.default_rng(5)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = (X @ RNG.normal(size=(4, 2))).astype("float32")
XV = RNG.normal(size=(16, 4)).astype("float32")
YV = (XV @ RNG.normal(size=(4, 2))).astype("float32")
MOMENTUM = 0.9


def model(weights=None):
    m = Sequential([Dense(2, input_dim=4)])
    m.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
    if weights is not None:
        m.set_weights(weights)
    return m


class Recorder(Callback):
    """Weights after every batch and at every epoch end (as this callback sees them)."""

    def __init__(self):
        super().__init__()
        self.batches = []
        self.epochs = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append([np.array(w, copy=True) for w in self.model.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append([np.array(w, copy=True) for w in self.model.get_weights()])


def numpy_ema(batches, upto=None):
    batches = batches[:upto]
    average = [w.copy() for w in batches[0]]
    for weights in batches[1:]:
        average = [MOMENTUM * a + (1 - MOMENTUM) * w for a, w in zip(average, weights)]
    return average


def run(swap_on_epoch=False, epochs=3):
    torch.manual_seed(0)
    m = model()
    rec = Recorder()
    ema = SwapEMAWeights(swap_on_epoch=swap_on_epoch, ema_momentum=MOMENTUM)
    history = m.fit(X, Y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, validation_data=(XV, YV),
                    callbacks=[ema, rec])
    return m, rec, ema, history


def test_average_matches_numpy_and_the_model_keeps_it_after_training():
    m, rec, _, _ = run()
    assert len(rec.batches) == 12
    for got, want in zip(m.get_weights(), numpy_ema(rec.batches)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_validation_uses_the_average_and_training_weights_come_back():
    m, rec, _, history = run()
    # Validation of the last epoch ran with the final average, which the model now holds.
    assert history.history["val_loss"][-1] == pytest.approx(m.evaluate(XV, YV, verbose=0), rel=1e-6)
    # After each validation the training weights were back in place.
    for epoch, weights in enumerate(rec.epochs):
        for got, want in zip(weights, rec.batches[4 * epoch + 3]):
            np.testing.assert_array_equal(got, want)
    assert not np.allclose(rec.epochs[-1][0], m.get_weights()[0])


def test_swap_on_epoch_shows_the_average_to_later_callbacks_without_changing_training():
    m_plain, rec_plain, _, _ = run(swap_on_epoch=False)
    m, rec, _, _ = run(swap_on_epoch=True)
    for epoch, weights in enumerate(rec.epochs):
        for got, want in zip(weights, numpy_ema(rec_plain.batches, upto=4 * epoch + 4)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for a, b in zip(rec.batches, rec_plain.batches):
        np.testing.assert_array_equal(a[0], b[0])
    for a, b in zip(m.get_weights(), m_plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_matches_keras3_use_ema():
    keras = pytest.importorskip("keras")
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    k.compile(optimizer=keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=MOMENTUM), loss="mse")
    m = model(k.get_weights())
    k.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    m.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[SwapEMAWeights(ema_momentum=MOMENTUM)])
    for a, b in zip(k.get_weights(), m.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_predict_swaps_in_and_back():
    m = model()
    ema = SwapEMAWeights(ema_momentum=MOMENTUM)
    rec = Recorder()
    m.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[ema, rec])
    # Put training weights back in the model to see predict use the average.
    average = m.get_weights()
    m.set_weights(rec.batches[-1])
    np.testing.assert_allclose(m.predict(XV, verbose=0, callbacks=[ema]), XV @ average[0] + average[1],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(m.get_weights()[0], rec.batches[-1][0])


def test_state_dict_round_trip():
    _, _, ema, _ = run(epochs=1)
    state = ema.state_dict()
    assert state["steps"] == 4 and len(state["average"]) == 2
    other = SwapEMAWeights(ema_momentum=MOMENTUM)
    other.set_model(ema.model)
    other.load_state_dict(state)
    for a, b in zip(other.state_dict()["average"], state["average"]):
        np.testing.assert_array_equal(a, b)


def test_evaluate_before_any_fit_is_a_clear_error():
    with pytest.raises(ValueError, match="pass it to fit"):
        model().evaluate(XV, YV, verbose=0, callbacks=[SwapEMAWeights()])


@pytest.mark.parametrize("momentum,error", [(1.0, ValueError), (-0.1, ValueError), ("high", TypeError)])
def test_bad_momentum(momentum, error):
    with pytest.raises(error, match="ema_momentum"):
        SwapEMAWeights(ema_momentum=momentum)
