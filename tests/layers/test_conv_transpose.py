"""Conv2DTranspose / Conv3DTranspose: Keras 3 as oracle where it agrees with Keras 2, a numpy
reference of TensorFlow's transposed convolution, configs, .h5 files and bad arguments."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import layers as L

from _conv_helpers import compare_keras3, h5_round_trip, rand, train_step_changes_every_weight

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("kwargs", [
    dict(), dict(strides=2), dict(padding="same"), dict(padding="same", strides=2),
    dict(strides=2, output_padding=1), dict(padding="same", strides=2, output_padding=1),
    dict(padding="same", strides=3, output_padding=2), dict(strides=(2, 3), output_padding=(0, 2)),
    dict(dilation_rate=2), dict(padding="same", dilation_rate=2),
    dict(kernel_size=(2, 4), padding="same", strides=2), dict(activation="relu", use_bias=False),
])
def test_conv2d_transpose_matches_keras3(kwargs):
    kwargs = dict(kwargs)
    k = kwargs.pop("kernel_size", 3)
    compare_keras3(keras, L.Conv2DTranspose(4, k, **kwargs),
                   keras.layers.Conv2DTranspose(4, k, **kwargs), rand(2, 5, 6, 3))


def test_conv2d_transpose_channels_first_matches_keras3():
    kw = dict(strides=2, padding="same", output_padding=1, data_format="channels_first")
    compare_keras3(keras, L.Conv2DTranspose(4, 3, **kw), keras.layers.Conv2DTranspose(4, 3, **kw),
                   rand(2, 3, 5, 6))


@pytest.mark.parametrize("kwargs", [dict(), dict(strides=2, padding="same"),
                                    dict(strides=2, output_padding=1),
                                    dict(data_format="channels_first", strides=2)])
def test_conv3d_transpose_matches_keras3(kwargs):
    x = rand(2, 2, 3, 4, 5) if kwargs.get("data_format") else rand(2, 3, 4, 5, 2)
    compare_keras3(keras, L.Conv3DTranspose(3, 3, **kwargs),
                   keras.layers.Conv3DTranspose(3, 3, **kwargs), x)


def _tf_conv2d_transpose(x, kernel, bias, strides, padding, out_shape):
    """Reference: the gradient of TF's conv2d (channels_last), written as a scatter."""
    b, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    oh, ow = out_shape
    if padding == "same":
        top = max((h - 1) * strides[0] + kh - oh, 0) // 2
        left = max((w - 1) * strides[1] + kw - ow, 0) // 2
    else:
        top = left = 0
    out = np.zeros((b, oh, ow, f), "float64")
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for c in range(kw):
                    r, q = i * strides[0] + a - top, j * strides[1] + c - left
                    if 0 <= r < oh and 0 <= q < ow:
                        out[:, r, q, :] += x[:, i, j, :] @ kernel[a, c].T
    return out + bias


@pytest.mark.parametrize("kernel,strides,padding,output_padding,expected_hw", [
    ((4, 4), (2, 2), "same", None, (10, 12)),      # even kernel: TF crops one more at the end
    ((4, 3), (2, 2), "same", (1, 1), (9, 12)),     # Keras 2: (n-1)*s + k - 2*(k//2) + op
    ((3, 3), (3, 2), "valid", (2, 1), (17, 14)),   # output_padding rows hold only the bias
    ((2, 2), (3, 3), "valid", None, (15, 18)),     # stride > kernel: n*s + max(k-s, 0)
    ((2, 2), (3, 3), "same", None, (15, 18)),      # stride > kernel: zero-extended, then bias
])
def test_conv2d_transpose_matches_tf_reference(kernel, strides, padding, output_padding,
                                               expected_hw):
    layer = L.Conv2DTranspose(2, kernel, strides=strides, padding=padding,
                              output_padding=output_padding)
    x = rand(2, 5, 6, 3)
    layer(torch.as_tensor(x))
    rng = np.random.default_rng(3)
    k = rng.normal(size=kernel + (2, 3)).astype("float32")
    bias = rng.normal(size=(2,)).astype("float32")
    layer.set_weights([k, bias])
    got = layer(torch.as_tensor(x)).detach().numpy()
    assert got.shape[1:3] == expected_hw
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None,) + expected_hw + (2,)
    want = _tf_conv2d_transpose(x.astype("float64"), k.astype("float64"), bias, strides, padding,
                                expected_hw)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_kernel_layout_and_weight_order():
    layer = L.Conv2DTranspose(5, (2, 3))
    layer(torch.zeros(1, 4, 4, 7))
    assert [w.shape for w in layer.get_weights()] == [(2, 3, 5, 7), (5,)]
    layer3 = L.Conv3DTranspose(5, 2)
    layer3(torch.zeros(1, 3, 3, 3, 7))
    assert [w.shape for w in layer3.get_weights()] == [(2, 2, 2, 5, 7), (5,)]


