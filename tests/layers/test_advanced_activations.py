"""LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU (Keras 2's layers.advanced_activations) and
Keras 2's layers.embeddings path: numpy references, Keras 3 as oracle, PReLU's weight shapes, training
and .h5 files, configs, and bad arguments."""
import doctest
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.layers import advanced_activations
from kerosene.models import Sequential

from _conv_helpers import h5_round_trip

keras = pytest.importorskip("keras")

# Values on both sides of 0 and of the thresholds used below, ties included.
X = np.array([[-7.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 9.0, 12.0]], dtype="float32")


def _run(layer, x):
    return layer(torch.as_tensor(x)).detach().numpy()


def _keras3(layer, x):
    return keras.ops.convert_to_numpy(layer(x))


@pytest.mark.parametrize("alpha", [0.3, 0.0, 0.5, -1.0, 2.0])
def test_leaky_relu_matches_numpy(alpha):
    np.testing.assert_allclose(_run(L.LeakyReLU(alpha=alpha), X), np.where(X >= 0, X, alpha * X), rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.3, 0.0, 0.5])
def test_leaky_relu_matches_keras3(alpha):
    # Keras 3 calls the argument negative_slope and refuses negative values
    np.testing.assert_allclose(_run(L.LeakyReLU(alpha=alpha), X),
                               _keras3(keras.layers.LeakyReLU(negative_slope=alpha), X), rtol=1e-6)


def test_leaky_relu_default_and_keras3_name():
    assert L.LeakyReLU().alpha == pytest.approx(0.3)
    assert L.LeakyReLU(negative_slope=0.1).get_config()["alpha"] == pytest.approx(0.1)


@pytest.mark.parametrize("alpha", [1.0, 0.0, 0.5, -1.0])
def test_elu_matches_numpy(alpha):
    want = np.where(X > 0, X, alpha * (np.exp(X) - 1.0))
    np.testing.assert_allclose(_run(L.ELU(alpha=alpha), X), want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_matches_keras3(alpha):
    np.testing.assert_allclose(_run(L.ELU(alpha=alpha), X), _keras3(keras.layers.ELU(alpha=alpha), X),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("theta", [1.0, 0.5, 0.0, -1.0, 3.0])
def test_thresholded_relu_matches_numpy(theta):
    # Keras 3 has no ThresholdedReLU; Keras 2: x where x > theta (strictly), else 0
    got = _run(L.ThresholdedReLU(theta=theta), X)
    np.testing.assert_array_equal(got, np.where(X > theta, X, 0.0))


def test_thresholded_relu_default_theta_and_float64():
    layer = L.ThresholdedReLU()
    assert layer.theta == 1.0
    out = layer(torch.tensor([[1.0, 1.5]], dtype=torch.float64))
    assert out.dtype == torch.float64 and out.tolist() == [[0.0, 1.5]]


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1, 2, [1, 2]])
def test_softmax_matches_numpy_and_keras3(axis):
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32") * 3
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    got = _run(L.Softmax(axis=axis), x)
    np.testing.assert_allclose(got, _softmax(x, np_axis), rtol=1e-5)
    np.testing.assert_allclose(got, _keras3(keras.layers.Softmax(axis=axis), x), rtol=1e-5)


RELU_CASES = [dict(), dict(max_value=6.0), dict(max_value=10, negative_slope=0.2, threshold=3.0),
              dict(negative_slope=0.2), dict(threshold=2.0), dict(max_value=1.0, threshold=3.0),
              dict(max_value=0.0), dict(negative_slope=0.5, max_value=4.0)]


def _relu_reference(x, max_value=None, negative_slope=0.0, threshold=0.0):
    # Keras 2: the part above threshold (x itself) capped into [0, max_value], the slope below it
    above = np.where(x > threshold, x, 0.0) if threshold else np.maximum(x, 0.0)
    if max_value is not None:
        above = np.clip(above, 0.0, max_value)
    return above - negative_slope * np.maximum(threshold - x, 0.0)


