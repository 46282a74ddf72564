"""RNN ``initial_state`` given as symbolic tensors: inputs of the layer's call in the graph."""
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Model, load_model


def _model():
    state = L.Input(shape=(4,), name="state")
    seq = L.Input(shape=(6, 3), name="seq")
    out = L.LSTM(4, return_sequences=True, name="lstm")(seq, initial_state=[state, state])
    return Model(inputs=[seq, state], outputs=[out])


def _data():
    rng = np.random.default_rng(0)
    return [rng.uniform(size=(2, 6, 3)).astype("float32"), rng.uniform(size=(2, 4)).astype("float32")]


def test_symbolic_initial_state_is_used_by_the_graph():
    model = _model()
    x, s = _data()
    lstm = model.get_layer("lstm")
    direct = lstm(torch.tensor(x), initial_state=[torch.tensor(s), torch.tensor(s)]).detach().numpy()
    np.testing.assert_allclose(model.predict([x, s]), direct, atol=1e-6)
    zeros = model.predict([x, np.zeros_like(s)])
    assert np.abs(zeros - direct).max() > 1e-3  # the state input matters


def test_symbolic_initial_state_is_recorded_as_inputs_of_the_node():
    config = _model().get_config()
    spec = next(layer for layer in config["layers"] if layer["name"] == "lstm")
    assert [entry[0] for entry in spec["inbound_nodes"][0]] == ["seq", "state", "state"]


def test_model_with_symbolic_initial_state_round_trips_through_h5(tmp_path):
    model = _model()
    x, s = _data()
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict([x, s]), model.predict([x, s]), atol=1e-6)


def test_symbolic_initial_state_trains():
    model = _model()
    model.compile(loss="mse", optimizer="sgd")
    x, s = _data()
    before = model.get_weights()
    model.train_on_batch([x, s], np.zeros((2, 6, 4), "float32"))
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))


def test_initial_state_mixing_symbolic_and_real_tensors_is_refused():
    seq, state = L.Input(shape=(6, 3)), L.Input(shape=(4,))
    with pytest.raises(ValueError, match=r"`initial_state` must be all symbolic.*InputLayer.*Tensor"):
        L.LSTM(4)(seq, initial_state=[state, torch.zeros(1, 4)])
    with pytest.raises(ValueError, match=r"`initial_state` must be all symbolic"):
        L.GRU(4)(torch.zeros(2, 6, 3), initial_state=[state])


def test_wrong_number_of_symbolic_states_is_a_clear_error():
    seq, state = L.Input(shape=(6, 3)), L.Input(shape=(4,))
    with pytest.raises(ValueError, match=r"expects 2 initial state tensor\(s\), got 1"):
        L.LSTM(4)(seq, initial_state=[state])


@pytest.mark.parametrize("cls,n_states", [(L.SimpleRNN, 1), (L.GRU, 1), (L.CuDNNLSTM, 2), (L.CuDNNGRU, 1)])
def test_every_recurrent_layer_takes_symbolic_initial_states(cls, n_states):
    seq, state = L.Input(shape=(6, 3)), L.Input(shape=(4,))
    layer = cls(4)
    model = Model([seq, state], layer(seq, initial_state=[state] * n_states))
    x, s = _data()
    direct = layer(torch.tensor(x), initial_state=[torch.tensor(s)] * n_states).detach().numpy()
    np.testing.assert_allclose(model.predict([x, s]), direct, atol=1e-6)
