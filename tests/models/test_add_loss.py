"""model.add_loss: a symbolic expression of the model's tensors, computed each step from that step's tensors."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene import layers as L
from kerosene.models import Model, Sequential, load_model

RNG = np.random.default_rng(0)
X = RNG.random((16, 3)).astype("float32")
Y = RNG.random((16, 1)).astype("float32")


class CountCalls(L.Layer):
    """Identity that counts its forward passes."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, inputs):
        self.calls += 1
        return inputs


def _model():
    a = L.Input((3,), name="a")
    h = L.Dense(4, name="h")(a)
    model = Model(a, L.Dense(1, name="out")(h))
    return model, h


def test_symbolic_expression_is_added_to_the_loss():
    model, h = _model()
    model.add_loss(K.mean(K.square(h)) * 0.5)
    model.compile("sgd", "mse")
    hidden = K.function([model.input], [h])([X])[0]
    pred = model.predict(X, verbose=0)
    expected = ((pred - Y) ** 2).mean() + 0.5 * (hidden ** 2).mean()
    np.testing.assert_allclose(model.evaluate(X, Y, batch_size=16, verbose=0), expected, rtol=1e-5)
    np.testing.assert_allclose(model.test_on_batch(X, Y), expected, rtol=1e-5)


def test_added_loss_alone_trains_with_its_gradient():
    a = L.Input((3,))
    h = L.Dense(4, name="h")(a)
    out = L.Dense(4, name="o")(a)
    model = Model(a, [h, out])
    model.add_loss(K.mean(K.square(h + out)))
    model.compile("sgd", loss=None)
    before = model.evaluate(X, None, verbose=0)
    model.fit(X, None, epochs=5, batch_size=4, verbose=0)
    assert model.evaluate(X, None, verbose=0) < before


def test_expression_uses_the_same_forward_pass():
    a = L.Input((3,))
    counter = CountCalls(name="count")
    c = counter(a)
    model = Model(a, L.Dense(1)(c))
    model.add_loss(K.sum(c) * 0.0)
    model.compile("sgd", "mse")
    counter.calls = 0
    model.train_on_batch(X, Y)
    assert counter.calls == 1


def test_callable_loss_on_a_sequential_model():
    model = Sequential([L.Dense(1, input_dim=3, name="d")])
    model.add_loss(lambda: 10.0 * torch.mean(model.get_layer("d").kernel ** 2))
    model.compile("sgd", "mse")
    pred = model.predict(X, verbose=0)
    kernel = model.get_layer("d").get_weights()[0]
    expected = ((pred - Y) ** 2).mean() + 10.0 * (kernel ** 2).mean()
    np.testing.assert_allclose(model.evaluate(X, Y, batch_size=16, verbose=0), expected, rtol=1e-5)


def test_bad_added_losses_are_clear_errors():
    model, h = _model()
    with pytest.raises(TypeError, match="add_loss: `losses` must be symbolic.*Tensor"):
        model.add_loss(torch.tensor(1.0))
    other = L.Input((3,), name="other")
    with pytest.raises(ValueError, match="add_loss on model.*'other'"):
        model.add_loss(K.mean(L.Dense(2)(other)))
    seq = Sequential([L.Dense(2, input_dim=3)])
    with pytest.raises(TypeError, match="not a functional model"):
        seq.add_loss(K.mean(h))


def test_model_with_added_loss_saves_its_layers(tmp_path):
    model, h = _model()
    model.add_loss(K.mean(h))
    model.compile("sgd", "mse")
    model.save(str(tmp_path / "m.h5"))
    loaded = load_model(str(tmp_path / "m.h5"))    # the added loss is code: not saved, as in Keras 2
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_model_losses_lists_penalties_and_added_losses():
    import numpy as np
    from kerosene import backend as K, regularizers
    from kerosene.layers import Dense, Input
    from kerosene.models import Model
    x = Input(shape=(3,))
    dense = Dense(2, kernel_initializer="ones", kernel_regularizer=regularizers.l1(0.5))
    out = dense(x)
    model = Model(x, out)
    model.add_loss(K.mean(out))
    model.add_loss(2)
    model.compile("sgd", "mse")
    model.predict(np.ones((4, 3), "float32"))
    values = [float(v.detach()) for v in model.losses]
    assert values == pytest.approx([0.5 * 6, 3.0, 2.0])
    with pytest.raises(TypeError, match="add_loss"):
        model.add_loss("1")


def test_a_number_added_as_loss_is_added_to_each_step_loss():
    import numpy as np
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    model = Sequential([Dense(1, input_shape=(2,), kernel_initializer="zeros")])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    plain = model.evaluate(x, y, verbose=0)
    model.add_loss(1.5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain + 1.5)
