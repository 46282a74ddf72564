"""kerosene.legacy.layers: MaxoutDense and Highway against numpy references, their Keras 1
configs and weight names, .h5 round trips, regularizers/constraints, training, bad arguments;
AtrousConvolution1D/2D as dilated Conv1D/Conv2D."""
import doctest
import warnings

import h5py
import numpy as np
import pytest
import torch

from kerosene import constraints, layers as L, regularizers
from kerosene.legacy import interfaces, layers as legacy
from kerosene.models import Sequential, load_model


@pytest.fixture(autouse=True)
def quiet_deprecation():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The `(MaxoutDense|Highway|AtrousConvolution.D)` layer")
        yield


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def random_weights(layer, rng):
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer.get_weights()


def test_maxout_dense_matches_numpy():
    rng = np.random.default_rng(0)
    layer = legacy.MaxoutDense(3, nb_feature=4)
    x = rng.normal(size=(5, 2)).astype("float32")
    layer(torch.from_numpy(x))
    W, b = random_weights(layer, rng)
    assert W.shape == (4, 2, 3) and b.shape == (4, 3)
    want = (np.einsum("bi,kio->bko", x, W) + b).max(axis=1)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)


def test_maxout_dense_without_bias():
    rng = np.random.default_rng(1)
    layer = legacy.MaxoutDense(2, nb_feature=3, bias=False)
    x = rng.normal(size=(4, 3)).astype("float32")
    layer(torch.from_numpy(x))
    (W,) = random_weights(layer, rng)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(),
                               np.einsum("bi,kio->bko", x, W).max(axis=1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation, fn", [(None, lambda v: v), ("tanh", np.tanh)])
def test_highway_matches_numpy(activation, fn):
    rng = np.random.default_rng(2)
    layer = legacy.Highway(activation=activation)
    x = rng.normal(size=(5, 3)).astype("float32")
    layer(torch.from_numpy(x))
    W, W_carry, b, b_carry = random_weights(layer, rng)
    gate = sigmoid(x @ W_carry + b_carry)
    want = fn(x @ W + b) * gate + (1 - gate) * x
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)


def test_highway_starts_with_carry_bias_ones_and_zero_bias():
    layer = legacy.Highway(bias=True)
    layer(torch.zeros(1, 4))
    assert layer.keras_weight_names() == ["W:0", "W_carry:0", "b:0", "b_carry:0"]
    W, W_carry, b, b_carry = layer.get_weights()
    np.testing.assert_array_equal(b, np.zeros(4))
    np.testing.assert_array_equal(b_carry, np.ones(4))


def test_highway_without_bias_has_two_weights():
    layer = legacy.Highway(bias=False)
    x = torch.randn(2, 3)
    out = layer(x)
    assert [w.shape for w in layer.get_weights()] == [(3, 3), (3, 3)]
    assert out.shape == (2, 3)


def test_configs_keep_keras1_keys_and_round_trip():
    layer = legacy.MaxoutDense(3, nb_feature=2, init="he_normal", W_regularizer=regularizers.l2(0.01),
                               b_constraint=constraints.MaxNorm(1), input_dim=5, name="m")
    config = layer.get_config()
    for key in ("output_dim", "nb_feature", "init", "W_regularizer", "b_regularizer", "activity_regularizer",
                "W_constraint", "b_constraint", "bias", "input_dim"):
        assert key in config
    assert config["input_dim"] == 5 and config["batch_input_shape"] == (None, 5)
    again = legacy.MaxoutDense.from_config(config)
    assert again.get_config() == config
    hw = legacy.Highway(activation="relu", b_regularizer="l1", name="h")
    assert legacy.Highway.from_config(hw.get_config()).get_config() == hw.get_config()
    assert L.deserialize(L.serialize(hw)).get_config() == hw.get_config()


