"""TimeDistributed and Bidirectional as Keras 2.2.4 has them: the masks TimeDistributed passes
on (also as symbolic tensors), its record of the inner inputs, Bidirectional's initial_state
and constants (as keyword arguments or one flat list), and their configs."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene import layers as L
from kerosene.models import Model, Sequential, load_model
from kerosene.utils.generic_utils import custom_object_scope, object_list_uid

RNG = np.random.default_rng(3)


def test_object_list_uid_names_objects_by_identity():
    a, b = object(), object()
    assert object_list_uid([a, b]) == f"{id(a)}, {id(b)}"
    assert object_list_uid(a) == object_list_uid([a]) == str(id(a))


def test_time_distributed_mask_of_an_inner_masking_or_embedding_layer():
    x = torch.tensor(RNG.integers(1, 5, size=(3, 4, 2)).astype("float32"))
    x[0, 2:] = 0
    x[1, 1] = 0
    mask = L.TimeDistributed(L.Masking(0.0)).compute_mask(x)
    assert mask.tolist() == x.ne(0).any(-1).tolist()
    tokens = torch.tensor([[[1, 0, 2], [0, 0, 0]], [[3, 3, 0], [1, 2, 3]]])
    mask = L.TimeDistributed(L.Embedding(5, 2, mask_zero=True)).compute_mask(tokens)
    assert mask.shape == (2, 2, 3) and mask.tolist() == (tokens != 0).tolist()


def test_time_distributed_passes_the_incoming_mask_reduced_to_steps():
    x = torch.zeros(2, 3, 4, 5)
    inner = torch.tensor([[[True, False, False, False]] * 3, [[False] * 4] * 3])
    inner[1, 0, 2] = True
    rnn = L.TimeDistributed(L.SimpleRNN(2))               # no sequence out: its mask is none
    assert rnn.compute_mask(x, inner).tolist() == inner.any(-1).tolist()
    seq = L.TimeDistributed(L.SimpleRNN(2, return_sequences=True))
    assert seq.compute_mask(x, inner).tolist() == inner.tolist()
    dense = L.TimeDistributed(L.Dense(2))
    steps = torch.tensor([[True, False, True], [False, True, True]])
    assert dense.compute_mask(torch.zeros(2, 3, 4), steps).tolist() == steps.tolist()
    assert dense.compute_mask(torch.zeros(2, 3, 4), None) is None


def test_time_distributed_mask_on_symbolic_tensors_is_computed_by_k_function():
    model = Sequential([L.TimeDistributed(L.Masking(0.0), input_shape=(None, 4)),
                        L.TimeDistributed(L.Dense(5))])
    first, second = model.layers
    m1 = first.compute_mask(model.input)
    m2 = second.compute_mask(second.input, m1)
    assert len(m1.shape) == len(m2.shape) == 2
    assert L.TimeDistributed(L.Dense(5)).compute_mask(model.input) is None    # no mask in, none out
    data = RNG.integers(1, 5, size=(4, 3, 4)).astype("float32")
    data[0, 1:] = 0
    data[2, 2] = 0
    got = K.function([model.input], [m1, m2])([data])
    for value in got:
        np.testing.assert_array_equal(value, data.any(-1))


def test_time_distributed_records_the_inner_input_of_each_symbolic_call():
    td = L.TimeDistributed(L.Dense(3))
    model = Sequential([L.InputLayer(input_shape=(5, 2)), td])
    uid = object_list_uid(model.inputs)
    assert list(td._input_map) == [uid]
    assert K.int_shape(td._input_map[uid]) == (None, 2)
    b = L.Input(shape=(None, 4, 2))
    other = L.TimeDistributed(L.Dense(3))
    functional = Model(b, other(b))
    uid = object_list_uid(functional.inputs)
    assert K.int_shape(other._input_map[uid]) == (None, 4, 2)
    got = K.function(functional.inputs, [other._input_map[uid]])([np.ones((2, 3, 4, 2))])[0]
    assert got.shape == (6, 4, 2)


def _states(units, n):
    return [L.Input(shape=(units,)) for _ in range(n)]


def test_bidirectional_initial_state_must_be_an_even_list():
    x = L.Input(shape=(3, 5))
    states = _states(3, 4)
    with pytest.raises(ValueError, match="forward layer's states followed by the backward layer's.*got 1"):
        L.Bidirectional(L.LSTM(3))(x, initial_state=states[0])
    with pytest.raises(ValueError, match="an even number of tensors\\), got 3"):
        L.Bidirectional(L.LSTM(3))(x, initial_state=states[:3])
    with pytest.raises(ValueError, match="must all be symbolic tensors.*on symbolic inputs"):
        L.Bidirectional(L.LSTM(3))(x, initial_state=[states[0], torch.zeros(1, 3)])
    layer = L.Bidirectional(L.LSTM(3))
    with pytest.raises(ValueError, match="the states after the input.*an even number\\), got 1"):
        layer([torch.zeros(2, 3, 5), torch.zeros(2, 3)])          # a flat list: [inputs, *states]


def test_bidirectional_initial_state_reaches_each_direction():
    units = 3
    x = L.Input(shape=(4, 5))
    states = _states(units, 4)
    layer = L.Bidirectional(L.LSTM(units, return_sequences=True), merge_mode=None)
    out = layer(x, initial_state=states)
    model = Model([x] + states, out)
    assert isinstance(layer.input, list) and len(layer.input) == 5
    assert len(model.layers) == 6
    data = [RNG.random((2, 4, 5)).astype("float32")] + [RNG.random((2, units)).astype("float32") for _ in range(4)]
    fwd, bwd = model.predict(data, verbose=0)
    t = [torch.tensor(d) for d in data]
    want_f = layer.forward_layer(t[0], initial_state=t[1:3]).detach().numpy()
    want_b = layer.backward_layer(t[0], initial_state=t[3:5]).detach().flip(1).numpy()
    np.testing.assert_allclose(fwd, want_f, atol=1e-6)
    np.testing.assert_allclose(bwd, want_b, atol=1e-6)
    changed = model.predict(data[:3] + [data[3] + 1, data[4]], verbose=0)
    np.testing.assert_allclose(changed[0], fwd, atol=1e-6)          # backward states only move the backward half
    assert not np.allclose(changed[1], bwd, atol=1e-3)


class ConstantCell(L.Layer):
    """A cell whose step adds a projection of a constant: ``h = x W + h U + c V``."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        if not isinstance(input_shape, list):
            raise TypeError("ConstantCell.build needs [step shape, constant shape]")
        step, constant = input_shape
        self.kernel = self.add_weight(name="kernel", shape=(step[-1], self.units), initializer="uniform")
        self.recurrent = self.add_weight(name="recurrent", shape=(self.units, self.units), initializer="uniform")
        self.constant_kernel = self.add_weight(name="constant_kernel", shape=(constant[-1], self.units),
                                               initializer="uniform")

    def call(self, inputs, states, constants):
        out = K.dot(inputs, self.kernel) + K.dot(states[0], self.recurrent) + K.dot(constants[0],
                                                                                    self.constant_kernel)
        return out, [out]

    def get_config(self):
        return dict(super().get_config(), units=self.units)


