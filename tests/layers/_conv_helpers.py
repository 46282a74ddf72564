"""Shared helpers for the convolution layer tests: Keras 3 comparison, .h5 round trips."""
import h5py
import numpy as np
import torch

from kerosene import layers as L
from kerosene.models import Sequential, load_model


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def compare_keras3(keras, ours, theirs, x, atol=1e-4):
    """Same random Keras-layout weights in both layers -> same outputs and output shape."""
    ours(torch.as_tensor(x))
    theirs(x)
    rng = np.random.default_rng(1)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in ours.keras_weights()]
    assert [w.shape for w in weights] == [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_keras_weights(weights)
    theirs.set_weights(weights)
    got = ours(torch.as_tensor(x)).detach().numpy()
    want = keras.ops.convert_to_numpy(theirs(x))
    assert got.shape == want.shape
    assert tuple(ours.compute_output_shape(x.shape)) == got.shape
    np.testing.assert_allclose(got, want, atol=atol, rtol=1e-4)


def h5_round_trip(tmp_path, make_layer, input_shape, expected_weight_names):
    """Weights saved to .h5 in Keras 2 layout load back; the whole model reloads with its config."""
    def make():
        return Sequential([L.Input(shape=input_shape), make_layer()])
    source, target = make(), make()
    rng = np.random.default_rng(0)
    source.set_weights([rng.normal(size=w.shape).astype("float32") for w in source.get_weights()])
    x = rng.normal(size=(2,) + input_shape).astype("float32")
    want = source.predict(x)
    assert not np.allclose(target.predict(x), want)
    path = tmp_path / "w.h5"
    source.save_weights(str(path))
    layer = source.layers[-1]
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f[layer.name].attrs["weight_names"]]
        assert names == [f"{layer.name}/{n}:0" for n in expected_weight_names]
        for name, w in zip(names, layer.get_weights()):
            np.testing.assert_array_equal(f[layer.name][name][()], w)
    target.load_weights(str(path))
    np.testing.assert_allclose(target.predict(x), want, rtol=1e-6)
    source.compile(optimizer="sgd", loss="mse")
    source.save(str(tmp_path / "m.h5"))
    restored = load_model(str(tmp_path / "m.h5"))
    assert restored.layers[-1].get_config() == layer.get_config()
    np.testing.assert_allclose(restored.predict(x), want, rtol=1e-6)


def train_step_changes_every_weight(layer, x):
    out = layer(torch.as_tensor(x))
    out.square().mean().backward()
    for p in layer.parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0
