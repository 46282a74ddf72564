"""Keras 2's convolution, pooling, normalization, padding and resizing backend functions
(K.conv2d & co.) against Keras 3's ops (torch backend) and numpy references."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.layers import Input

keras = pytest.importorskip("keras")
RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype("float32")


def close(tensor, expected, tol=1e-4):
    assert isinstance(tensor, torch.Tensor)
    np.testing.assert_allclose(tensor.detach().cpu().numpy(), np.asarray(expected), rtol=tol, atol=tol)


def k3(value):
    return keras.ops.convert_to_numpy(value)


def to_first(x):
    return np.moveaxis(x, -1, 1)


# --- convolutions ----------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,dilation", [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_matches_keras3(rank, padding, strides, dilation):
    x = rand(2, *([7] * rank), 3)
    kernel = rand(*([3] * rank), 3, 4)
    fn = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}[rank]
    got = fn(x, kernel, strides=(strides,) * rank, padding=padding, dilation_rate=(dilation,) * rank)
    close(got, k3(keras.ops.conv(x, kernel, strides=strides, padding=padding, dilation_rate=dilation)))


def test_conv2d_channels_first_and_image_data_format_default():
    x, kernel = rand(2, 6, 5, 3), rand(3, 2, 3, 4)
    expected = k3(keras.ops.conv(x, kernel, strides=2, padding="same"))
    close(K.conv2d(to_first(x), kernel, strides=(2, 2), padding="same", data_format="channels_first"),
          to_first(expected))
    K.set_image_data_format("channels_first")
    try:
        close(K.conv2d(to_first(x), kernel, strides=(2, 2), padding="same"), to_first(expected))
    finally:
        K.set_image_data_format("channels_last")


def test_conv1d_causal_pads_before_only():
    x, kernel = rand(2, 6, 2), rand(3, 2, 1)
    got = K.conv1d(x, kernel, padding="causal", dilation_rate=2)
    padded = np.concatenate([np.zeros((2, 4, 2), "float32"), x], axis=1)
    close(got, k3(keras.ops.conv(padded, kernel, dilation_rate=2)))
    assert got.shape == (2, 6, 1)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
def test_depthwise_and_separable_match_keras3(padding, strides):
    x, depthwise, pointwise = rand(2, 7, 6, 3), rand(3, 3, 3, 2), rand(1, 1, 6, 5)
    close(K.depthwise_conv2d(x, depthwise, strides=(strides, strides), padding=padding),
          k3(keras.ops.depthwise_conv(x, depthwise, strides=strides, padding=padding)))
    close(K.separable_conv2d(x, depthwise, pointwise, strides=(strides, strides), padding=padding),
          k3(keras.ops.separable_conv(x, depthwise, pointwise, strides=strides, padding=padding)))
    x1, dw1, pw1 = rand(2, 9, 3), rand(3, 3, 2), rand(1, 6, 4)
    close(K.separable_conv1d(x1, dw1, pw1, strides=strides, padding=padding),
          k3(keras.ops.separable_conv(x1, dw1, pw1, strides=strides, padding=padding)))


def test_depthwise_channels_first():
    x, depthwise = rand(2, 5, 5, 3), rand(2, 2, 3, 2)
    expected = k3(keras.ops.depthwise_conv(x, depthwise, padding="same"))
    close(K.depthwise_conv2d(to_first(x), depthwise, padding="same", data_format="channels_first"),
          to_first(expected))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
def test_conv_transpose_matches_keras3(padding, strides):
    x, kernel = rand(2, 4, 5, 3), rand(3, 3, 6, 3)   # (rows, cols, out, in)
    expected = k3(keras.ops.conv_transpose(x, kernel, strides=strides, padding=padding))
    got = K.conv2d_transpose(x, kernel, (2,) + expected.shape[1:], strides=(strides, strides), padding=padding)
    close(got, expected)
    got_first = K.conv2d_transpose(to_first(x), kernel, (2, 6) + expected.shape[1:3], strides=(strides, strides),
                                   padding=padding, data_format="channels_first")
    close(got_first, to_first(expected))
    x3, kernel3 = rand(1, 3, 3, 3, 2), rand(2, 2, 2, 4, 2)
    expected3 = k3(keras.ops.conv_transpose(x3, kernel3, strides=strides, padding=padding))
    close(K.conv3d_transpose(x3, kernel3, (1,) + expected3.shape[1:], strides=(strides,) * 3, padding=padding),
          expected3)


def test_conv_transpose_is_the_gradient_of_conv():
    # An output size the convolution reaches with a remainder (8 -> 4 with stride 2, kernel 3, 'valid' -> 3).
    kernel = torch.tensor(rand(3, 3, 2, 4))           # conv kernel (rows, cols, in=2, out=4)
    big = torch.zeros(1, 8, 8, 2, requires_grad=True)
    out = K.conv2d(big, kernel, strides=(2, 2))
    upstream = torch.tensor(rand(*out.shape))
    (grad,) = torch.autograd.grad(out, big, upstream)
    # the same kernel read as a transposed-convolution kernel (rows, cols, out=2, in=4)
    close(K.conv2d_transpose(upstream, kernel, (1, 8, 8, 2), strides=(2, 2)), grad.numpy())


def test_local_conv_matches_numpy():
    x, kernel = rand(2, 7, 3), rand(3, 2 * 3, 4)       # kernel_size 2, strides 2 -> 3 steps
    expected = np.stack([np.einsum("bf,fo->bo", x[:, 2 * i:2 * i + 2].reshape(2, -1), kernel[i])
                         for i in range(3)], axis=1)
    close(K.local_conv1d(x, kernel, (2,), (2,)), expected)
    x2, kernel2 = rand(2, 5, 4, 3), rand(2 * 3, 2 * 2 * 3, 4)
    rows = []
    for i in range(2):
        for j in range(3):
            patch = x2[:, 2 * i:2 * i + 2, j:j + 2, :].reshape(2, -1)
            rows.append(patch @ kernel2[i * 3 + j])
    expected2 = np.stack(rows, axis=1).reshape(2, 2, 3, 4)
    close(K.local_conv2d(x2, kernel2, (2, 2), (2, 1), (2, 3)), expected2)
    first = to_first(x2)
    rows = [first[:, :, 2 * i:2 * i + 2, j:j + 2].reshape(2, -1) @ kernel2[i * 3 + j]
            for i in range(2) for j in range(3)]
    close(K.local_conv2d(first, kernel2, (2, 2), (2, 1), (2, 3), data_format="channels_first"),
          to_first(np.stack(rows, axis=1).reshape(2, 2, 3, 4)))


def test_bias_add_both_formats():
    x, bias = rand(2, 3, 4, 5), rand(5)
    close(K.bias_add(x, bias), x + bias)
    channels_first_bias = rand(3)
    close(K.bias_add(x, channels_first_bias, data_format="channels_first"),
          x + channels_first_bias[None, :, None, None])
    full = rand(3, 4, 5)
    close(K.bias_add(x, full), x + full)
    # Keras 2 reshapes (does not transpose) a per-position bias onto channels-first positions.
    full_last = rand(4, 5, 3)
    close(K.bias_add(x, full_last, data_format="channels_first"), x + full_last.reshape(1, 3, 4, 5))
    x2 = rand(2, 5)
    close(K.bias_add(x2, bias), x2 + bias)


# --- pooling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool,strides", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 3), (1, 2))])
def test_pool2d_matches_keras3(pool, strides, padding):
    x = rand(2, 7, 6, 3)
    close(K.pool2d(x, pool, strides, padding), k3(keras.ops.max_pool(x, pool, strides, padding)))
    if padding == "valid":
        close(K.pool2d(x, pool, strides, padding, pool_mode="avg"),
              k3(keras.ops.average_pool(x, pool, strides, padding)))


def test_avg_pool_same_excludes_padding_from_the_mean():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    got = K.pool2d(x, (3, 3), (2, 2), padding="same", pool_mode="avg")[0, :, :, 0]
    # TF 'same' for 4 -> 2 with window 3, stride 2 pads 1 after: windows rows/cols [0:3] and [2:4].
    a = x[0, :, :, 0]
    expected = [[a[0:3, 0:3].mean(), a[0:3, 2:4].mean()], [a[2:4, 0:3].mean(), a[2:4, 2:4].mean()]]
    close(got, expected)


def test_pool3d_both_modes_and_formats():
    x = rand(2, 4, 5, 6, 3)
    expected = k3(keras.ops.max_pool(x, (2, 2, 2), (2, 2, 2), "same"))
    close(K.pool3d(x, (2, 2, 2), (2, 2, 2), "same"), expected)
    close(K.pool3d(to_first(x), (2, 2, 2), (2, 2, 2), "same", data_format="channels_first"), to_first(expected))
    close(K.pool3d(x, (2, 2, 2), (1, 1, 1), pool_mode="avg"),
          k3(keras.ops.average_pool(x, (2, 2, 2), (1, 1, 1), "valid")))


# --- normalization, dropout -----------------------------------------------------------------------------
def test_batch_normalization_matches_numpy():
    x, mean, var, beta, gamma = rand(4, 3, 5), rand(5), np.abs(rand(5)), rand(5), rand(5)
    close(K.batch_normalization(x, mean, var, beta, gamma, epsilon=1e-3),
          (x - mean) / np.sqrt(var + 1e-3) * gamma + beta)
    close(K.batch_normalization(x, mean[:3], var[:3], None, None, axis=1),
          (x - mean[:3, None]) / np.sqrt(var[:3, None] + 1e-3))


def test_normalize_batch_in_training():
    x, gamma, beta = rand(6, 4, 3), rand(3), rand(3)
    normed, mean, var = K.normalize_batch_in_training(x, gamma, beta, [0, 1], epsilon=1e-3)
    close(mean, x.mean(axis=(0, 1)))
    close(var, x.var(axis=(0, 1)))
    close(normed, (x - x.mean(axis=(0, 1))) / np.sqrt(x.var(axis=(0, 1)) + 1e-3) * gamma + beta)


def test_moving_average_update_in_place():
    x = K.variable(np.ones(3))
    out = K.moving_average_update(x, np.zeros(3), 0.9)
    assert out is x
    close(x, np.full(3, 0.9))


def test_dropout_scales_and_shares_noise():
    x = np.ones((200, 50), "float32")
    out = K.dropout(x, 0.4, seed=1).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.6)}
    assert abs((out == 0).mean() - 0.4) < 0.03
    shared = K.dropout(x, 0.5, noise_shape=(200, 1), seed=2).numpy()
    assert (shared == shared[:, :1]).all()
    close(K.dropout(x, 0.0), x)


def test_in_top_k():
    pred = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.9, 0.05, 0.05]], "float32")
    got = K.in_top_k(pred, np.array([2, 0, 1]), 1)
    assert got.tolist() == [False, False, False]
    assert K.in_top_k(pred, np.array([2, 0, 1]), 2).tolist() == [True, True, True]
    close(K.in_top_k(pred, np.array([1, 1, 0]), 1).int(), [1, 0, 1])


# --- reshaping, padding and resizing --------------------------------------------------------------
def test_repeat_reverse_slice():
    x = rand(3, 4)
    close(K.repeat(x, 2), np.repeat(x[:, None], 2, axis=1))
    y = rand(2, 3, 4)
    close(K.reverse(y, [0, 2]), y[::-1, :, ::-1])
    close(K.reverse(y, 1), y[:, ::-1])
    close(K.slice(y, (0, 1, 1), (2, -1, 2)), y[:, 1:, 1:3])


def test_padding_functions():
    x = rand(2, 3, 4)
    close(K.temporal_padding(x, (1, 2)), np.pad(x, ((0, 0), (1, 2), (0, 0))))
    x4 = rand(2, 3, 4, 5)
    close(K.spatial_2d_padding(x4, ((1, 0), (2, 1))), np.pad(x4, ((0, 0), (1, 0), (2, 1), (0, 0))))
    close(K.spatial_2d_padding(x4, ((1, 0), (2, 1)), data_format="channels_first"),
          np.pad(x4, ((0, 0), (0, 0), (1, 0), (2, 1))))
    x5 = rand(1, 2, 2, 2, 3)
    close(K.spatial_3d_padding(x5), np.pad(x5, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0))))
    close(K.spatial_3d_padding(x5, data_format="channels_first"), np.pad(x5, ((0, 0), (0, 0), (1, 1), (1, 1), (1, 1))))


def legacy_bilinear(x, fy, fx):
    """TensorFlow 1's resize_bilinear (align_corners=False, no half-pixel centres), channels-last."""
    rows, cols = x.shape[1], x.shape[2]
    out = np.zeros((x.shape[0], rows * fy, cols * fx, x.shape[3]), "float32")
    for i in range(rows * fy):
        for j in range(cols * fx):
            sy, sx = i / fy, j / fx
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            y1, x1 = min(y0 + 1, rows - 1), min(x0 + 1, cols - 1)
            wy, wx = sy - y0, sx - x0
            out[:, i, j] = ((1 - wy) * (1 - wx) * x[:, y0, x0] + (1 - wy) * wx * x[:, y0, x1]
                            + wy * (1 - wx) * x[:, y1, x0] + wy * wx * x[:, y1, x1])
    return out


