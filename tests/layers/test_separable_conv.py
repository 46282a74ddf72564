"""SeparableConv1D / SeparableConv2D / DepthwiseConv2D: Keras 3 as oracle, a numpy reference of
TensorFlow's channel order, Keras 2 weight layouts and configs, .h5 files and bad arguments."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import layers as L

from _conv_helpers import compare_keras3, h5_round_trip, rand, train_step_changes_every_weight

keras = pytest.importorskip("keras")

CASES_2D = [dict(), dict(padding="same"), dict(padding="same", strides=2), dict(strides=(2, 1)),
            dict(depth_multiplier=2), dict(padding="same", dilation_rate=2),
            dict(padding="same", kernel_size=(2, 4), strides=2),
            dict(activation="relu", use_bias=False), dict(data_format="channels_first"),
            dict(data_format="channels_first", padding="same", strides=2, depth_multiplier=3)]


def _x2d(kwargs):
    return rand(2, 3, 7, 8) if kwargs.get("data_format") == "channels_first" else rand(2, 7, 8, 3)


@pytest.mark.parametrize("kwargs", CASES_2D)
def test_separable_conv2d_matches_keras3(kwargs):
    kwargs = dict(kwargs)
    k = kwargs.pop("kernel_size", 3)
    compare_keras3(keras, L.SeparableConv2D(4, k, **kwargs),
                   keras.layers.SeparableConv2D(4, k, **kwargs), _x2d(kwargs))


@pytest.mark.parametrize("kwargs", CASES_2D)
def test_depthwise_conv2d_matches_keras3(kwargs):
    kwargs = dict(kwargs)
    k = kwargs.pop("kernel_size", 3)
    compare_keras3(keras, L.DepthwiseConv2D(k, **kwargs),
                   keras.layers.DepthwiseConv2D(k, **kwargs), _x2d(kwargs))


@pytest.mark.parametrize("kwargs", [dict(), dict(padding="same", strides=2),
                                    dict(depth_multiplier=3, dilation_rate=2),
                                    dict(data_format="channels_first", padding="same")])
def test_separable_conv1d_matches_keras3(kwargs):
    x = rand(2, 3, 9) if kwargs.get("data_format") else rand(2, 9, 3)
    compare_keras3(keras, L.SeparableConv1D(4, 3, **kwargs),
                   keras.layers.SeparableConv1D(4, 3, **kwargs), x)


def test_depthwise_channel_order_matches_tf_reference():
    # TF: output channel c * depth_multiplier + m is input channel c under depthwise[..., c, m].
    layer = L.DepthwiseConv2D(2, depth_multiplier=2, padding="valid")
    x = rand(1, 3, 3, 3)
    layer(torch.as_tensor(x))
    rng = np.random.default_rng(5)
    k, b = rng.normal(size=(2, 2, 3, 2)).astype("float32"), rng.normal(size=(6,)).astype("float32")
    layer.set_weights([k, b])
    got = layer(torch.as_tensor(x)).detach().numpy()
    want = np.zeros((1, 2, 2, 6))
    for i in range(2):
        for j in range(2):
            patch = x[0, i:i + 2, j:j + 2, :]
            for c in range(3):
                for m in range(2):
                    want[0, i, j, c * 2 + m] = (patch[:, :, c] * k[:, :, c, m]).sum() + b[c * 2 + m]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_weight_layouts_and_order():
    sep = L.SeparableConv2D(5, (2, 3), depth_multiplier=2)
    sep(torch.zeros(1, 6, 6, 7))
    assert [w.shape for w in sep.get_weights()] == [(2, 3, 7, 2), (1, 1, 14, 5), (5,)]
    sep1 = L.SeparableConv1D(5, 3, depth_multiplier=2)
    sep1(torch.zeros(1, 6, 7))
    assert [w.shape for w in sep1.get_weights()] == [(3, 7, 2), (1, 14, 5), (5,)]
    dw = L.DepthwiseConv2D(3, depth_multiplier=4, use_bias=True)
    dw(torch.zeros(1, 6, 6, 2))
    assert [w.shape for w in dw.get_weights()] == [(3, 3, 2, 4), (8,)]
    assert dw.compute_output_shape((None, 6, 6, 2)) == (None, 4, 4, 8)


def test_get_weights_round_trip_keeps_values():
    dw = L.DepthwiseConv2D(3, depth_multiplier=3)
    dw(torch.zeros(1, 5, 5, 2))
    ws = [np.random.default_rng(0).normal(size=w.shape).astype("float32") for w in dw.get_weights()]
    dw.set_weights(ws)
    for have, want in zip(dw.get_weights(), ws):
        np.testing.assert_array_equal(have, want)


_COMMON = {"name", "trainable", "kernel_size", "strides", "padding", "data_format",
           "dilation_rate", "activation", "use_bias", "bias_initializer", "bias_regularizer",
           "activity_regularizer", "bias_constraint", "depth_multiplier",
           "depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"}
_POINTWISE = {"filters", "pointwise_initializer", "pointwise_regularizer", "pointwise_constraint"}


@pytest.mark.parametrize("make,keys", [
    (lambda: L.SeparableConv2D(4, 3, depth_multiplier=2, depthwise_regularizer="l2"),
     _COMMON | _POINTWISE),
    (lambda: L.SeparableConv1D(4, 3, padding="same"), _COMMON | _POINTWISE),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, bias_constraint="non_neg"), _COMMON),
])
def test_get_config_keys_and_round_trip(make, keys):
    layer = make()
    config = layer.get_config()
    assert keys <= set(config)
    assert not {"kernel_initializer", "kernel_regularizer", "kernel_constraint", "groups"} & set(config)
    if isinstance(layer, L.DepthwiseConv2D):
        assert not _POINTWISE & set(config)
    assert type(layer).from_config(config).get_config() == config


def test_keras2_aliases():
    assert L.SeparableConvolution1D is L.SeparableConv1D
    assert L.SeparableConvolution2D is L.SeparableConv2D


@pytest.mark.parametrize("make,shape,names", [
    (lambda: L.SeparableConv2D(3, 3, depth_multiplier=2, padding="same", name="sep"), (5, 5, 2),
     ["depthwise_kernel", "pointwise_kernel", "bias"]),
    (lambda: L.SeparableConv1D(3, 2, name="sep1"), (6, 2),
     ["depthwise_kernel", "pointwise_kernel", "bias"]),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, name="dw"), (5, 5, 2),
     ["depthwise_kernel", "bias"]),
])
def test_h5_round_trip(tmp_path, make, shape, names):
    h5_round_trip(tmp_path, make, shape, names)


@pytest.mark.parametrize("layer", [L.SeparableConv2D(3, 3, depth_multiplier=2, strides=2),
                                   L.DepthwiseConv2D(3, padding="same")])
def test_gradient_reaches_every_weight(layer):
    train_step_changes_every_weight(layer, rand(2, 6, 6, 2))


@pytest.mark.parametrize("make,match", [
    (lambda: L.SeparableConv2D(4, 3, depth_multiplier=0), "depth_multiplier"),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=1.5), "depth_multiplier"),
    (lambda: L.SeparableConv2D(4, 3, padding="full"), "padding"),
    (lambda: L.SeparableConv1D(4, 3, padding="causal"), "padding"),
    (lambda: L.SeparableConv2D(0, 3), "filters"),
    (lambda: L.DepthwiseConv2D(3, strides=0), "strides"),
    (lambda: L.DepthwiseConv2D((3, 3, 3)), "kernel_size"),
    (lambda: L.SeparableConv2D(4, 3, data_format="nhwc"), "data_format"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_input_rank():
    with pytest.raises(ValueError, match="rank 4"):
        L.SeparableConv2D(2, 3)(torch.zeros(1, 4, 4))


def test_keras2_module_path_exports_them():
    from kerosene.layers import convolutional
    for name in ("SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose",
                 "Conv3DTranspose", "Deconvolution2D", "SeparableConvolution2D"):
        assert getattr(convolutional, name) is getattr(L, name)


def test_conv1d_and_separable_conv1d_default_to_channels_last_whatever_the_image_data_format():
    from kerosene import backend as K
    from kerosene.layers import Conv1D, Conv2D, SeparableConv1D
    K.set_image_data_format("channels_first")
    try:
        assert Conv1D(2, 3).data_format == "channels_last"
        assert SeparableConv1D(2, 3).data_format == "channels_last"
        assert Conv1D(2, 3)(torch.zeros(1, 7, 4)).shape == (1, 5, 2)
        assert Conv2D(2, 3).data_format == "channels_first"   # the 2-D default follows image_data_format
    finally:
        K.set_image_data_format("channels_last")