@pytest.mark.parametrize("kwargs", RELU_CASES)
def test_relu_matches_numpy_and_keras3(kwargs):
    got = _run(L.ReLU(**kwargs), X)
    np.testing.assert_allclose(got, _relu_reference(X, **kwargs), rtol=1e-6)
    np.testing.assert_allclose(got, _keras3(keras.layers.ReLU(**kwargs), X), rtol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(threshold=-1.0), dict(threshold=-1.0, max_value=5.0),
                                    dict(threshold=-1.0, negative_slope=0.5, max_value=5.0)])
def test_relu_negative_threshold_matches_keras_relu(kwargs):
    # Keras 2 allows a negative threshold (Keras 3's layer refuses it; its relu function does not)
    want = keras.ops.convert_to_numpy(keras.activations.relu(X, **kwargs))
    np.testing.assert_allclose(_run(L.ReLU(**kwargs), X), want, rtol=1e-6)
    np.testing.assert_allclose(_run(L.ReLU(**kwargs), X), _relu_reference(X, **kwargs), rtol=1e-6)


def _prelu_reference(x, alpha):
    return np.where(x >= 0, x, alpha * x)


@pytest.mark.parametrize("shape,shared_axes,alpha_shape", [
    ((2, 3, 4), None, (3, 4)), ((2, 3, 4), 1, (1, 4)), ((2, 3, 4), [1], (1, 4)), ((2, 3, 4), [2], (3, 1)),
    ((2, 3, 4), [1, 2], (1, 1)), ((2, 5, 6, 3), [1, 2], (1, 1, 3)), ((2, 5), None, (5,)),
])
def test_prelu_alpha_shape_and_values(shape, shared_axes, alpha_shape):
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    ours, theirs = L.PReLU(shared_axes=shared_axes), keras.layers.PReLU(shared_axes=shared_axes)
    ours(torch.as_tensor(x))
    theirs(x)
    assert [w.shape for w in ours.get_weights()] == [alpha_shape] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.keras_weight_names() == ["alpha:0"]
    np.testing.assert_array_equal(ours.get_weights()[0], 0.0)   # alpha_initializer='zeros'
    alpha = np.random.default_rng(2).normal(size=alpha_shape).astype("float32")
    ours.set_weights([alpha])
    theirs.set_weights([alpha])
    got = _run(ours, x)
    np.testing.assert_allclose(got, _prelu_reference(x, alpha), rtol=1e-6)
    np.testing.assert_allclose(got, _keras3(theirs, x), rtol=1e-6)


def test_prelu_shared_axes_accept_other_sizes_there_only():
    layer = L.PReLU(shared_axes=[1])
    layer(torch.zeros(2, 3, 4))
    assert layer(torch.zeros(5, 7, 4)).shape == (5, 7, 4)     # axis 1 is shared: any size
    with pytest.raises(ValueError, match="axis 2"):
        layer(torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="ndim=3"):
        layer(torch.zeros(2, 3))


def test_prelu_regularizer_constraint_and_initializer():
    layer = L.PReLU(alpha_initializer="ones", alpha_regularizer="l2", alpha_constraint="non_neg")
    layer(torch.zeros(1, 4))
    np.testing.assert_array_equal(layer.get_weights()[0], 1.0)
    assert float(layer.regularization_loss()) == pytest.approx(0.01 * 4)
    layer.set_weights([np.array([-1.0, 2.0, -3.0, 4.0], dtype="float32")])
    layer.apply_constraints()
    np.testing.assert_array_equal(layer.get_weights()[0], [0.0, 2.0, 0.0, 4.0])


