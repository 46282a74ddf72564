"""ConvLSTM2D / ConvLSTM2DCell / ConvRNN2D: a step-by-step numpy ConvLSTM (TensorFlow's conv2d,
Keras 2's hard_sigmoid, gates i, f, c, o) and Keras 3's ConvLSTM2D as oracles; states, masks,
initial states, dropout masks, Keras 2 weight layouts and config keys, .h5 files, training and
bad arguments."""
import doctest
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

import kerosene.layers.convolutional_recurrent as conv_rnn_module
from kerosene import backend as K
from kerosene import layers as L
from kerosene import regularizers
from kerosene.models import Model, Sequential

from _conv_helpers import h5_round_trip, rand

KERAS2_KEYS = {"name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful",
               "unroll", "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
               "activation", "recurrent_activation", "use_bias", "kernel_initializer",
               "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
               "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
               "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout"}


# -- the numpy reference --------------------------------------------------------------------------

def _hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def conv2d_tf(x, w, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """TensorFlow's conv2d, channels-last x (b, rows, cols, in), w (k_rows, k_cols, in, out)."""
    pads, outs = [], []
    for axis in range(2):
        size, k, s, d = x.shape[1 + axis], w.shape[axis], strides[axis], dilation[axis]
        span = (k - 1) * d + 1
        if padding == "same":
            out = -(-size // s)
            total = max((out - 1) * s + span - size, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = -(-(size - span + 1) // s)
            pads.append((0, 0))
        outs.append(out)
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    y = np.zeros((x.shape[0], outs[0], outs[1], w.shape[3]))
    for r in range(outs[0]):
        for c in range(outs[1]):
            for i in range(w.shape[0]):
                for j in range(w.shape[1]):
                    y[:, r, c] += xp[:, r * strides[0] + i * dilation[0], c * strides[1] + j * dilation[1]] @ w[i, j]
    return y


def conv_lstm_reference(x, kernel, recurrent_kernel, bias, strides=(1, 1), padding="valid",
                        dilation=(1, 1), recurrent_activation=_hard_sigmoid, initial=None,
                        go_backwards=False, channels_first=False, masks=None):
    """Outputs (b, t, ...), h, c of Keras 2's ConvLSTM2D; ``masks``: per-gate dropout masks
    ([4 input masks], [4 state masks], channels-last) or None."""
    if channels_first:
        x = x.transpose(0, 1, 3, 4, 2)
        initial = None if initial is None else [s.transpose(0, 2, 3, 1) for s in initial]
    f = kernel.shape[-1] // 4
    if go_backwards:
        x = x[:, ::-1]
    if initial is None:
        shape = conv2d_tf(x[:, 0], kernel[..., :f], strides, padding, dilation).shape
        h, c = np.zeros(shape), np.zeros(shape)
    else:
        h, c = initial
    outs = []
    for t in range(x.shape[1]):
        gates = []
        for g in range(4):
            xg = x[:, t] * masks[0][g] if masks else x[:, t]
            hg = h * masks[1][g] if masks else h
            z = conv2d_tf(xg, kernel[..., g * f:(g + 1) * f], strides, padding, dilation)
            z = z + conv2d_tf(hg, recurrent_kernel[..., g * f:(g + 1) * f], padding="same")
            gates.append(z + (bias[g * f:(g + 1) * f] if bias is not None else 0.0))
        i, fg, cc, o = gates
        c = recurrent_activation(fg) * c + recurrent_activation(i) * np.tanh(cc)
        h = recurrent_activation(o) * np.tanh(c)
        outs.append(h)
    outs = np.stack(outs, 1)
    if channels_first:
        return outs.transpose(0, 1, 4, 2, 3), h.transpose(0, 3, 1, 2), c.transpose(0, 3, 1, 2)
    return outs, h, c


def _set_random_weights(layer, seed=4, scale=0.4):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=scale, size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def _np(t):
    return t.detach().numpy()


CASES = [dict(), dict(padding="same"), dict(padding="same", strides=2), dict(strides=(2, 1)),
         dict(padding="same", dilation_rate=2), dict(kernel_size=(2, 3), padding="same"),
         dict(data_format="channels_first"), dict(data_format="channels_first", padding="same", strides=2),
         dict(go_backwards=True), dict(use_bias=False)]


def _input(kwargs, seed=0, batch=2, steps=3):
    if kwargs.get("data_format") == "channels_first":
        return rand(batch, steps, 2, 6, 7, seed=seed)
    return rand(batch, steps, 6, 7, 2, seed=seed)


@pytest.mark.parametrize("kwargs", CASES)
def test_matches_numpy_reference(kwargs):
    kwargs = dict(kwargs)
    k = kwargs.pop("kernel_size", 3)
    layer = L.ConvLSTM2D(3, k, return_sequences=True, return_state=True, **kwargs)
    x = _input(kwargs)
    layer(torch.as_tensor(x))
    weights = _set_random_weights(layer)
    kernel, recurrent = weights[:2]
    bias = weights[2] if len(weights) == 3 else None
    outs, h, c = [_np(t) for t in layer(torch.as_tensor(x))]
    want = conv_lstm_reference(x, kernel, recurrent, bias, strides=layer.strides, padding=layer.padding,
                               dilation=layer.dilation_rate, go_backwards=layer.go_backwards,
                               channels_first=layer.data_format == "channels_first")
    for got, ref in zip((outs, h, c), want):
        np.testing.assert_allclose(got, ref, atol=1e-5)
    np.testing.assert_allclose(outs[:, -1], h)
    assert [outs.shape, h.shape, c.shape] == [tuple(s) for s in layer.compute_output_shape(x.shape)]


@pytest.mark.parametrize("kwargs", CASES)
def test_matches_keras3(kwargs):
    keras = pytest.importorskip("keras")
    kwargs = dict(kwargs)
    k = kwargs.pop("kernel_size", 3)
    # Keras 3's hard_sigmoid is not Keras 2's (relu6(x + 3) / 6): compare with the exact sigmoid.
    ours = L.ConvLSTM2D(3, k, recurrent_activation="sigmoid", return_sequences=True, **kwargs)
    theirs = keras.layers.ConvLSTM2D(3, k, recurrent_activation="sigmoid", return_sequences=True, **kwargs)
    x = _input(kwargs)
    ours(torch.as_tensor(x))
    theirs(x)
    weights = _set_random_weights(ours)
    assert [w.shape for w in weights] == [tuple(w.shape) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    got = _np(ours(torch.as_tensor(x)))
    want = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_recurrent_activation_default_is_keras2_hard_sigmoid():
    layer = L.ConvLSTM2D(2, 3)
    assert layer.recurrent_activation(torch.tensor([-3.0, 0.0, 1.0, 3.0])).tolist() == pytest.approx(
        [0.0, 0.5, 0.7, 1.0])


def test_weight_layouts_and_unit_forget_bias():
    layer = L.ConvLSTM2D(4, (2, 3), name="clstm")
    layer(torch.zeros(1, 2, 5, 5, 3))
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (2, 3, 3, 16) and recurrent.shape == (2, 3, 4, 16) and bias.shape == (16,)
    assert layer.keras_weight_names() == ["kernel:0", "recurrent_kernel:0", "bias:0"]
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)
    plain = L.ConvLSTM2D(4, 2, unit_forget_bias=False, bias_initializer="ones")
    plain(torch.zeros(1, 2, 5, 5, 3))
    np.testing.assert_array_equal(plain.get_weights()[2], np.ones(16))
    # set_weights then get_weights gives back the same arrays (the torch layout is only storage)
    weights = _set_random_weights(layer)
    for a, b in zip(weights, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_initial_state_tensors_and_symbolic():
    layer = L.ConvLSTM2D(2, 3, padding="same", return_state=True)
    x = rand(2, 3, 5, 5, 2)
    h0, c0 = rand(2, 5, 5, 2, seed=7), rand(2, 5, 5, 2, seed=8)
    layer(torch.as_tensor(x))
    kernel, recurrent, bias = _set_random_weights(layer)
    out, h, c = layer(torch.as_tensor(x), initial_state=[torch.as_tensor(h0), torch.as_tensor(c0)])
    _, h_ref, c_ref = conv_lstm_reference(x, kernel, recurrent, bias, padding="same", initial=[h0, c0])
    np.testing.assert_allclose(_np(h), h_ref, atol=1e-5)
    np.testing.assert_allclose(_np(c), c_ref, atol=1e-5)
    # the functional API: the states are inputs of the model
    xi, hi, ci = L.Input(shape=(3, 5, 5, 2)), L.Input(shape=(5, 5, 2)), L.Input(shape=(5, 5, 2))
    symbolic = layer(xi, initial_state=[hi, ci])
    model = Model([xi, hi, ci], symbolic[1])
    np.testing.assert_allclose(model.predict([x, h0, c0]), h_ref, atol=1e-5)
    # get_initial_state gives zeros of one output step's shape
    zeros = layer.get_initial_state(torch.as_tensor(x))
    assert [tuple(z.shape) for z in zeros] == [(2, 5, 5, 2)] * 2 and all(float(z.abs().sum()) == 0 for z in zeros)
    strided = L.ConvLSTM2D(3, 3, strides=2, data_format="channels_first")
    assert [tuple(z.shape) for z in strided.get_initial_state(torch.zeros(4, 2, 1, 9, 7))] == [(4, 3, 4, 3)] * 2


def test_wrong_number_of_initial_states():
    layer = L.ConvLSTM2D(2, 3, padding="same")
    with pytest.raises(ValueError, match="2 state\\(s\\) but was passed 1"):
        layer(torch.zeros(1, 2, 4, 4, 1), initial_state=[torch.zeros(1, 4, 4, 2)])


def test_mask_keeps_states_at_masked_steps():
    layer = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    x = rand(2, 4, 5, 5, 1)
    layer(torch.as_tensor(x))
    kernel, recurrent, bias = _set_random_weights(layer)
    mask = torch.tensor([[True, True, False, True], [True, True, True, True]])
    got = _np(layer(torch.as_tensor(x), mask=mask))
    # sample 0 skips step 2: its step-2 output repeats step 1, and step 3 follows step 1's states
    skipped = np.concatenate([x[:1, :2], x[:1, 3:]], 1)
    ref0, _, _ = conv_lstm_reference(skipped, kernel, recurrent, bias, padding="same")
    np.testing.assert_allclose(got[0, [0, 1, 3]], ref0[0], atol=1e-5)
    np.testing.assert_allclose(got[0, 2], got[0, 1])
    ref1, _, _ = conv_lstm_reference(x[1:], kernel, recurrent, bias, padding="same")
    np.testing.assert_allclose(got[1], ref1[0], atol=1e-5)
    assert layer.compute_mask(torch.as_tensor(x), mask) is mask


def test_stateful_carries_and_resets_states():
    layer = L.ConvLSTM2D(2, 3, padding="same", stateful=True, batch_input_shape=(2, None, 4, 4, 1))
    whole = L.ConvLSTM2D(2, 3, padding="same")
    x = rand(2, 4, 4, 4, 1)
    layer(torch.as_tensor(x[:, :2]))
    whole(torch.as_tensor(x))
    weights = _set_random_weights(layer)
    whole.set_weights(weights)
    layer.reset_states()
    assert all(float(s.abs().sum()) == 0 for s in layer.states)
    layer(torch.as_tensor(x[:, :2]))
    second = layer(torch.as_tensor(x[:, 2:]))
    np.testing.assert_allclose(_np(second), _np(whole(torch.as_tensor(x))), atol=1e-5)
    np.testing.assert_allclose(_np(layer.states[0]), _np(second))
    # reset_states with values: the next batch starts from them
    h0, c0 = rand(2, 4, 4, 2, seed=1), rand(2, 4, 4, 2, seed=2)
    layer.reset_states([h0, c0])
    np.testing.assert_allclose(_np(layer.states[1]), c0)
    got = _np(layer(torch.as_tensor(x)))
    np.testing.assert_allclose(got, conv_lstm_reference(x, *weights, padding="same", initial=[h0, c0])[1],
                               atol=1e-5)
    with pytest.raises(ValueError, match="State 0 is incompatible.*expected shape \\(2, 4, 4, 2\\).*"
                                         "\\(2, 4, 4, 3\\)"):
        layer.reset_states([np.zeros((2, 4, 4, 3)), c0])
    with pytest.raises(ValueError, match="expects 2 states.*1 value"):
        layer.reset_states([h0])
    with pytest.raises(AttributeError, match="must be stateful"):
        whole.reset_states([h0, c0])


def test_stateful_sequential_model_keeps_states_between_predicts():
    model = Sequential([L.ConvLSTM2D(2, 3, padding="same", stateful=True, batch_input_shape=(1, 2, 4, 4, 1))])
    layer = model.layers[0]
    _set_random_weights(layer)
    x = np.ones((1, 2, 4, 4, 1), "float32")
    first, second = model.predict(x), model.predict(x)
    assert not np.allclose(first, second)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x), first, atol=1e-6)


def test_dropout_masks_are_per_gate_and_shared_across_steps():
    torch.manual_seed(0)
    layer = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, dropout=0.5, recurrent_dropout=0.3)
    x = rand(2, 3, 5, 5, 2)
    layer(torch.as_tensor(x))
    kernel, recurrent, bias = _set_random_weights(layer)
    layer.eval()  # inference: no dropout
    np.testing.assert_allclose(_np(layer(torch.as_tensor(x))),
                               conv_lstm_reference(x, kernel, recurrent, bias, padding="same")[0], atol=1e-5)
    layer.train()
    try:
        got = _np(layer(torch.as_tensor(x)))
        cell = layer.cell
        # the masks of the sequence just run (stored channels-first), as channels-last arrays
        masks = ([_np(m).transpose(0, 2, 3, 1) for m in cell._dropout_mask],
                 [_np(m).transpose(0, 2, 3, 1) for m in cell._recurrent_dropout_mask])
        assert len(masks[0]) == len(masks[1]) == 4
        assert not np.allclose(masks[0][0], masks[0][1])
        assert set(np.unique(masks[0][0])) <= {0.0, 2.0}
        want = conv_lstm_reference(x, kernel, recurrent, bias, padding="same", masks=masks)[0]
        np.testing.assert_allclose(got, want, atol=1e-5)
        assert not np.allclose(_np(layer(torch.as_tensor(x))), got)  # new masks for a new sequence
    finally:
        layer.eval()


def test_shapes_with_unknown_dimensions():
    assert L.ConvLSTM2D(2, 3).compute_output_shape((None, None, 10, 10, 3)) == (None, 8, 8, 2)
    assert L.ConvLSTM2D(2, 3, return_sequences=True).compute_output_shape((None, None, 10, 10, 3)) == (
        None, None, 8, 8, 2)
    assert L.ConvLSTM2D(2, 3, strides=2, padding="same", data_format="channels_first").compute_output_shape(
        (None, 4, 3, 9, 10)) == (None, 2, 5, 5)
    assert L.ConvLSTM2D(2, 3, dilation_rate=2).compute_output_shape((None, 4, None, 9, 3)) == (None, None, 5, 2)
    assert L.ConvLSTM2D(2, 3, return_state=True).compute_output_shape((None, 4, 6, 6, 3)) == [
        (None, 4, 4, 2), (None, 4, 4, 2), (None, 4, 4, 2)]
    x = L.Input(shape=(None, 6, 6, 2))
    y = L.ConvLSTM2D(3, 3, return_sequences=True)(x)
    # (kerosene's symbolic shapes keep only the batch dimension unknown: time shows the probe's size)
    assert tuple(y.shape)[0] is None and tuple(y.shape)[2:] == (4, 4, 3)
    model = Model(x, y)
    assert model.predict(rand(2, 5, 6, 6, 2)).shape == (2, 5, 4, 4, 3)


def test_regularizers_and_constraints():
    layer = L.ConvLSTM2D(2, 3, padding="same", kernel_regularizer=regularizers.L1L2(l1=0.01),
                         recurrent_regularizer="l2", bias_regularizer="l2", activity_regularizer="l2",
                         kernel_constraint="max_norm", recurrent_constraint="non_neg", bias_constraint="non_neg")
    layer.build((1, 2, 5, 5, 2))
    assert len(layer.losses) == 3
    layer(torch.ones(1, 2, 5, 5, 2))
    assert len(layer.losses) == 4
    _set_random_weights(layer)
    layer.apply_constraints()
    _, recurrent, bias = layer.get_weights()
    assert recurrent.min() >= 0 and bias.min() >= 0


def test_get_config_keys_and_round_trip():
    layer = L.ConvLSTM2D(3, (2, 3), strides=2, padding="same", data_format="channels_first",
                         recurrent_activation="sigmoid", return_sequences=True, go_backwards=True,
                         kernel_regularizer="l2", dropout=0.25, name="clstm")
    config = layer.get_config()
    assert set(config) == KERAS2_KEYS
    assert config["kernel_size"] == (2, 3) and config["strides"] == (2, 2) and config["dilation_rate"] == (1, 1)
    assert config["recurrent_activation"] == "sigmoid" and config["dropout"] == 0.25
    again = L.ConvLSTM2D.from_config(config)
    assert again.get_config() == config
    assert L.deserialize(L.serialize(layer)).get_config() == config
    cell = L.ConvLSTM2DCell(2, 3, padding="same", dropout=0.1)
    assert L.ConvLSTM2DCell.from_config(cell.get_config()).get_config() == cell.get_config()
    rnn = L.ConvRNN2D(L.ConvLSTM2DCell(2, 3), return_sequences=True)
    again = L.deserialize(L.serialize(rnn))
    assert isinstance(again.cell, L.ConvLSTM2DCell) and again.get_config() == rnn.get_config()


def test_keras2_config_loads():
    config = {"name": "conv_lst_m2d_1", "trainable": True, "batch_input_shape": [None, None, 5, 5, 2],
              "dtype": "float32", "return_sequences": False, "return_state": False, "go_backwards": False,
              "stateful": False, "unroll": False, "filters": 2, "kernel_size": [3, 3], "strides": [1, 1],
              "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "tanh",
              "recurrent_activation": "hard_sigmoid", "use_bias": True,
              "kernel_initializer": {"class_name": "VarianceScaling",
                                     "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform",
                                                "seed": None}},
              "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
              "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": True,
              "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
              "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
              "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0}
    layer = L.deserialize({"class_name": "ConvLSTM2D", "config": config})
    assert layer.filters == 2 and layer.padding == "same"
    assert layer(torch.zeros(1, 3, 5, 5, 2)).shape == (1, 5, 5, 2)


def test_keras3_config_loads():
    keras = pytest.importorskip("keras")
    theirs = keras.layers.ConvLSTM2D(2, 3, padding="same", dropout=0.1, return_sequences=True)
    config = theirs.get_config()
    # Keras 3.15's GlorotUniform config holds input_axes/output_axes, which kerosene's initializers
    # (kerosene/initializers.py, not this layer) do not take yet.
    config["kernel_initializer"] = "glorot_uniform"
    ours = L.ConvLSTM2D.from_config(config)
    assert ours.filters == 2 and ours.dropout == 0.1 and ours.return_sequences


def test_h5_round_trip(tmp_path):
    h5_round_trip(tmp_path, lambda: L.ConvLSTM2D(2, 3, padding="same", name="clstm"), (3, 5, 5, 2),
                  ["kernel", "recurrent_kernel", "bias"])


def test_h5_round_trip_channels_first(tmp_path):
    h5_round_trip(tmp_path, lambda: L.ConvLSTM2D(2, 2, strides=2, data_format="channels_first",
                                                  return_sequences=True, name="clstm_cf"),
                  (2, 2, 6, 6), ["kernel", "recurrent_kernel", "bias"])


def test_fit_changes_every_weight():
    torch.manual_seed(0)
    model = Sequential([L.Input(shape=(3, 6, 6, 2)),
                        L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, recurrent_dropout=0.1),
                        L.ConvLSTM2D(2, 3), L.Flatten(), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    x, y = rand(8, 3, 6, 6, 2), rand(8, 1, seed=1)
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for old, new in zip(before, model.get_weights()):
        assert np.abs(old - new).min() > 0, old.shape   # every element moved


@pytest.mark.parametrize("make, error, match", [
    (lambda: L.ConvLSTM2D(2, 3, unroll=True), TypeError, "'unroll' must be False"),
    (lambda: L.ConvRNN2D([L.ConvLSTM2DCell(2, 3), L.ConvLSTM2DCell(2, 3)]), TypeError, "cannot be stacked"),
    (lambda: L.ConvLSTM2D(2, 3, padding="causal"), ValueError, "padding.*'causal'.*'valid', 'same'"),
    (lambda: L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2), ValueError, "'strides' > 1.*'dilation_rate' > 1"),
    (lambda: L.ConvLSTM2D(0, 3), ValueError, "'filters'.*positive integer.*0"),
    (lambda: L.ConvLSTM2D(2, (3, 3, 3)), ValueError, "'kernel_size'.*tuple of 2"),
    (lambda: L.ConvLSTM2D(2, 3, strides=0), ValueError, "'strides'.*positive.*0"),
    (lambda: L.ConvLSTM2D(2, 3, dropout=1.5), ValueError, "'dropout'.*between 0 and 1.*1.5"),
    (lambda: L.ConvLSTM2D(2, 3, recurrent_dropout=-0.1), ValueError, "'recurrent_dropout'"),
    (lambda: L.ConvLSTM2D(2, 3, data_format="NHWC"), ValueError, "'data_format'.*'NHWC'"),
    (lambda: L.ConvLSTM2D(2, 3, recurrent_regularizer="bogus"), ValueError, "recurrent_regularizer"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_inputs():
    with pytest.raises(ValueError, match="rank 5"):
        L.ConvLSTM2D(2, 3)(torch.zeros(1, 5, 5, 2))
    with pytest.raises(ValueError, match="channel dimension.*must be defined"):
        L.ConvLSTM2D(2, 3).build((None, 2, 5, 5, None))
    layer = L.ConvLSTM2D(2, 3)
    layer(torch.zeros(1, 2, 5, 5, 2))
    with pytest.raises(ValueError, match="axis -1 of input to have value 2"):
        layer(torch.zeros(1, 2, 5, 5, 3))
    first = L.ConvLSTM2D(2, 3, data_format="channels_first")
    first(torch.zeros(1, 2, 3, 5, 5))
    with pytest.raises(ValueError, match="axis 2 of input to have value 3"):
        first(torch.zeros(1, 2, 4, 5, 5))
    with pytest.raises(ValueError, match="ndim=5"):
        first(torch.zeros(1, 3, 5, 5))


def test_float64_after_set_floatx():
    K.set_floatx("float64")
    try:
        layer = L.ConvLSTM2D(2, 3, stateful=True, batch_input_shape=(1, 2, 5, 5, 1))
        out = layer(torch.ones(1, 2, 5, 5, 1, dtype=torch.float64))
        assert out.dtype == torch.float64 and layer.states[0].dtype == torch.float64
    finally:
        K.set_floatx("float32")


def test_keras2_module_path_and_docstring_examples():
    assert conv_rnn_module.ConvLSTM2D is L.ConvLSTM2D
    assert doctest.testmod(conv_rnn_module).failed == 0


def test_symbolic_call_leaves_carried_states_alone():
    # Calling a stateful layer on symbolic tensors probes it with stand-in data; that is no batch.
    layer = L.ConvLSTM2D(2, 3, padding="same", stateful=True, batch_input_shape=(2, 3, 4, 4, 1))
    layer.build((2, 3, 4, 4, 1))
    h0, c0 = rand(2, 4, 4, 2, seed=1), rand(2, 4, 4, 2, seed=2)
    layer.reset_states([h0, c0])
    layer(L.Input(batch_shape=(2, 3, 4, 4, 1)))
    np.testing.assert_array_equal(_np(layer.states[0]), h0)
    np.testing.assert_array_equal(_np(layer.states[1]), c0)
