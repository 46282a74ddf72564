"""A stateful RNN given a fixed batch size takes batches of that size only (Keras 2): fit, evaluate and
predict with another batch size are a ValueError naming the layer and both sizes, before any weight moves."""
import numpy as np
import pytest

from kerosene import layers as L
from kerosene.models import Sequential

X = np.random.RandomState(0).rand(8, 3, 2).astype("float32")
Y = np.random.RandomState(1).rand(8, 4).astype("float32")


@pytest.mark.parametrize("make", [lambda: L.LSTM(4, stateful=True, batch_input_shape=(2, 3, 2)),
                                  lambda: L.GRU(4, stateful=True, batch_input_shape=(2, 3, 2)),
                                  lambda: L.RNN(L.SimpleRNNCell(4), stateful=True, batch_input_shape=(2, 3, 2))])
def test_a_fixed_batch_size_is_enforced_with_a_named_error(make):
    model = Sequential([make()])
    model.compile("sgd", "mse")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"Stateful layer '\w+' takes batches of 2 samples .* got a batch of 8"):
        model.fit(X, Y, verbose=0)                    # the default batch_size=32: one batch of 8
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match=r"got a batch of 3"):
        model.predict(X, batch_size=3)
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    assert model.predict(X, batch_size=2).shape == (8, 4)
    assert np.isfinite(model.evaluate(X, Y, batch_size=2, verbose=0))


def test_without_a_fixed_batch_size_the_first_batch_sets_it():
    model = Sequential([L.LSTM(4, stateful=True, input_shape=(3, 2))])
    model.compile("sgd", "mse")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match=r"got a batch of 2 after batches of 4; call reset_states\(\)"):
        model.predict(X[:2], batch_size=2)


def test_a_fixed_batch_size_shows_in_the_model_shapes_and_config_as_keras_2():
    model = Sequential([L.LSTM(4, stateful=True, batch_input_shape=(2, 3, 2)), L.Dense(1)])
    assert model.input_shape == (2, 3, 2) and model.output_shape == (2, 1) and model.input.shape == (2, 3, 2)
    assert model.get_config()["layers"][0]["config"]["batch_input_shape"] == [2, 3, 2]
    inputs = L.Input(batch_shape=(2, 3, 2))
    assert L.LSTM(4)(inputs).shape == (2, 4)
    assert Sequential([L.Dense(2, input_dim=3)]).output_shape == (None, 2)   # no fixed size: unknown