def test_prelu_fit_moves_alpha(seeded):
    model = Sequential([L.Dense(8, input_shape=(4,)), L.PReLU(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.normal(size=(64, 4)).astype("float32")
    y = np.abs(x).sum(axis=1, keepdims=True)
    before = model.layers[1].get_weights()[0].copy()
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    after = model.layers[1].get_weights()[0]
    assert np.all(before == 0.0) and np.abs(after - before).min() > 0.0
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("shared_axes,shape", [(None, (3, 4)), ([1], (3, 4))])
def test_prelu_h5_round_trip(tmp_path, shared_axes, shape):
    h5_round_trip(tmp_path, lambda: L.PReLU(shared_axes=shared_axes, name="prelu"), shape, ["alpha"])


def test_prelu_h5_layout_is_keras2(tmp_path):
    model = Sequential([L.Input(shape=(3,)), L.PReLU(name="act")])
    model.set_weights([np.array([0.1, 0.2, 0.3], dtype="float32")])
    model.save_weights(str(tmp_path / "w.h5"))
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert [n.decode() for n in f["act"].attrs["weight_names"]] == ["act/alpha:0"]
        np.testing.assert_allclose(f["act"]["act"]["alpha:0"][()], [0.1, 0.2, 0.3])


def test_weightless_layers_in_a_saved_model(tmp_path):
    from kerosene.models import load_model
    model = Sequential([L.Dense(6, input_shape=(3,)), L.LeakyReLU(0.1), L.ELU(0.5), L.ThresholdedReLU(0.2),
                        L.ReLU(max_value=4.0, negative_slope=0.1, threshold=0.5), L.Softmax()])
    x = np.random.default_rng(3).normal(size=(5, 3)).astype("float32")
    want = model.predict(x)
    model.save(str(tmp_path / "m.h5"))
    restored = load_model(str(tmp_path / "m.h5"))
    assert [type(layer).__name__ for layer in restored.layers] == [
        "Dense", "LeakyReLU", "ELU", "ThresholdedReLU", "ReLU", "Softmax"]
    np.testing.assert_allclose(restored.predict(x), want, rtol=1e-6)


CONFIGS = [
    (lambda: L.LeakyReLU(alpha=0.2), {"alpha": 0.2}),
    (lambda: L.PReLU(shared_axes=1), {"alpha_initializer": {"class_name": "Zeros", "config": {}},
                                     "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": [1]}),
    (lambda: L.ELU(), {"alpha": 1.0}),
    (lambda: L.ThresholdedReLU(theta=0.5), {"theta": 0.5}),
    (lambda: L.Softmax(axis=1), {"axis": 1}),
    (lambda: L.ReLU(), {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}),
    (lambda: L.ReLU(max_value=6), {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}),
]


@pytest.mark.parametrize("make,own", CONFIGS)
def test_config_keys_and_round_trip(make, own):
    layer = make()
    config = layer.get_config()
    assert {k: v for k, v in config.items() if k not in ("name", "trainable", "dtype")} == own
    rebuilt = type(layer).from_config(config)
    assert rebuilt.get_config() == config
    assert type(L.deserialize(L.serialize(layer))) is type(layer)


@pytest.mark.parametrize("make", [lambda: keras.layers.LeakyReLU(negative_slope=0.2),
                                  lambda: keras.layers.PReLU(shared_axes=[1, 2]),
                                  lambda: keras.layers.ELU(alpha=0.5), lambda: keras.layers.Softmax(axis=1),
                                  lambda: keras.layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5)])
def test_keras3_configs_load(make):
    theirs = make()
    ours = getattr(L, type(theirs).__name__).from_config(theirs.get_config())
    x = np.random.default_rng(4).normal(size=(2, 3, 4)).astype("float32") * 3
    np.testing.assert_allclose(_run(ours, x), _keras3(theirs, x), rtol=1e-6)


def test_masks_pass_through():
    mask = torch.tensor([[True, False]])
    for layer in (L.LeakyReLU(), L.PReLU(), L.ELU(), L.ThresholdedReLU(), L.Softmax(), L.ReLU()):
        assert layer.compute_mask(torch.zeros(1, 2, 3), mask) is mask
        assert layer.compute_output_shape((None, 2, 3)) == (None, 2, 3)


@pytest.mark.parametrize("make,match", [
    (lambda: L.ReLU(max_value=-2.0), "max_value.*>= 0.*-2.0"),
    (lambda: L.ReLU(negative_slope=-2.0), "negative_slope.*>= 0.*-2.0"),
    (lambda: L.ReLU(max_value="6"), "max_value.*number.*'6'"),
    (lambda: L.ReLU(threshold=None), "threshold.*number.*None"),
    (lambda: L.LeakyReLU(alpha="a"), "alpha.*number.*'a'"),
    (lambda: L.LeakyReLU(alpha=0.1, negative_slope=0.2), "alpha.*negative_slope.*not both"),
    (lambda: L.ELU(alpha=None), "alpha.*number.*None"),
    (lambda: L.ThresholdedReLU(theta=True), "theta.*number.*True"),
    (lambda: L.Softmax(axis="last"), "axis.*int.*'last'"),
    (lambda: L.Softmax(axis=[]), r"axis.*int.*\[\]"),
    (lambda: L.PReLU(shared_axes=0), "shared_axes.*>= 1.*batch.*0"),
    (lambda: L.PReLU(shared_axes=[1, 1.5]), r"shared_axes.*\[1, 1.5\]"),
    (lambda: L.PReLU(alpha_initializer="nope"), "nope"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_prelu_bad_build_shapes():
    with pytest.raises(ValueError, match="shared_axes.*rank 3"):
        L.PReLU(shared_axes=[3])(torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="axis 1.*no fixed size"):
        L.PReLU().build((None, None, 4))
    L.PReLU(shared_axes=1).build((None, None, 4))   # sharing the unknown axis is fine


def test_keras2_module_paths():
    from kerosene.layers.advanced_activations import LeakyReLU
    from kerosene.layers.embeddings import Embedding
    assert LeakyReLU is L.LeakyReLU and Embedding is L.Embedding
    for name in advanced_activations.__all__:
        assert getattr(L, name) is getattr(advanced_activations, name)


def test_embedding_input_length_checked_against_the_input_shape():
    layer = L.Embedding(10, 4, input_length=(None, 5))
    assert layer.compute_output_shape((None, 2, 5)) == (None, 2, 5, 4)
    assert L.Embedding(10, 4, input_length=2).compute_output_shape((3, None)) == (3, 2, 4)
    with pytest.raises(ValueError, match="input_length.*2.*shape"):
        Sequential([L.Embedding(input_dim=10, output_dim=4, input_length=2, input_shape=(3, 4, 5))])
    with pytest.raises(ValueError, match="input_length.*2.*shape"):
        Sequential([L.Embedding(input_dim=10, output_dim=4, input_length=2, input_shape=(3, 5))])
    with pytest.raises(ValueError, match="input_length"):
        L.Embedding(10, 4, input_length=3)(torch.zeros(2, 4, dtype=torch.long))
    assert L.Embedding(10, 4, input_length=4)(torch.zeros(2, 4, dtype=torch.long)).shape == (2, 4, 4)


def test_docstring_examples_run():
    for module in (advanced_activations, __import__("kerosene.layers.embeddings", fromlist=["x"])):
        result = doctest.testmod(module, verbose=False)
        assert result.failed == 0, module.__name__
    assert doctest.testmod(advanced_activations).attempted >= 8


def test_keras3_archives_both_ways(tmp_path, recwarn):
    from kerosene.models import load_model
    ours = Sequential([L.Dense(6, input_shape=(3,)), L.LeakyReLU(0.1), L.PReLU(alpha_initializer="ones"),
                       L.ELU(0.5), L.ReLU(max_value=4.0, negative_slope=0.1, threshold=0.5), L.Softmax()])
    ours.layers[2].set_weights([np.linspace(-1, 1, 6).astype("float32")])
    x = np.random.default_rng(5).normal(size=(5, 3)).astype("float32")
    ours.save(str(tmp_path / "ours.keras"))
    theirs = keras.saving.load_model(str(tmp_path / "ours.keras"))
    assert not [w for w in recwarn if "deprecated" in str(w.message)]   # LeakyReLU written as negative_slope
    assert theirs.layers[1].get_config()["negative_slope"] == pytest.approx(0.1)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x), rtol=1e-5)
    theirs.save(str(tmp_path / "theirs.keras"))
    back = load_model(str(tmp_path / "theirs.keras"))
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in ours.layers]
    np.testing.assert_allclose(back.predict(x), ours.predict(x), rtol=1e-5)
