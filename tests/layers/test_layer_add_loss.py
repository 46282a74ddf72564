"""Layer.add_loss from inside call (Keras 2 custom layers): the call's tensors join that step's loss."""
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Sequential

RNG = np.random.default_rng(1)
X = RNG.random((12, 3)).astype("float32")
Y = RNG.random((12, 3)).astype("float32")


class MeanPenalty(L.Layer):
    """Identity adding ``rate * mean(x)`` of its input to the loss."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * inputs.mean(), inputs=inputs)
        return inputs


@pytest.mark.parametrize("declared", [False, True])
def test_call_losses_join_the_step_loss(declared):
    layer = MeanPenalty(2.0, input_shape=(3,)) if declared else MeanPenalty(2.0)
    model = Sequential([L.Dense(3, input_dim=3), layer] if not declared else [layer])
    model.compile("sgd", "mse")
    pred = model.predict(X, verbose=0)
    inner = X if declared else model.layers[0](torch.from_numpy(X)).detach().numpy()
    expected = ((pred - Y) ** 2).mean() + 2.0 * inner.mean()
    np.testing.assert_allclose(model.evaluate(X, Y, batch_size=12, verbose=0), expected, rtol=1e-5)
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    assert len(layer.losses) == 1          # replaced at each call, never accumulated


def test_callable_losses_are_called_each_step():
    layer = L.Dense(3, input_dim=3)
    layer.add_loss(lambda: 0.0 * layer.kernel.sum() + 1.5)
    model = Sequential([layer])
    model.compile("sgd", "mse")
    pred = model.predict(X, verbose=0)
    np.testing.assert_allclose(model.evaluate(X, Y, batch_size=12, verbose=0), ((pred - Y) ** 2).mean() + 1.5,
                               rtol=1e-5)


def test_bad_losses_are_refused():
    layer = L.Dense(2)
    with pytest.raises(TypeError, match="Layer 'dense.*'.add_loss: `losses` must be tensors.*str"):
        layer.add_loss("l2")
    with pytest.raises(TypeError, match="use model.add_loss"):
        layer.add_loss(L.Input((3,)))