def test_resize_images_and_volumes():
    x = rand(2, 3, 4, 5)
    close(K.resize_images(x, 2, 3, "channels_last"), x.repeat(2, axis=1).repeat(3, axis=2))
    close(K.resize_images(x, 2, 3, "channels_first"), x.repeat(2, axis=2).repeat(3, axis=3))
    bilinear = K.resize_images(x, 2, 3, "channels_last", interpolation="bilinear")
    close(bilinear, legacy_bilinear(x, 2, 3))
    close(K.resize_images(to_first(x), 2, 3, "channels_first", interpolation="bilinear"),
          to_first(legacy_bilinear(x, 2, 3)))
    v = rand(1, 2, 3, 2, 2)
    close(K.resize_volumes(v, 2, 1, 3, "channels_last"), v.repeat(2, axis=1).repeat(3, axis=3))


def test_symbolic_calls_record_nodes():
    x = Input(shape=(6, 6, 2))
    kernel = torch.tensor(rand(3, 3, 2, 4))
    y = K.pool2d(K.conv2d(x, kernel, padding="same"), (2, 2), strides=(2, 2))
    assert K.int_shape(y) == (None, 3, 3, 4)
    value = rand(2, 6, 6, 2)
    close(torch.tensor(K.function([x], [y])([value])[0]),
          K.pool2d(K.conv2d(value, kernel, padding="same"), (2, 2), strides=(2, 2)).numpy())