def test_bidirectional_constants_by_keyword_or_flat_list_and_from_config():
    x, c = L.Input(shape=(5, 4)), L.Input(shape=(3,))
    objects = {"ConstantCell": ConstantCell}
    with custom_object_scope(objects):                   # the backward copy is made from the config
        layer = L.Bidirectional(L.RNN(ConstantCell(6)))
    model = Model([x, c], layer(x, constants=c))
    assert layer.get_config()["num_constants"] == 1
    data = [RNG.random((2, 5, 4)).astype("float32"), RNG.random((2, 3)).astype("float32")]
    want = model.predict(data, verbose=0)
    assert want.shape == (2, 12)
    assert not np.allclose(model.predict([data[0], data[1] + 1], verbose=0), want)   # the constant counts
    for call in ("keyword", "flat list"):
        with custom_object_scope(objects):
            again = L.Bidirectional.from_config(layer.get_config())
        y = again(x, constants=c) if call == "keyword" else again([x, c])
        rebuilt = Model([x, c], y)
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_allclose(rebuilt.predict(data, verbose=0), want, atol=1e-6)


def test_bidirectional_layer_is_the_forward_layer_and_h5_round_trip(tmp_path):
    x = L.Input(shape=(4, 5))
    states = _states(2, 2)
    layer = L.Bidirectional(L.GRU(2), name="bi")
    assert layer.layer is layer.forward_layer
    model = Model([x] + states, L.Dense(1)(layer(x, initial_state=states)))
    data = [RNG.random((3, 4, 5)).astype("float32"), RNG.random((3, 2)).astype("float32"),
            RNG.random((3, 2)).astype("float32")]
    path = str(tmp_path / "bi.h5")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-6)


