"""kerosene.utils.test_utils: Keras 2's synthetic data and its standard layer checks."""
import numpy as np
import pytest

from kerosene import layers
from kerosene.utils.test_utils import get_test_data, layer_test


def test_regression_data_draws_each_samples_x_then_y_as_keras2():
    np.random.seed(3)
    (x, y), (xt, yt) = get_test_data(num_train=4, num_test=2, input_shape=(2, 3), output_shape=(2,),
                                     classification=False)
    np.random.seed(3)
    centre = np.random.random((6,))
    rows = [(np.random.normal(loc=c, scale=0.7, size=(2, 3)), np.random.normal(loc=c, scale=0.7, size=(2,)))
            for c in centre]
    np.testing.assert_allclose(np.concatenate([x, xt]), np.stack([r[0] for r in rows]).astype(np.float32))
    np.testing.assert_allclose(np.concatenate([y, yt]), np.stack([r[1] for r in rows]).astype(np.float32))


def test_layer_test_runs_the_checks_and_returns_the_output():
    data = np.arange(8, dtype="float32").reshape(2, 4)
    out = layer_test(layers.Dense, kwargs={"units": 3, "kernel_initializer": "ones"}, input_data=data)
    np.testing.assert_allclose(out, np.repeat(data.sum(axis=1, keepdims=True), 3, axis=1))
    assert layer_test(layers.Dropout, kwargs={"rate": 0.5}, input_shape=(None, 5)).shape[1] == 5


def test_layer_test_fails_when_the_expected_output_differs():
    with pytest.raises(AssertionError):
        layer_test(layers.Activation, kwargs={"activation": "relu"}, input_data=-np.ones((2, 3), "float32"),
                   expected_output=np.ones((2, 3)))


def test_layer_test_needs_a_shape_or_data():
    with pytest.raises(ValueError, match="input_shape"):
        layer_test(layers.Dense, kwargs={"units": 2})


def test_activity_regularization_layer_adds_its_penalty_and_round_trips():
    import torch
    from kerosene.models import Model
    x = layers.Input(shape=(2,))
    reg = layers.ActivityRegularization(l1=0.5, l2=0.25)
    model = Model(x, reg(x))
    model.compile("sgd", "mse")
    data = np.array([[1.0, -2.0]], "float32")
    loss = model.evaluate(data, data, verbose=0)
    assert loss == pytest.approx(0.5 * 3 + 0.25 * 5)
    again = Model.from_config(model.get_config())
    assert isinstance(again.layers[-1], layers.ActivityRegularization)
    assert (again.layers[-1].l1, again.layers[-1].l2) == (0.5, 0.25)
    with pytest.raises(ValueError, match="l1"):
        layers.ActivityRegularization(l1=-1)
    assert torch.equal(reg(torch.ones(1, 2)), torch.ones(1, 2))


def test_model_from_config_refuses_a_config_without_a_graph():
    from kerosene.models import Model
    with pytest.raises(ValueError, match="input_layers"):
        Model.from_config({"name": "x"})