def test_compute_output_shape_with_unknown_dims():
    layer = L.Conv2DTranspose(4, 3, strides=2, padding="same", data_format="channels_first")
    assert layer.compute_output_shape((None, 3, None, 7)) == (None, 4, None, 14)


def test_get_config_keys_and_round_trip():
    layer = L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, name="up")
    config = layer.get_config()
    keras2_keys = {"name", "trainable", "filters", "kernel_size", "strides", "padding",
                   "data_format", "dilation_rate", "activation", "use_bias", "kernel_initializer",
                   "bias_initializer", "kernel_regularizer", "bias_regularizer",
                   "activity_regularizer", "kernel_constraint", "bias_constraint",
                   "output_padding"}
    assert keras2_keys <= set(config) and "groups" not in config
    assert config["output_padding"] == (1, 1)
    assert L.Conv2DTranspose.from_config(config).get_config() == config
    config3 = L.Conv3DTranspose(2, 3, output_padding=None).get_config()
    assert "dilation_rate" not in config3 and config3["output_padding"] is None
    assert L.Conv3DTranspose.from_config(config3).get_config() == config3


def test_keras2_aliases():
    assert L.Deconvolution2D is L.Deconv2D is L.Convolution2DTranspose is L.Conv2DTranspose
    assert L.Deconvolution3D is L.Deconv3D is L.Conv3DTranspose


def test_h5_round_trip(tmp_path):
    h5_round_trip(tmp_path, lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                      name="up"),
                  (4, 5, 2), ["kernel", "bias"])


def test_h5_round_trip_3d(tmp_path):
    h5_round_trip(tmp_path, lambda: L.Conv3DTranspose(2, 2, strides=2, name="up3"),
                  (2, 3, 2, 1), ["kernel", "bias"])


def test_gradient_reaches_every_weight():
    train_step_changes_every_weight(L.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                      output_padding=1), rand(2, 4, 4, 2))


@pytest.mark.parametrize("kwargs,match", [
    (dict(strides=2, output_padding=2), "output_padding"),
    (dict(strides=1, output_padding=1), "output_padding"),
    (dict(strides=2, output_padding=-1), "output_padding"),
    (dict(dilation_rate=0), "dilation_rate"),
    (dict(output_padding=(1, 1, 1), strides=2), "output_padding"),
    (dict(padding="full"), "padding"),
    (dict(padding="causal"), "padding"),
    (dict(strides=0), "strides"),
    (dict(data_format="channels_middle"), "data_format"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.Conv2DTranspose(2, 3, **kwargs)


def test_bad_input_rank_and_undefined_channels():
    with pytest.raises(ValueError, match="rank 4"):
        L.Conv2DTranspose(2, 3)(torch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match="channel"):
        L.Conv2DTranspose(2, 3).build((None, 4, 4, None))


def test_fit_a_small_autoencoder_changes_every_weight():
    from kerosene.models import Sequential
    model = Sequential([L.Input(shape=(8, 8, 1)),
                        L.SeparableConv2D(4, 3, strides=2, padding="same", activation="relu"),
                        L.DepthwiseConv2D(3, padding="same"),
                        L.Conv2DTranspose(1, 3, strides=2, padding="same", output_padding=1)])
    model.compile(optimizer="sgd", loss="mse")
    x = rand(8, 8, 8, 1)
    before = model.get_weights()
    model.fit(x, x, epochs=1, batch_size=4, verbose=0)
    assert model.output_shape == (None, 8, 8, 1)
    for old, new in zip(before, model.get_weights()):
        assert not np.array_equal(old, new)
