"""A model called on symbolic tensors is one layer of the new graph (Keras 2), not inlined."""
import h5py
import numpy as np
import torch

from kerosene import layers as L
from kerosene.layers.masking import mask_of
from kerosene.models import Model, Sequential, load_model


def _inner(name="inner"):
    x = L.Input(shape=(3,), name=f"{name}_input")
    h = L.Dense(4, activation="tanh", name=f"{name}_hidden")(x)
    return Model(x, L.Dense(2, name=f"{name}_out")(h), name=name)


def _outer(inner):
    x = L.Input(shape=(3,), name="outer_input")
    return Model(x, L.Dense(1, name="outer_out")(inner(x)))


def _x():
    return np.random.default_rng(0).uniform(size=(5, 3)).astype("float32")


def test_a_called_model_is_one_layer_sharing_its_weights():
    inner = _inner()
    outer = _outer(inner)
    assert [layer.name for layer in outer.layers] == ["outer_input", "inner", "outer_out"]
    assert outer.get_layer("inner") is inner
    x = _x()
    expected = outer.get_layer("outer_out")(inner(torch.tensor(x))).detach().numpy()
    np.testing.assert_allclose(outer.predict(x), expected, atol=1e-6)
    outer.compile(loss="mse", optimizer="sgd")
    before = [w.copy() for w in inner.get_weights()]
    outer.train_on_batch(x, np.ones((5, 1), "float32"))
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, inner.get_weights()))
    assert len(outer.trainable_weights) == 6


def test_nested_model_round_trips_through_h5_in_keras2_layout(tmp_path):
    outer = _outer(_inner())
    x = _x()
    path = str(tmp_path / "nested.h5")
    outer.save(path)
    with h5py.File(path, "r") as f:
        weights = f["model_weights"]
        assert "inner" in weights and "inner_hidden" not in weights
        names = [n.decode() if isinstance(n, bytes) else n for n in weights["inner"].attrs["weight_names"]]
        assert names[0].startswith("inner_hidden/") and len(names) == 4
    loaded = load_model(path)
    assert [layer.name for layer in loaded.layers] == ["outer_input", "inner", "outer_out"]
    assert isinstance(loaded.get_layer("inner"), Model)
    np.testing.assert_allclose(loaded.predict(x), outer.predict(x), atol=1e-6)


def test_a_nested_sequential_is_one_layer_and_round_trips(tmp_path):
    seq = Sequential([L.Dense(4, input_shape=(3,), name="s_hidden"), L.Dense(2, name="s_out")], name="seq")
    x_in = L.Input(shape=(3,), name="outer_input")
    outer = Model(x_in, L.Dense(1, name="outer_out")(seq(x_in)))
    assert [layer.name for layer in outer.layers] == ["outer_input", "seq", "outer_out"]
    path = str(tmp_path / "seq.h5")
    outer.save(path)
    loaded = load_model(path)
    assert isinstance(loaded.get_layer("seq"), Sequential)
    np.testing.assert_allclose(loaded.predict(_x()), outer.predict(_x()), atol=1e-6)


def test_a_model_called_twice_is_one_shared_layer(tmp_path):
    inner = _inner()
    a, b = L.Input(shape=(3,), name="a"), L.Input(shape=(3,), name="b")
    merged = L.Add(name="add")([inner(a), inner(b)])
    outer = Model([a, b], merged)
    assert [layer.name for layer in outer.layers].count("inner") == 1
    xa, xb = _x(), _x()[::-1].copy()
    expected = (inner(torch.tensor(xa)) + inner(torch.tensor(xb))).detach().numpy()
    np.testing.assert_allclose(outer.predict([xa, xb]), expected, atol=1e-6)
    path = str(tmp_path / "shared.h5")
    outer.save(path)
    np.testing.assert_allclose(load_model(path).predict([xa, xb]), expected, atol=1e-6)


def test_a_nested_model_passes_its_output_mask_on():
    seq_in = L.Input(shape=(4, 2), name="seq_in")
    inner = Model(seq_in, L.Dense(3)(L.Masking(0.0)(seq_in)), name="masker")
    x_in = L.Input(shape=(4, 2))
    outer = Model(x_in, L.LSTM(2, return_sequences=True)(inner(x_in)))
    x = np.ones((2, 4, 2), "float32")
    x[0, 2:] = 0
    assert mask_of(outer(torch.tensor(x))).tolist() == [[True, True, False, False], [True] * 4]
