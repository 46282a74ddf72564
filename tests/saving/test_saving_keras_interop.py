"""HDF5 weights move both ways between kerosene and Keras 3 (torch backend) for Dense, Conv2D,
BatchNormalization and LSTM models."""
import os

import h5py
import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":  # pragma: no cover
    pytest.skip("the Keras oracle needs KERAS_BACKEND=torch", allow_module_level=True)

from kerosene import layers as L  # noqa: E402
from kerosene.models import Sequential  # noqa: E402

ARCHS = {
    "dense": ((6,), lambda k: [k.Dense(5, activation="relu"), k.Dense(3, activation="softmax")]),
    "conv2d": ((6, 6, 2), lambda k: [k.Conv2D(4, (3, 3), activation="relu"), k.Flatten(), k.Dense(2)]),
    "batchnorm": ((5,), lambda k: [k.Dense(4), k.BatchNormalization(), k.Dense(2)]),
    "lstm": ((7, 3), lambda k: [k.LSTM(4, return_sequences=True), k.LSTM(2)]),
}


def _pair(arch):
    shape, stack = ARCHS[arch]
    ours = Sequential([L.Input(shape=shape)] + stack(L))
    theirs = keras.Sequential([keras.Input(shape)] + stack(keras.layers))
    return ours, theirs, shape


def _ours_randomized(ours, seed):
    """Random weights everywhere; BatchNormalization moving variances kept positive."""
    rng = np.random.default_rng(seed)
    for layer in ours.layers:
        weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.keras_weights()]
        for i, name in enumerate(layer.keras_weight_names()):
            if "variance" in name:
                weights[i] = np.abs(weights[i]) + 0.5
        layer.set_keras_weights(weights)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal((4,) + shape).astype("float32")


def _ours_predict(model, x):
    model.eval()
    return model.predict(x)


def _theirs_predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_keras3_loads_our_h5(tmp_path, arch):
    ours, theirs, shape = _pair(arch)
    _ours_randomized(ours, 1)
    path = str(tmp_path / "ours.h5")
    ours.save_weights(path)
    theirs.load_weights(path)
    x = _x(shape)
    np.testing.assert_allclose(_theirs_predict(theirs, x), _ours_predict(ours, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("how", ["legacy_h5_group", "model_save_h5", "weights_h5"])
def test_we_load_what_keras3_wrote(tmp_path, arch, how):
    ours, theirs, shape = _pair(arch)
    rng = np.random.default_rng(2)
    weights = []
    for w in theirs.weights:
        value = rng.standard_normal(tuple(w.shape)).astype("float32") * 0.5
        if "variance" in w.path:
            value = np.abs(value) + 0.5
        weights.append(value)
    theirs.set_weights(weights)
    if how == "legacy_h5_group":       # Keras 2's layout, written by Keras 3's legacy writer
        from keras.src.legacy.saving import legacy_h5_format
        path = str(tmp_path / "theirs.h5")
        with h5py.File(path, "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    elif how == "model_save_h5":       # a legacy whole-model file: weights under model_weights/
        path = str(tmp_path / "theirs_model.h5")
        theirs.save(path)
    else:                              # Keras 3's own .weights.h5 layout
        path = str(tmp_path / "theirs.weights.h5")
        theirs.save_weights(path)
    ours.load_weights(path)
    x = _x(shape)
    np.testing.assert_allclose(_ours_predict(ours, x), _theirs_predict(theirs, x), rtol=1e-5, atol=1e-5)


def test_by_name_reads_keras3_legacy_h5(tmp_path):
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="shared")])
    theirs.set_weights([np.ones((3, 2), "float32"), np.full((2,), 0.5, "float32")])
    path = str(tmp_path / "t.h5")
    theirs.save(path)
    mine = Sequential([L.Dense(2, input_dim=3, name="shared"), L.Dense(1, name="head")])
    mine.load_weights(path, by_name=True)
    np.testing.assert_array_equal(mine.layers[0].keras_weights()[0], np.ones((3, 2)))
    np.testing.assert_array_equal(mine.layers[0].keras_weights()[1], np.full((2,), 0.5))