def test_symbolic_unknown_sizes_stay_unknown():
    x = Input(shape=(None, None, 3))
    y = K.conv2d(x, torch.tensor(rand(3, 3, 3, 2)), strides=(2, 2), padding="same")
    assert K.int_shape(y) == (None, None, None, 2)
    z = K.spatial_2d_padding(Input(shape=(4, 5, 1)), ((1, 2), (0, 3)))
    assert K.int_shape(z) == (None, 7, 8, 1)


# --- bad arguments ------------------------------------------------------------------------------
@pytest.mark.parametrize("call,match", [
    (lambda: K.conv2d(rand(1, 5, 5, 3), rand(3, 3, 3, 2), padding="full"), r"conv2d: `padding`.*'full'"),
    (lambda: K.conv2d(rand(1, 5, 5, 3), rand(3, 3, 3, 2), padding="causal"), r"conv2d: `padding`.*'causal'"),
    (lambda: K.conv2d(rand(1, 5, 5, 3), rand(3, 3, 3, 2), strides=(0, 1)), r"conv2d: `strides`.*\(0, 1\)"),
    (lambda: K.conv2d(rand(1, 5, 5, 3), rand(3, 3, 3, 2), data_format="nhwc"), r"data_format.*'nhwc'"),
    (lambda: K.conv2d(rand(1, 5, 5, 4), rand(3, 3, 3, 2)), r"conv2d: `x` has 4 channels"),
    (lambda: K.conv2d(rand(5, 5, 3), rand(3, 3, 3, 2)), r"conv2d: `x` must be a 4-D tensor"),
    (lambda: K.conv2d(rand(1, 2, 2, 3), rand(3, 3, 3, 2)), r"conv2d: the input's spatial size"),
    (lambda: K.conv2d_transpose(rand(1, 4, 4, 3), rand(3, 3, 2, 3), (1, 9, 9, 2)), r"`output_shape`.*does not"),
    (lambda: K.conv2d_transpose(rand(1, 4, 4, 3), rand(3, 3, 2, 3), (1, 6, 6, 5)), r"has 5 channels"),
    (lambda: K.conv2d_transpose(rand(1, 4, 4, 3), rand(3, 3, 2, 3), (6, 6)), r"`output_shape` must be a tuple"),
    (lambda: K.separable_conv2d(rand(1, 5, 5, 3), rand(3, 3, 3, 2), rand(2, 2, 6, 4)), r"1 wide"),
    (lambda: K.local_conv1d(rand(2, 7, 3), rand(3, 5, 4), (2,), (2,)), r"`kernel` must have shape \(3, 6"),
    (lambda: K.bias_add(rand(2, 3, 4), rand(2, 2, 2, 2)), r"bias_add: `bias` must have 1 or 2 dimensions"),
    (lambda: K.bias_add(rand(2, 3, 4), rand(3)), r"bias_add: `bias` has 3 values for the 4 channels"),
    (lambda: K.pool2d(rand(1, 4, 4, 1), (2, 2), pool_mode="sum"), r"pool2d: `pool_mode`.*'sum'"),
    (lambda: K.pool3d(rand(1, 4, 4, 1), (2, 2, 2)), r"pool3d: `x` must be a 5-D tensor"),
    (lambda: K.dropout(rand(2, 2), 1.0), r"dropout: `level`.*1.0"),
    (lambda: K.dropout(rand(2, 2), 0.5, noise_shape=(3, 1)), r"dropout: `noise_shape`"),
    (lambda: K.in_top_k(rand(2, 3), np.array([0, 1]), 0), r"in_top_k: `k`.*0"),
    (lambda: K.repeat(rand(2, 3, 4), 2), r"repeat: `x` must be a 2-D"),
    (lambda: K.slice(rand(2, 3), (0, 2), (1, 2)), r"slice: .*run outside"),
    (lambda: K.spatial_2d_padding(rand(1, 2, 2, 1), (1, 1)), r"spatial_2d_padding: `padding` must be 2 pairs"),
    (lambda: K.resize_images(rand(1, 2, 2, 1), 2, 2, "channels_last", interpolation="cubic"),
     r"`interpolation`.*'cubic'"),
    (lambda: K.batch_normalization(rand(2, 3), rand(3), rand(3), None, None, axis=4), r"`axis`.*4"),
    (lambda: K.normalize_batch_in_training(rand(2, 3), None, None, [5]), r"`reduction_axes`.*\[5\]"),
    (lambda: K.moving_average_update(np.ones(2), np.ones(2), 0.9), r"moving_average_update: `x` must be a tensor"),
])
def test_bad_arguments_name_argument_and_value(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
