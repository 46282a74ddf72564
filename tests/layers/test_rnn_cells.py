"""RNN(cell), StackedRNNCells and the Keras 2 cells: against kerosene's LSTM/GRU/SimpleRNN layers
(same weights), a hand computation in numpy, and Keras 3 (torch backend) where Keras 2 and 3 agree."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Model, Sequential, load_model
from kerosene.utils.test_utils import layer_test

RNG = np.random.default_rng(0)


def _x(batch=3, steps=6, dim=5):
    return torch.as_tensor(RNG.normal(size=(batch, steps, dim)).astype("float32"))


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()])


def _np(t):
    if isinstance(t, (list, tuple)):
        return [_np(v) for v in t]
    return t.detach().cpu().numpy()


# The matching layer and cell, with the same (explicit) activations and layout options.
PAIRS = {
    "simple": (lambda **kw: L.SimpleRNN(4, **kw), lambda: L.SimpleRNNCell(4)),
    "lstm": (lambda **kw: L.LSTM(4, recurrent_activation="hard_sigmoid", **kw), lambda: L.LSTMCell(4)),
    "gru": (lambda **kw: L.GRU(4, recurrent_activation="hard_sigmoid", reset_after=False, **kw),
            lambda: L.GRUCell(4)),
    "gru_reset_after": (lambda **kw: L.GRU(4, recurrent_activation="sigmoid", reset_after=True, **kw),
                        lambda: L.GRUCell(4, recurrent_activation="sigmoid", reset_after=True)),
}
OPTIONS = [{}, {"return_sequences": True}, {"return_state": True}, {"go_backwards": True},
           {"return_sequences": True, "return_state": True, "go_backwards": True}]


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(o) or "plain")
def test_rnn_of_cell_equals_layer(kind, options):
    make_layer, make_cell = PAIRS[kind]
    x = _x()
    layer = make_layer(**options)
    layer(x)
    _randomize(layer)
    rnn = L.RNN(make_cell(), **options)
    rnn(x)
    rnn.set_weights(layer.get_weights())
    ours, theirs = _np(rnn(x)), _np(layer(x))
    for a, b in zip(ours if isinstance(ours, list) else [ours], theirs if isinstance(theirs, list) else [theirs]):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("backwards", [False, True])
def test_masked_steps_match_layer_and_keep_states(kind, backwards):
    make_layer, make_cell = PAIRS[kind]
    x = _x()
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    if backwards:   # the steps are read last first: the padding is then where the forward case has it
        mask, x = mask.flip(1), x.flip(1)
    layer = make_layer(return_sequences=True, return_state=True, go_backwards=backwards)
    layer(x)
    _randomize(layer)
    rnn = L.RNN(make_cell(), return_sequences=True, return_state=True, go_backwards=backwards)
    rnn(x)
    rnn.set_weights(layer.get_weights())
    ours, theirs = rnn(x, mask=mask), layer(x, mask=mask)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)
    seq = _np(ours[0])
    np.testing.assert_allclose(seq[0, 4], seq[0, 3])          # a masked step repeats the output
    np.testing.assert_allclose(seq[1, 0], 0.0)                 # before the first real step: the zero state
    np.testing.assert_allclose(seq[0, -1], _np(ours[1])[0], atol=1e-6)  # the state stopped at step 3


@pytest.mark.parametrize("make_cell", [lambda: L.SimpleRNNCell(4), lambda: L.SimpleRNNCell(4, activation="relu"),
                                       lambda: L.LSTMCell(4, recurrent_activation="sigmoid"),
                                       lambda: L.GRUCell(4, recurrent_activation="sigmoid", reset_after=True)])
def test_fused_kernel_equals_step_loop(make_cell):
    # Without a mask, tanh/sigmoid cells run torch's fused kernel; an all-true mask forces the step loop.
    x = _x()
    rnn = L.RNN(make_cell(), return_sequences=True, return_state=True)
    rnn(x)
    _randomize(rnn)
    states = [torch.full((3, 4), 0.3)] * len(rnn.states)
    fused = rnn(x, initial_state=states)
    loop = rnn(x, initial_state=states, mask=torch.ones(3, 6, dtype=torch.bool))
    for a, b in zip(fused, loop):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)


def test_initial_state_is_used():
    x = _x()
    layer = L.LSTM(4, recurrent_activation="hard_sigmoid")
    layer(x)
    _randomize(layer)
    rnn = L.RNN(L.LSTMCell(4))
    rnn(x)
    rnn.set_weights(layer.get_weights())
    states = [torch.ones(3, 4), -torch.ones(3, 4)]
    np.testing.assert_allclose(_np(rnn(x, initial_state=states)), _np(layer(x, initial_state=states)), atol=1e-5)
    assert not np.allclose(_np(rnn(x, initial_state=states)), _np(rnn(x)))
    with pytest.raises(ValueError, match="2 state"):
        rnn(x, initial_state=[torch.ones(3, 4)])


def test_custom_cell_against_numpy():
    class MinimalCell(L.Layer):
        def __init__(self, units, **kwargs):
            self.units = units
            self.state_size = units
            super().__init__(**kwargs)

        def build(self, input_shape):
            assert len(input_shape) == 2  # no time axis
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            out = inputs @ self.kernel + states[0] @ self.recurrent_kernel
            return out, [out]

    x = _x(2, 4, 3)
    rnn = L.RNN(MinimalCell(5), return_sequences=True)
    out = _np(rnn(x))
    k, rk = [w for w in rnn.get_weights()]
    h = np.zeros((2, 5), "float32")
    for t in range(4):
        h = _np(x)[:, t] @ k + h @ rk
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)
    assert [w.split("/")[-1] for w in rnn.keras_weight_names()] == ["kernel:0", "recurrent_kernel:0"]


def test_non_layer_cell_with_several_states_and_output_size():
    class Cell:
        state_size = (2, 3)
        output_size = 1

        def call(self, inputs, states):
            a, b = states
            return inputs.sum(-1, keepdims=True), [a + 1, b + inputs[:, :3]]

    x = _x(2, 5, 4)
    out, a, b = L.RNN(Cell(), return_state=True)(x)
    assert out.shape == (2, 1) and a.shape == (2, 2) and b.shape == (2, 3)
    np.testing.assert_allclose(_np(a), 5.0)
    np.testing.assert_allclose(_np(b), _np(x[:, :, :3].sum(1)), atol=1e-5)
    np.testing.assert_allclose(_np(out), _np(x[:, -1].sum(-1, keepdim=True)), atol=1e-5)


def test_constants_reach_the_cell():
    class ConstCell(L.Layer):
        state_size = 2

        def call(self, inputs, states, constants):
            return states[0] + constants[0], [states[0] + constants[0]]

    c = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = L.RNN(ConstCell())(_x(2, 3, 4), constants=c)
    np.testing.assert_allclose(_np(out), 3 * _np(c))
    with pytest.raises(ValueError, match="constants"):
        L.RNN(L.SimpleRNNCell(2))(_x(2, 3, 4), constants=c)


def test_stacked_cells_equal_two_stacked_layers():
    x = _x()
    first = L.LSTM(4, recurrent_activation="hard_sigmoid", return_sequences=True)
    second = L.GRU(3, recurrent_activation="hard_sigmoid", reset_after=False)
    expected = second(first(x))
    _randomize(first, 2)
    _randomize(second, 3)
    expected = _np(second(first(x)))
    rnn = L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True)
    assert isinstance(rnn.cell, L.StackedRNNCells) and rnn.cell.state_size == (4, 4, 3)
    rnn(x)
    rnn.set_weights(first.get_weights() + second.get_weights())
    out, h1, c1, h2 = rnn(x)
    np.testing.assert_allclose(_np(out), expected, atol=1e-5)
    np.testing.assert_allclose(_np(h2), expected, atol=1e-5)
    np.testing.assert_allclose(_np(h1), _np(first(x))[:, -1], atol=1e-5)
    assert len(rnn.trainable_weights) == 6
    rnn.cell.cells[0].trainable = False
    assert len(rnn.trainable_weights) == 3 and len(rnn.non_trainable_weights) == 3


def test_stacked_output_shape_and_reverse_state_order():
    cells = [L.LSTMCell(3), L.LSTMCell(6)]
    layer = L.RNN(cells, return_state=True, return_sequences=True)
    assert layer.compute_output_shape((None, 5, 4)) == [(None, 5, 6), (None, 3), (None, 3), (None, 6), (None, 6)]
    layer = L.RNN(L.StackedRNNCells(cells, reverse_state_order=True), return_state=True, return_sequences=True)
    assert layer.compute_output_shape((None, 5, 4)) == [(None, 5, 6), (None, 6), (None, 6), (None, 3), (None, 3)]
    outs = layer(_x(2, 5, 4))
    assert [tuple(o.shape) for o in outs] == [(2, 5, 6), (2, 6), (2, 6), (2, 3), (2, 3)]


@pytest.mark.parametrize("cell", [L.SimpleRNNCell(3), L.LSTMCell(3, unit_forget_bias=False, implementation=2),
                                  L.GRUCell(3, reset_after=True, dropout=0.2),
                                  L.StackedRNNCells([L.LSTMCell(2), L.GRUCell(3)])],
                         ids=lambda c: type(c).__name__)
def test_config_round_trip(cell):
    layer = L.RNN(cell, return_sequences=True, go_backwards=True, stateful=False)
    x = _x(2, 4, 5)
    layer(x)
    config = layer.get_config()
    assert config["cell"]["class_name"] == type(cell).__name__
    clone = L.deserialize(L.serialize(layer))
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(layer.get_weights())
    layer.eval()
    clone.eval()
    np.testing.assert_allclose(_np(clone(x)), _np(layer(x)), atol=1e-6)


def test_keras2_cell_defaults_and_config_keys():
    config = L.LSTMCell(4).get_config()
    assert config["recurrent_activation"] == "hard_sigmoid" and config["implementation"] == 1
    assert config["unit_forget_bias"] is True and config["units"] == 4
    gru = L.GRUCell(4).get_config()
    assert gru["reset_after"] is False and gru["recurrent_activation"] == "hard_sigmoid"
    assert "recurrent_activation" not in L.SimpleRNNCell(4).get_config()
    cell = L.LSTMCell(2)
    cell.build((None, 3))
    np.testing.assert_allclose(cell.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])  # unit forget bias


def test_h5_round_trip(tmp_path):
    model = Sequential([L.RNN([L.LSTMCell(4), L.SimpleRNNCell(3)], input_shape=(6, 5)), L.Dense(2)])
    model.compile("sgd", "mse")
    x = _np(_x())
    before = model.predict(x)
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), before, atol=1e-6)
    assert isinstance(loaded.layers[0].cell, L.StackedRNNCells)


class _ConstantsCell(L.Layer):
    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        step, constant = input_shape  # [step input, constant]
        self.kernel = self.add_weight(shape=(step[-1], self.units), name="kernel")
        self.constant_kernel = self.add_weight(shape=(constant[-1], self.units), name="constant_kernel")

    def call(self, inputs, states, constants):
        out = inputs @ self.kernel + states[0] + constants[0] @ self.constant_kernel
        return out, [out]

    def get_config(self):
        return dict(super().get_config(), units=self.units)


def test_symbolic_state_and_constants_survive_h5(tmp_path):
    x, s, c = L.Input((None, 5)), L.Input((4,)), L.Input((3,))
    model = Model([x, s, c], L.RNN(_ConstantsCell(4))(x, initial_state=s, constants=c))
    model.compile("sgd", "mse")
    data = [RNG.random((2, 6, 5)).astype("float32"), RNG.random((2, 4)).astype("float32"),
            RNG.random((2, 3)).astype("float32")]
    before = model.predict(data)
    assert not np.allclose(model.predict([data[0], data[1] + 1.0, data[2]]), before)   # the state is used
    model.save(str(tmp_path / "m.h5"))
    loaded = load_model(str(tmp_path / "m.h5"), custom_objects={"_ConstantsCell": _ConstantsCell})
    np.testing.assert_allclose(loaded.predict(data), before, atol=1e-6)
    assert loaded.layers[-1].get_config()["num_constants"] == 1


def test_functional_symbolic_initial_state_and_training_step():
    inputs = L.Input((6, 5))
    state = [L.Input((4,)), L.Input((4,))]
    out = L.RNN(L.LSTMCell(4, dropout=0.1, recurrent_dropout=0.1))(inputs, initial_state=state)
    model = Model([inputs] + state, out)
    model.compile("sgd", "mse")
    x, s = _np(_x()), [np.zeros((3, 4), "float32")] * 2
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch([x] + s, np.ones((3, 4), "float32"))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    y1, y2 = model.predict([x] + s), model.predict([x] + s)
    np.testing.assert_allclose(y1, y2)  # no dropout at inference


def test_dropout_masks_are_fixed_within_a_sequence():
    cell = L.SimpleRNNCell(3, dropout=0.5, kernel_initializer="ones", recurrent_initializer="zeros")
    rnn = L.RNN(cell, return_sequences=True)
    x = torch.ones(4, 5, 6)
    out = _np(rnn(x, training=True))
    np.testing.assert_allclose(out, np.repeat(out[:, :1], 5, axis=1))  # same input, same mask -> same step
    assert not np.allclose(out, _np(rnn(x, training=False)))


def _hsig(v):
    return np.clip(0.2 * v + 0.5, 0.0, 1.0)


@pytest.mark.parametrize("implementation", [1, 2])
def test_lstm_cell_dropout_against_numpy(implementation):
    # Keras 2: implementation 1 draws one mask per gate (i, f, c, o), 2 one mask for all; fixed over the sequence.
    cell = L.LSTMCell(3, dropout=0.4, recurrent_dropout=0.4, implementation=implementation)
    rnn = L.RNN(cell, return_sequences=True)
    x = _x(4, 5, 6)
    rnn(x)
    _randomize(rnn)
    out = _np(rnn(x, training=True))
    k, rk, b = rnn.get_weights()
    dm = [_np(m) for m in cell._dropout_mask]
    rm = [_np(m) for m in cell._recurrent_dropout_mask]
    assert len(dm) == len(rm) == (4 if implementation == 1 else 1)
    dm, rm = dm * (4 // len(dm)), rm * (4 // len(rm))
    h, c, xs = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32"), _np(x)
    for t in range(5):
        z = [(xs[:, t] * dm[g]) @ k[:, 3 * g:3 * g + 3] + (h * rm[g]) @ rk[:, 3 * g:3 * g + 3] + b[3 * g:3 * g + 3]
             for g in range(4)]
        c = _hsig(z[1]) * c + _hsig(z[0]) * np.tanh(z[2])
        h = _hsig(z[3]) * np.tanh(c)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-4, atol=1e-5)


def test_stateful_rnn_carries_and_resets_states():
    rnn = L.RNN(L.GRUCell(3), stateful=True, batch_input_shape=(2, 4, 5))
    assert rnn.states == [None]
    rnn.build((2, 4, 5))
    np.testing.assert_allclose(_np(rnn.states[0]), np.zeros((2, 3)))  # zeros once the batch size is known
    x = _x(2, 4, 5)
    a = _np(rnn(x))
    b = _np(rnn(x))
    assert not np.allclose(a, b)
    rnn.reset_states()
    np.testing.assert_allclose(_np(rnn(x)), a, atol=1e-6)
    rnn.reset_states([np.ones((2, 3))])
    np.testing.assert_allclose(_np(rnn.states[0]), 1.0)
    rnn.reset_states(torch.full((2, 3), 2.0))
    np.testing.assert_allclose(_np(rnn.states[0]), 2.0)
    with pytest.raises(ValueError, match="State 0"):
        rnn.reset_states([np.ones((2, 4))])
    with pytest.raises(ValueError, match="expects 1 state"):
        rnn.reset_states([np.ones((2, 3))] * 2)


def test_bad_arguments_are_named():
    class NoStateSize(L.Layer):
        def call(self, inputs, states):
            return inputs, states

    class NoCall:
        state_size = 3

    with pytest.raises(ValueError, match="'cell'.*state_size"):
        L.RNN(NoStateSize())
    with pytest.raises(ValueError, match="'cell'.*call"):
        L.RNN(NoCall())
    with pytest.raises(ValueError, match="'cells'.*state_size"):
        L.StackedRNNCells([L.LSTMCell(2), NoStateSize()])
    with pytest.raises(ValueError, match="'cells'"):
        L.StackedRNNCells([])
    with pytest.raises(ValueError, match="'implementation'.*3"):
        L.LSTMCell(2, implementation=3)
    with pytest.raises(ValueError, match="'units'"):
        L.GRUCell(0)
    with pytest.raises(ValueError, match="'dropout'"):
        L.SimpleRNNCell(2, dropout=1.5)
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        L.RNN(L.LSTMCell(2))(torch.zeros(2, 3))


def test_bidirectional_rnn_of_cell_equals_bidirectional_layer():
    x = _x()
    layer = L.Bidirectional(L.LSTM(4, recurrent_activation="hard_sigmoid", return_sequences=True))
    layer(x)
    _randomize(layer)
    ours = L.Bidirectional(L.RNN(L.LSTMCell(4), return_sequences=True))
    ours(x)
    ours.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(ours(x)), _np(layer(x)), atol=1e-5)
    with_states = L.Bidirectional(L.RNN(L.LSTMCell(4), return_state=True))(x)
    assert [tuple(t.shape) for t in with_states] == [(3, 8)] + [(3, 4)] * 4


@pytest.mark.parametrize("cell", [lambda: L.LSTMCell(3), lambda: L.GRUCell(3, implementation=2, dropout=0.1,
                                                                          recurrent_dropout=0.1),
                                  lambda: [L.SimpleRNNCell(2), L.LSTMCell(3)]])
def test_keras2_layer_test(cell):
    out = layer_test(L.RNN, kwargs={"cell": cell(), "return_sequences": True}, input_shape=(2, 4, 5))
    assert out.shape == (2, 4, 3)


keras = pytest.importorskip("keras")


@pytest.mark.parametrize("name,kwargs", [("SimpleRNNCell", {}), ("LSTMCell", {"recurrent_activation": "sigmoid"}),
                                         ("GRUCell", {"recurrent_activation": "sigmoid", "reset_after": False}),
                                         ("GRUCell", {"recurrent_activation": "sigmoid", "reset_after": True})])
def test_against_keras3(name, kwargs):
    x = _np(_x())
    ours = L.RNN(getattr(L, name)(4, **kwargs), return_sequences=True, go_backwards=True)
    ours(torch.as_tensor(x))
    _randomize(ours)
    theirs = keras.layers.RNN(getattr(keras.layers, name)(4, **kwargs), return_sequences=True, go_backwards=True)
    theirs(x)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(_np(ours(torch.as_tensor(x))), keras.ops.convert_to_numpy(theirs(x)), atol=1e-5)


@pytest.mark.parametrize("zero_output", [False, True])
def test_masking_against_keras3(zero_output):
    x = _np(_x())
    mask = np.ones((3, 6), bool)
    mask[0, 3:] = False
    mask[2, 1:3] = False
    kwargs = {"return_sequences": True, "return_state": True, "zero_output_for_mask": zero_output}
    ours = L.RNN(L.LSTMCell(4, recurrent_activation="sigmoid"), **kwargs)
    ours(torch.as_tensor(x))
    _randomize(ours)
    theirs = keras.layers.RNN(keras.layers.LSTMCell(4, recurrent_activation="sigmoid"), **kwargs)
    theirs(x)
    theirs.set_weights(ours.get_weights())
    got = ours(torch.as_tensor(x), mask=torch.as_tensor(mask))
    want = theirs(x, mask=mask)
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), keras.ops.convert_to_numpy(b), atol=1e-5)
    assert ours.get_config().get("zero_output_for_mask", False) is zero_output


@pytest.mark.parametrize("make", [lambda **kw: L.LSTM(3, **kw), lambda **kw: L.GRU(3, **kw),
                                  lambda **kw: L.SimpleRNN(3, **kw)])
def test_layers_reset_states_as_keras2(make):
    # kerosene's LSTM/GRU/SimpleRNN share RNN's checked reset_states (Keras 2's tests/.../recurrent_test.py).
    layer = make(stateful=True)
    layer.build((2, 4, 5))
    layer.reset_states()
    np.testing.assert_allclose(_np(layer.states[0]), np.zeros((2, 3)))
    layer.reset_states([np.ones((2, 3))] * len(layer.states))
    np.testing.assert_allclose(_np(layer.states[0]), 1.0)
    x = _x(2, 4, 5)
    first = _np(layer(x))
    assert not np.allclose(_np(layer(x)), first)        # the states moved on
    layer.reset_states([np.ones((2, 3))] * len(layer.states))
    np.testing.assert_allclose(_np(layer(x)), first, atol=1e-6)
    with pytest.raises(ValueError, match="expects"):
        layer.reset_states([1] * (len(layer.states) + 1))
