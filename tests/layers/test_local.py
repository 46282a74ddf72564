"""LocallyConnected1D / LocallyConnected2D: loop-based numpy references of Keras 2.2.4's
K.local_conv1d / K.local_conv2d (window element order, position order, the bias of channels-first
outputs), Keras 2 weight layouts and config keys, shapes with unknown dimensions, .h5 files,
training and bad arguments."""
import doctest

import numpy as np
import pytest
import torch

import kerosene.layers.local as local_module
from kerosene import layers as L
from kerosene.models import Model, Sequential

from _conv_helpers import h5_round_trip, rand

KERAS2_KEYS_1D = {"name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
                  "activation", "use_bias", "kernel_initializer", "bias_initializer",
                  "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                  "kernel_constraint", "bias_constraint"}


def _weights(layer, seed=3):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def local_conv1d_reference(x, kernel, bias, k, stride):
    """Keras 2.2.4: window i is x[:, i*s : i*s+k, :] flattened (kernel offset major, channel minor)."""
    out_len = kernel.shape[0]
    out = np.zeros((x.shape[0], out_len, kernel.shape[2]))
    for b in range(x.shape[0]):
        for i in range(out_len):
            window = x[b, i * stride:i * stride + k, :].reshape(-1)
            out[b, i] = window @ kernel[i]
    return out + bias[None] if bias is not None else out


def local_conv2d_reference(x, kernel, bias, ks, strides, out_rows, out_cols, channels_first):
    """Keras 2.2.4: position (i, j) is kernel[i * out_cols + j]; its window is the input slice in the
    input's own axis order flattened; a channels-first output gets the bias reshaped (not transposed)."""
    filters = kernel.shape[2]
    out = np.zeros((x.shape[0], out_rows, out_cols, filters))
    for b in range(x.shape[0]):
        for i in range(out_rows):
            for j in range(out_cols):
                rows = slice(i * strides[0], i * strides[0] + ks[0])
                cols = slice(j * strides[1], j * strides[1] + ks[1])
                window = x[b, :, rows, cols] if channels_first else x[b, rows, cols, :]
                out[b, i, j] = window.reshape(-1) @ kernel[i * out_cols + j]
    if channels_first:
        out = out.transpose(0, 3, 1, 2)
        return out + bias.reshape(1, filters, out_rows, out_cols) if bias is not None else out
    return out + bias[None] if bias is not None else out


@pytest.mark.parametrize("k, stride, steps", [(3, 1, 8), (2, 2, 9), (4, 3, 10), (1, 1, 4)])
def test_locally_connected_1d_matches_numpy_reference(k, stride, steps):
    layer = L.LocallyConnected1D(4, k, strides=stride)
    x = rand(2, steps, 5)
    layer(torch.as_tensor(x))
    kernel, bias = _weights(layer)
    out_len = (steps - k) // stride + 1
    assert kernel.shape == (out_len, k * 5, 4) and bias.shape == (out_len, 4)
    got = layer(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, local_conv1d_reference(x, kernel, bias, k, stride), atol=1e-4)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("ks, strides", [((3, 3), (1, 1)), ((3, 3), (2, 2)), ((2, 3), (2, 1)),
                                         ((1, 2), (1, 3))])
def test_locally_connected_2d_matches_numpy_reference(data_format, ks, strides):
    first = data_format == "channels_first"
    layer = L.LocallyConnected2D(3, ks, strides=strides, data_format=data_format)
    x = rand(2, 4, 6, 7) if first else rand(2, 6, 7, 4)
    layer(torch.as_tensor(x))
    kernel, bias = _weights(layer)
    rows, cols = (6 - ks[0]) // strides[0] + 1, (7 - ks[1]) // strides[1] + 1
    assert kernel.shape == (rows * cols, ks[0] * ks[1] * 4, 3) and bias.shape == (rows, cols, 3)
    got = layer(torch.as_tensor(x)).detach().numpy()
    want = local_conv2d_reference(x, kernel, bias, ks, strides, rows, cols, first)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert got.shape == layer.compute_output_shape(x.shape)


def test_channels_first_window_order_differs_from_channels_last():
    # The same kernel reads a window channel-major for channels-first inputs: the element orders
    # really differ (a kernel that picks one window element sees different input values).
    x = rand(1, 3, 3, 2)
    last = L.LocallyConnected2D(1, 2, use_bias=False)
    first = L.LocallyConnected2D(1, 2, use_bias=False, data_format="channels_first")
    last(torch.as_tensor(x))
    first(torch.as_tensor(x.transpose(0, 3, 1, 2).copy()))
    kernel = np.zeros((4, 8, 1), "float32")
    kernel[:, 1, 0] = 1.0   # window element 1
    last.set_weights([kernel])
    first.set_weights([kernel])
    got_last = last(torch.as_tensor(x)).detach().numpy()[0, :, :, 0]
    got_first = first(torch.as_tensor(x.transpose(0, 3, 1, 2).copy())).detach().numpy()[0, 0]
    # channels-last element 1 is (row 0, col 0, channel 1); channels-first it is (channel 0, row 0, col 1)
    np.testing.assert_allclose(got_last, x[0, :2, :2, 1], atol=1e-6)
    np.testing.assert_allclose(got_first, x[0, :2, 1:3, 0], atol=1e-6)


def test_activation_and_no_bias():
    layer = L.LocallyConnected1D(2, 2, activation="relu", use_bias=False)
    x = rand(3, 5, 2)
    layer(torch.as_tensor(x))
    (kernel,) = _weights(layer)
    got = layer(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, np.maximum(local_conv1d_reference(x, kernel, None, 2, 1), 0), atol=1e-4)
    assert layer.keras_weight_names() == ["kernel:0"]


def test_shapes_with_unknown_batch_and_symbolic_inputs():
    assert L.LocallyConnected1D(4, 3, strides=2).compute_output_shape((None, 9, 5)) == (None, 4, 4)
    assert L.LocallyConnected2D(3, (2, 3), data_format="channels_first").compute_output_shape(
        (None, 4, 6, 7)) == (None, 3, 5, 5)
    assert L.LocallyConnected2D(3, 3, strides=2).compute_output_shape((None, 7, 8, 2)) == (None, 3, 3, 3)
    # Unknown spatial sizes have an unknown output size (the layer can only be built once they are known).
    assert L.LocallyConnected2D(3, 3).compute_output_shape((None, None, 8, 2)) == (None, None, 6, 3)
    x = L.Input(shape=(8, 5))
    y = L.LocallyConnected1D(4, 3)(x)
    assert tuple(y.shape) == (None, 6, 4)
    model = Model(x, y)
    assert model.predict(rand(3, 8, 5)).shape == (3, 6, 4)
    x2 = L.Input(shape=(6, 8, 4))
    assert tuple(L.LocallyConnected2D(3, 3, strides=2)(x2).shape) == (None, 2, 3, 3)


def test_unknown_spatial_dimensions_are_refused():
    with pytest.raises(ValueError, match="must be defined.*None, 5"):
        L.LocallyConnected1D(4, 3)(L.Input(shape=(None, 5)))
    with pytest.raises(ValueError, match="must be defined"):
        L.LocallyConnected2D(4, 3).build((None, 6, None, 2))


def test_get_config_keys_and_round_trip():
    layer = L.LocallyConnected1D(4, 3, strides=2, kernel_regularizer="l2", activation="tanh",
                                 bias_constraint="non_neg", name="lc1")
    config = layer.get_config()
    assert set(config) == KERAS2_KEYS_1D   # Keras 2.2.4's LocallyConnected1D saves no data_format
    assert config["kernel_size"] == (3,) and config["strides"] == (2,) and config["padding"] == "valid"
    again = L.LocallyConnected1D.from_config(config)
    assert again.get_config() == config
    layer2 = L.LocallyConnected2D(3, (2, 3), strides=(2, 1), data_format="channels_first")
    config2 = layer2.get_config()
    assert set(config2) == KERAS2_KEYS_1D | {"data_format"}
    assert config2["data_format"] == "channels_first" and config2["kernel_size"] == (2, 3)
    assert L.deserialize(L.serialize(layer2)).get_config() == config2


def test_keras2_config_loads():
    # As keras 2.2.4 writes it (lists for tuples, the class-name form of initializers).
    config = {"name": "locally_connected2d_1", "trainable": True, "filters": 3, "kernel_size": [3, 3],
              "strides": [2, 2], "padding": "valid", "data_format": "channels_last", "activation": "linear",
              "use_bias": True, "kernel_initializer": {"class_name": "VarianceScaling",
                                                       "config": {"scale": 1.0, "mode": "fan_avg",
                                                                  "distribution": "uniform", "seed": None}},
              "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
              "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
              "bias_constraint": None}
    layer = L.deserialize({"class_name": "LocallyConnected2D", "config": config})
    assert L.LocallyConnected2D.from_config(dict(config, implementation=1)).get_config() == layer.get_config()
    assert layer.kernel_size == (3, 3) and layer.strides == (2, 2)
    assert layer(torch.zeros(2, 7, 7, 4)).shape == (2, 3, 3, 3)


def test_regularizers_add_losses():
    layer = L.LocallyConnected2D(2, 2, kernel_regularizer="l2", bias_regularizer="l1",
                                 activity_regularizer="l2")
    layer.build((None, 4, 4, 3))
    assert len(layer.losses) == 2
    layer(torch.ones(2, 4, 4, 3))
    assert len(layer.losses) == 3


def test_h5_round_trip_1d(tmp_path):
    h5_round_trip(tmp_path, lambda: L.LocallyConnected1D(3, 2, strides=2, name="lc1"), (7, 4),
                  ["kernel", "bias"])


@pytest.mark.parametrize("data_format, shape", [("channels_last", (6, 5, 2)), ("channels_first", (2, 6, 5))])
def test_h5_round_trip_2d(tmp_path, data_format, shape):
    h5_round_trip(tmp_path, lambda: L.LocallyConnected2D(3, (2, 2), data_format=data_format, name="lc2"),
                  shape, ["kernel", "bias"])


def test_fit_changes_every_weight():
    torch.manual_seed(0)
    model = Sequential([L.Input(shape=(6, 6, 2)), L.LocallyConnected2D(3, 3, activation="tanh"),
                        L.Reshape((16, 3)), L.LocallyConnected1D(2, 2, strides=2), L.Flatten(),
                        L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    x, y = rand(16, 6, 6, 2), rand(16, 1, seed=1)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for old, new in zip(before, model.get_weights()):
        assert np.abs(old - new).min() > 0, old.shape   # every element moved


@pytest.mark.parametrize("make, match", [
    (lambda: L.LocallyConnected1D(4, 3, padding="same"), "padding.*'same'.*Accepted values: 'valid'"),
    (lambda: L.LocallyConnected2D(4, 3, padding="causal"), "padding.*'causal'"),
    (lambda: L.LocallyConnected1D(0, 3), "'filters'.*positive integer.*0"),
    (lambda: L.LocallyConnected2D(4, (3,)), "'kernel_size'.*tuple of 2.*\\(3,\\)"),
    (lambda: L.LocallyConnected2D(4, 3, strides=0), "'strides'.*positive.*0"),
    (lambda: L.LocallyConnected1D(4, -1), "'kernel_size'.*positive.*-1"),
    (lambda: L.LocallyConnected2D(4, 3, data_format="nhwc"), "'data_format'.*'nhwc'"),
    (lambda: L.LocallyConnected1D(4, 3, data_format="channels_first"), "'data_format'.*channels_last"),
    (lambda: L.LocallyConnected1D(4, 3, kernel_regularizer="bogus"), "kernel_regularizer"),
    (lambda: L.LocallyConnected2D(4, 3, implementation=2), "'implementation' must be 1.*got 2"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs():
    with pytest.raises(ValueError, match="rank 3"):
        L.LocallyConnected1D(4, 3)(torch.zeros(2, 8))
    with pytest.raises(ValueError, match="rank 4"):
        L.LocallyConnected2D(4, 3)(torch.zeros(2, 8, 8))
    with pytest.raises(ValueError, match="does not fit"):
        L.LocallyConnected2D(4, 5)(torch.zeros(1, 4, 8, 2))
    layer = L.LocallyConnected1D(2, 2)
    layer(torch.zeros(1, 5, 3))
    with pytest.raises(ValueError, match="axis -1 of input to have value 3"):
        layer(torch.zeros(1, 5, 4))


def test_keras2_module_path_and_docstring_examples():
    assert local_module.LocallyConnected2D is L.LocallyConnected2D
    assert doctest.testmod(local_module).failed == 0
