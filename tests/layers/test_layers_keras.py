"""Differential tests: kerosene layers against Keras 3 (torch backend).

Each test builds the same layer in both libraries, copies kerosene's
Keras-oriented weights into the Keras layer with ``set_weights`` and compares
outputs on random input.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import layers as L

keras = pytest.importorskip("keras")

ATOL = 1e-5


def _np(t):
    if isinstance(t, (list, tuple)):
        return [_np(v) for v in t]
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(t)


def _randomize(layer, scale=0.5, seed=0):
    """Give every weight random values so that weight layout mistakes show."""
    rng = np.random.default_rng(seed)
    ws = [rng.normal(scale=scale, size=w.shape).astype("float32") for w in layer.keras_weights()]
    layer.set_keras_weights(ws)


def compare(ours, theirs, x, training=False, randomize=True, atol=ATOL, **kwargs):
    xt = torch.as_tensor(x)
    ours(xt, **kwargs)  # build
    if randomize:
        _randomize(ours)
    theirs(x, **kwargs)  # build
    theirs.set_weights(ours.keras_weights())
    ours.train(training)
    got = _np(ours(xt, training=training, **kwargs)) if _takes_training(ours) else _np(ours(xt))
    want = _np(theirs(x, training=training, **kwargs))
    if isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=atol, rtol=1e-5)
    else:
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=atol, rtol=1e-5)
    return got, want


def _takes_training(layer):
    import inspect
    return "training" in inspect.signature(layer.call).parameters


def rand(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# ------------------------------------------------------------------ core

@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)])
def test_dense(shape):
    compare(L.Dense(5, activation="relu"), keras.layers.Dense(5, activation="relu"),
            rand(*shape))


def test_dense_no_bias_tanh():
    compare(L.Dense(4, activation="tanh", use_bias=False),
            keras.layers.Dense(4, activation="tanh", use_bias=False), rand(3, 6))


# ---------------------------------------------------------- convolutions

@pytest.mark.parametrize("kwargs", [
    dict(padding="valid"),
    dict(padding="same"),
    dict(padding="causal"),
    dict(padding="valid", strides=2),
    dict(padding="same", strides=2),
    dict(padding="same", dilation_rate=2),
    dict(padding="causal", dilation_rate=2),
])
def test_conv1d(kwargs):
    compare(L.Conv1D(4, 3, **kwargs), keras.layers.Conv1D(4, 3, **kwargs), rand(2, 11, 3))


@pytest.mark.parametrize("kwargs,size", [
    (dict(padding="valid"), 9),
    (dict(padding="same"), 9),
    (dict(padding="same", strides=2), 9),
    (dict(padding="same", strides=2), 8),
    (dict(padding="valid", strides=(2, 1)), 9),
    (dict(padding="same", dilation_rate=2), 9),
    (dict(padding="same", kernel_size=(2, 4)), 7),
    (dict(padding="valid", activation="relu", use_bias=False), 6),
    (dict(padding="same", groups=3), 6),
])
def test_conv2d(kwargs, size):
    kwargs = dict(kwargs)
    kernel_size = kwargs.pop("kernel_size", 3)
    compare(L.Conv2D(6, kernel_size, **kwargs), keras.layers.Conv2D(6, kernel_size, **kwargs),
            rand(2, size, size + 1, 3))


def test_conv2d_channels_first():
    compare(L.Conv2D(4, 3, padding="same", data_format="channels_first"),
            keras.layers.Conv2D(4, 3, padding="same", data_format="channels_first"),
            rand(2, 3, 7, 7))


# ---------------------------------------------------------------- pooling

@pytest.mark.parametrize("cls", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("kwargs", [
    dict(pool_size=2), dict(pool_size=3), dict(pool_size=3, strides=2, padding="same"),
    dict(pool_size=2, padding="same"), dict(pool_size=(3, 2), strides=(1, 2), padding="same"),
])
def test_pooling2d(cls, kwargs):
    if cls == "AveragePooling2D" and kwargs.get("pool_size") == 3 and kwargs.get("strides") == 2:
        pytest.skip("asymmetric 'same' average pooling: Keras 3's torch backend pads by "
                    "replicating edges; see test_average_pooling_same_asymmetric_tf_semantics")
    compare(getattr(L, cls)(**kwargs), getattr(keras.layers, cls)(**kwargs), rand(2, 7, 8, 3))


def _tf_avg_pool_same(x, k, s):
    """Reference: TensorFlow's 'same' average pooling (padding not counted)."""
    b, h, w, c = x.shape
    oh, ow = -(-h // s), -(-w // s)
    ph = max((oh - 1) * s + k - h, 0) // 2
    pw = max((ow - 1) * s + k - w, 0) // 2
    out = np.zeros((b, oh, ow, c), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - ph, j * s - pw
            win = x[:, max(r0, 0):min(r0 + k, h), max(c0, 0):min(c0 + k, w)]
            out[:, i, j] = win.mean(axis=(1, 2))
    return out


def test_average_pooling_same_asymmetric_tf_semantics():
    # Keras 2 (TensorFlow) averages only the real cells of a padded window.
    x = rand(2, 7, 8, 3)
    got = L.AveragePooling2D(3, strides=2, padding="same")(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(got, _tf_avg_pool_same(x, 3, 2), atol=1e-6)


@pytest.mark.parametrize("cls", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("kwargs", [dict(pool_size=2),
                                    dict(pool_size=3, strides=2, padding="same")])
def test_pooling1d(cls, kwargs):
    compare(getattr(L, cls)(**kwargs), getattr(keras.layers, cls)(**kwargs), rand(2, 9, 3))


@pytest.mark.parametrize("cls,shape", [
    ("GlobalAveragePooling1D", (2, 5, 3)), ("GlobalMaxPooling1D", (2, 5, 3)),
    ("GlobalAveragePooling2D", (2, 4, 5, 3)), ("GlobalMaxPooling2D", (2, 4, 5, 3)),
])
def test_global_pooling(cls, shape):
    compare(getattr(L, cls)(), getattr(keras.layers, cls)(), rand(*shape))


# ---------------------------------------------------------- normalization

def _bn_weights(ours, rng):
    g, b, m, v = [w.shape for w in ours.keras_weights()]
    return [rng.normal(size=g).astype("float32"), rng.normal(size=b).astype("float32"),
            rng.normal(size=m).astype("float32"),
            rng.uniform(0.5, 2.0, size=v).astype("float32")]


@pytest.mark.parametrize("shape,axis", [((6, 4), -1), ((3, 5, 5, 4), -1), ((3, 4, 5), 1)])
def test_batch_normalization_inference(shape, axis):
    rng = np.random.default_rng(0)
    ours, theirs = L.BatchNormalization(axis=axis), keras.layers.BatchNormalization(axis=axis)
    x = rand(*shape)
    ours(torch.as_tensor(x))
    ours.set_keras_weights(_bn_weights(ours, rng))
    compare(ours, theirs, x, randomize=False)


@pytest.mark.parametrize("shape", [(16, 4), (4, 3, 3, 5)])
def test_batch_normalization_training_step(shape):
    rng = np.random.default_rng(1)
    ours, theirs = L.BatchNormalization(momentum=0.9), keras.layers.BatchNormalization(
        momentum=0.9)
    x = rand(*shape) * 3 + 1
    ours(torch.as_tensor(x))
    ours.set_keras_weights(_bn_weights(ours, rng))
    compare(ours, theirs, x, training=True, randomize=False, atol=1e-4)
    for got, want in zip(ours.keras_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_layer_normalization(axis):
    compare(L.LayerNormalization(axis=axis), keras.layers.LayerNormalization(axis=axis),
            rand(3, 4, 5))


def test_embedding():
    x = np.random.default_rng(0).integers(0, 20, size=(3, 7))
    ours, theirs = L.Embedding(20, 4), keras.layers.Embedding(20, 4)
    compare(ours, theirs, x)


# -------------------------------------------------------------- recurrent

RNN_CASES = [
    dict(), dict(return_sequences=True), dict(go_backwards=True),
    dict(return_sequences=True, go_backwards=True), dict(return_state=True),
    dict(activation="relu", return_sequences=True),  # Python-loop path (LSTM/GRU)
    dict(use_bias=False),
]


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", RNN_CASES)
def test_recurrent(cls, kwargs):
    compare(getattr(L, cls)(5, **kwargs), getattr(keras.layers, cls)(5, **kwargs),
            rand(3, 6, 4))


def test_gru_reset_before():
    compare(L.GRU(5, reset_after=False, return_sequences=True),
            keras.layers.GRU(5, reset_after=False, return_sequences=True), rand(3, 6, 4))


def test_lstm_loop_path_matches_fused_path():
    x = torch.as_tensor(rand(3, 6, 4))
    fused = L.LSTM(5, return_sequences=True)
    fused(x)
    loop = L.LSTM(5, return_sequences=True, activation=torch.tanh)
    loop(x)
    loop._fast = False
    loop.set_keras_weights(fused.keras_weights())
    torch.testing.assert_close(fused(x), loop(x), atol=1e-5, rtol=1e-5)


def test_recurrent_initial_state():
    x = rand(2, 4, 3)
    h, c = rand(2, 5, seed=3), rand(2, 5, seed=4)
    ours, theirs = L.LSTM(5), keras.layers.LSTM(5)
    ours(torch.as_tensor(x))
    _randomize(ours)
    theirs(x)
    theirs.set_weights(ours.keras_weights())
    got = ours(torch.as_tensor(x), initial_state=[torch.as_tensor(h), torch.as_tensor(c)])
    want = theirs(x, initial_state=[h, c])
    np.testing.assert_allclose(_np(got), _np(want), atol=ATOL)


# --------------------------------------------------------------- wrappers

@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional(merge_mode, return_sequences):
    compare(L.Bidirectional(L.LSTM(4, return_sequences=return_sequences), merge_mode=merge_mode),
            keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=return_sequences),
                                       merge_mode=merge_mode),
            rand(2, 5, 3))


def test_bidirectional_gru_return_state():
    compare(L.Bidirectional(L.GRU(4, return_sequences=True, return_state=True)),
            keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True,
                                                        return_state=True)),
            rand(2, 5, 3))


def test_time_distributed_dense():
    compare(L.TimeDistributed(L.Dense(3, activation="sigmoid")),
            keras.layers.TimeDistributed(keras.layers.Dense(3, activation="sigmoid")),
            rand(2, 4, 5))


# ------------------------------------------------------------------ merge

@pytest.mark.parametrize("cls", ["Add", "Subtract", "Multiply", "Average", "Maximum",
                                 "Minimum", "Concatenate"])
def test_merge(cls):
    a, b = rand(3, 4, seed=1), rand(3, 4, seed=2)
    got = getattr(L, cls)()([torch.as_tensor(a), torch.as_tensor(b)])
    want = getattr(keras.layers, cls)()([a, b])
    np.testing.assert_allclose(_np(got), _np(want), atol=ATOL)


@pytest.mark.parametrize("axes,shapes,normalize", [
    (1, [(3, 4), (3, 4)], False), (1, [(3, 4), (3, 4)], True),
    ((2, 2), [(3, 5, 4), (3, 6, 4)], False), ((1, 2), [(3, 4, 5), (3, 6, 4)], False),
])
def test_dot(axes, shapes, normalize):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    layer = L.Dot(axes=axes, normalize=normalize)
    got = layer([torch.as_tensor(a), torch.as_tensor(b)])
    want = keras.layers.Dot(axes=axes, normalize=normalize)([a, b])
    np.testing.assert_allclose(_np(got), _np(want), atol=ATOL)
    assert layer.compute_output_shape(
        [(None,) + s[1:] for s in shapes]) == (None,) + tuple(_np(want).shape[1:])


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_with_mask(cls, return_sequences):
    x = rand(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], bool)
    ours = getattr(L, cls)(4, return_sequences=return_sequences)
    theirs = getattr(keras.layers, cls)(4, return_sequences=return_sequences)
    ours(torch.as_tensor(x))
    _randomize(ours)
    theirs(x)
    theirs.set_weights(ours.keras_weights())
    got = ours(torch.as_tensor(x), mask=torch.as_tensor(mask))
    np.testing.assert_allclose(_np(got), _np(theirs(x, mask=mask)), atol=ATOL)