def test_masking_then_a_time_distributed_model_give_symbolic_masks():
    inputs = L.Input(shape=(3, 4))
    masked = L.Masking(0.0)(inputs)
    inner = Sequential([L.Dense(5, input_shape=(4,)), L.Activation("relu")])
    model = Model(inputs, L.TimeDistributed(inner)(masked))
    masking, td = model.layers[1], model.layers[2]
    m1 = masking.compute_mask(masking.input)
    m2 = td.compute_mask(td.input, m1)                    # a wrapped model passes the incoming mask on
    data = RNG.integers(1, 5, size=(5, 3, 4)).astype("float32")
    for i in range(3):
        data[i, i:] = 0
    got = K.function([model.input], [m1, m2])([data])
    for value in got:
        np.testing.assert_array_equal(value, data.any(-1))
    assert masking.compute_mask(torch.tensor(data)).tolist() == data.any(-1).tolist()


def test_masks_made_inside_time_distributed_reach_the_wrapped_rnn_and_the_loss():
    model = Sequential([L.TimeDistributed(L.Embedding(5, 3, mask_zero=True), input_shape=(None, None)),
                        L.TimeDistributed(L.SimpleRNN(2))])
    x = np.array([[[1, 2, 0, 0], [3, 0, 0, 0]], [[4, 4, 4, 0], [1, 1, 1, 1]]])
    out = model.predict(x, verbose=0)
    embedding, rnn = model.layers[0].layer, model.layers[1].layer
    for i in range(2):
        for j in range(2):
            kept = torch.tensor(x[i, j][x[i, j] != 0])[None]
            np.testing.assert_allclose(out[i, j], rnn(embedding(kept)).detach().numpy()[0], atol=1e-6)

    masked = Sequential([L.TimeDistributed(L.Masking(0.0), input_shape=(3, 4)), L.TimeDistributed(L.Dense(1))])
    masked.compile(loss="mse", optimizer="sgd")
    data = RNG.integers(1, 5, size=(4, 3, 4)).astype("float32")
    data[:, 2] = 0
    y = RNG.random((4, 3, 1)).astype("float32")
    y_other = y.copy()
    y_other[:, 2] = 100.0                                 # only the masked step differs
    assert masked.evaluate(data, y, verbose=0) == pytest.approx(masked.evaluate(data, y_other, verbose=0))


def test_losses_for_inputs_through_the_wrappers():
    x = L.Input(shape=(3, 2))
    layer = L.Bidirectional(L.SimpleRNN(3, kernel_regularizer="l1", bias_regularizer="l1"))
    layer(x)
    assert len(layer.losses) == len(layer.get_losses_for(None)) == 4      # two regularizers each way
    assert layer.get_losses_for(x) == []
    layer.forward_layer.add_loss(0.5, inputs=x)                         # a number: a constant loss
    layer.backward_layer.add_loss(lambda: torch.tensor(2.0))
    assert len(layer.losses) == 6
    assert [float(v) for v in layer.get_losses_for(x)] == [0.5]
    assert len(layer.get_losses_for(None)) == 5
    td = L.TimeDistributed(L.Dense(2, kernel_regularizer="l2", activity_regularizer="l1"))
    model = Sequential([L.InputLayer(input_shape=(3, 4)), td])
    kernel = td.layer.kernel.detach()
    assert len(td.get_losses_for(None)) == 1                           # the activity penalty is the call's
    np.testing.assert_allclose(float(td.get_losses_for(None)[0]), 0.01 * float((kernel ** 2).sum()), rtol=1e-5)
    assert len(model.losses) == 2


def test_a_constant_loss_joins_the_training_loss():
    model = Sequential([L.Dense(1, input_dim=3, kernel_initializer="zeros")])
    model.layers[0].add_loss(1.5)
    model.compile("sgd", "mse")
    data, target = np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32")
    assert model.evaluate(data, target, verbose=0) == pytest.approx(1.5)
    with pytest.raises(TypeError, match="`losses` must be tensors.*got bool"):
        model.layers[0].add_loss(True)