@pytest.mark.parametrize("make, names", [
    (lambda: legacy.MaxoutDense(3, nb_feature=2), ["W", "b"]),
    (lambda: legacy.Highway(activation="tanh"), ["W", "W_carry", "b", "b_carry"]),
])
def test_h5_round_trip(tmp_path, make, names):
    def model():
        return Sequential([L.Input(shape=(4,)), make()])

    rng = np.random.default_rng(3)
    source, target = model(), model()
    source.set_weights([rng.normal(size=w.shape).astype("float32") for w in source.get_weights()])
    x = rng.normal(size=(3, 4)).astype("float32")
    want = source.predict(x)
    source.save_weights(str(tmp_path / "w.h5"))
    layer = source.layers[-1]
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert [n.decode() for n in f[layer.name].attrs["weight_names"]] == [f"{layer.name}/{n}:0" for n in names]
    target.load_weights(str(tmp_path / "w.h5"))
    np.testing.assert_allclose(target.predict(x), want, rtol=1e-6)
    source.compile(optimizer="sgd", loss="mse")
    source.save(str(tmp_path / "m.h5"))
    restored = load_model(str(tmp_path / "m.h5"))
    assert type(restored.layers[-1]) is type(layer)
    np.testing.assert_allclose(restored.predict(x), want, rtol=1e-6)


def test_regularizers_and_constraints_apply():
    layer = legacy.MaxoutDense(2, W_regularizer=regularizers.l2(0.5), W_constraint=constraints.MaxNorm(1.0))
    layer(torch.zeros(1, 3))
    W = layer.get_weights()[0]
    layer.set_weights([np.full_like(W, 3.0), layer.get_weights()[1]])
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.5 * 9.0 * W.size)
    layer.apply_constraints()
    assert np.all(np.sqrt((layer.get_weights()[0] ** 2).sum(axis=-2)) <= 1.0 + 1e-6)


def test_both_layers_train():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    model = Sequential([L.Input(shape=(4,)), legacy.Highway(activation="relu"), legacy.MaxoutDense(2)])
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_deprecation_warnings():
    with pytest.warns(UserWarning, match="`MaxoutDense` layer is deprecated"):
        legacy.MaxoutDense(2)
    with pytest.warns(UserWarning, match="transform_bias"):
        legacy.Highway(transform_bias=-2)


@pytest.mark.parametrize("make, error, match", [
    (lambda: legacy.MaxoutDense(0), ValueError, "output_dim"),
    (lambda: legacy.MaxoutDense(2, nb_feature=-1), ValueError, "nb_feature"),
    (lambda: legacy.MaxoutDense(2, input_dim=0), ValueError, "input_dim"),
    (lambda: legacy.Highway(bias="yes"), TypeError, r"'bias' must be True or False, got 'yes'"),
    (lambda: legacy.Highway(init="no_such_init"), ValueError, "no_such_init"),
    (lambda: legacy.AtrousConvolution1D(4, 3, atrous_rate=2, dilation_rate=2), TypeError,
     "both the Keras 1 argument `atrous_rate` and its Keras 2 name `dilation_rate`"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_highway_refuses_3d_inputs():
    with pytest.raises(ValueError):
        legacy.Highway()(torch.zeros(2, 3, 4))


def test_atrous_convolutions_are_dilated_convs():
    with pytest.warns(UserWarning, match=r"`Conv1D\(5, 3, dilation_rate=2, name=\"a\", padding=\"same\"\)`"):
        layer = legacy.AtrousConvolution1D(5, 3, atrous_rate=2, border_mode="same", name="a")
    assert type(layer) is L.Conv1D
    assert layer.get_config() == L.Conv1D(5, 3, dilation_rate=2, padding="same", name="a").get_config()
    with pytest.warns(UserWarning, match="Update your `Conv2D` call"):
        layer = legacy.AtrousConvolution2D(5, 3, 3, atrous_rate=(2, 2), dim_ordering="th", name="a")
    assert layer.get_config() == L.Conv2D(5, (3, 3), dilation_rate=(2, 2), data_format="channels_first",
                                          name="a").get_config()
    assert L.AtrousConvolution2D is legacy.AtrousConvolution2D


@pytest.mark.parametrize("module", [legacy, interfaces])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
