"""Keras 3 ``.keras`` archives both ways, with Keras 3 (torch backend) as the oracle in a subprocess.

One Keras subprocess writes trained, compiled archives of every architecture
in tests/scripts/keras3_archives.py (Adam, AMSGrad, Nesterov SGD and centered RMSprop with
momentum among them); kerosene loads each, predicts the same and takes
the same training step. A second one loads the archives kerosene wrote and does the
same. Predictions agree within 1e-5.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import kerosene
from kerosene import layers as L
from kerosene.callbacks import ModelCheckpoint
from kerosene.models import Model, Sequential, load_model
from kerosene.saving import register_serializable

pytest.importorskip("keras")
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # tests/
_spec = importlib.util.spec_from_file_location("keras3_archives", os.path.join(HERE, "scripts", "keras3_archives.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)
KEROSENE_API = {"layers": L, "Input": L.Input, "Sequential": Sequential, "Model": Model}
# Dropout draws its own random mask in each library, so a training step through it cannot match.
STEP_COMPARED = [n for n in oracle.NAMES if n != "dropout"]


def _run_oracle(mode, folder):
    env = {**os.environ, "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, os.path.join(HERE, "scripts", "keras3_archives.py"), mode, str(folder)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def keras_written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras_written")
    _run_oracle("write", folder)
    return folder


def _close(actual, expected, atol=1e-5):
    actual, expected = oracle.flat(actual), oracle.flat(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("name", oracle.NAMES)
def test_keras3_archive_loads_predicts_and_trains_the_same(keras_written, name):
    expected = np.load(keras_written / f"{name}.npz")
    model = load_model(str(keras_written / f"{name}.keras"))
    assert type(model.optimizer).__name__ == type(oracle.optimizer_of(name, kerosene.optimizers)).__name__
    assert model.optimizer.iterations == 3
    x_test, _ = oracle.data(name, 5, 7)
    _close(model.predict(x_test, verbose=0), oracle.unpack(expected, "before"))
    loss = model.train_on_batch(*oracle.data(name, 8, 8))
    if name in STEP_COMPARED:
        np.testing.assert_allclose(loss, expected["loss"], rtol=1e-5)
        _close(model.predict(x_test, verbose=0), oracle.unpack(expected, "after"))
    assert model.optimizer.iterations == 4


@pytest.fixture(scope="module")
def kerosene_written(tmp_path_factory):
    """kerosene trains and saves every architecture; Keras 3 loads each, predicts, steps once."""
    folder = tmp_path_factory.mktemp("kerosene_written")
    results = {}
    for i, name in enumerate(oracle.NAMES):
        torch.manual_seed(i)
        model = oracle.build(name, KEROSENE_API)
        model.compile(optimizer=oracle.optimizer_of(name, kerosene.optimizers), loss=oracle.loss_of(name))
        for step in range(3):
            model.train_on_batch(*oracle.data(name, 8, 100 + step))
        model.save(str(folder / f"{name}.keras"))
        x_test, _ = oracle.data(name, 5, 7)
        before = model.predict(x_test, verbose=0)
        loss = model.train_on_batch(*oracle.data(name, 8, 8))
        results[name] = (before, loss, model.predict(x_test, verbose=0))
        if name == "dense":   # Keras 3 also reads what ModelCheckpoint and save_weights('.weights.h5') write
            x, y = oracle.data(name, 16, 3)
            model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.5,
                      callbacks=[ModelCheckpoint(str(folder / "checkpoint.keras"), save_best_only=False)])
            model.save_weights(str(folder / "weights.weights.h5"))
            results["checkpoint"] = results["weights"] = model.predict(x_test, verbose=0)
    _run_oracle("read", folder)
    return folder, results


@pytest.mark.parametrize("name", oracle.NAMES)
def test_kerosene_archive_loads_in_keras3_and_trains_the_same(kerosene_written, name):
    folder, results = kerosene_written
    before, loss, after = results[name]
    theirs = np.load(folder / f"{name}.out.npz")
    _close(oracle.unpack(theirs, "before"), before)
    assert int(theirs["iterations"]) == 4      # Keras 3 restored the 3 steps kerosene took, then took one
    if name in STEP_COMPARED:
        np.testing.assert_allclose(theirs["loss"], loss, rtol=1e-5)
        _close(oracle.unpack(theirs, "after"), after)


@pytest.mark.parametrize("name", ["functional", "lstm"])
def test_kerosene_archive_round_trip(tmp_path, name):
    model = oracle.build(name, KEROSENE_API)
    model.compile(optimizer="rmsprop", loss=oracle.loss_of(name))
    model.train_on_batch(*oracle.data(name, 8, 1))
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = load_model(path)
    x_test, _ = oracle.data(name, 5, 7)
    _close(again.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
    batch = oracle.data(name, 8, 2)
    np.testing.assert_allclose(again.train_on_batch(*batch), model.train_on_batch(*batch), rtol=1e-5)
    _close(again.predict(x_test, verbose=0), model.predict(x_test, verbose=0))


@pytest.mark.parametrize("label", ["checkpoint", "weights"])
def test_keras3_reads_our_checkpoint_and_weights_file(kerosene_written, label):
    folder, results = kerosene_written
    _close(oracle.unpack(np.load(folder / f"{label}.out.npz"), "before"), results[label])


class TwoDense(Model):
    """The kerosene twin of the oracle's subclassed Keras model."""

    def __init__(self, units=4, name=None):
        super().__init__(name=name)
        self.units = units
        self.hidden = L.Dense(units, activation="relu")
        self.head = L.Dense(1)

    def call(self, x):
        return self.head(self.hidden(x))

    def get_config(self):
        return {"name": self.name, "units": self.units}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_subclassed_archive_loads_through_custom_objects_or_the_registry(keras_written):
    path = str(keras_written / "subclassed.keras")
    expected = oracle.unpack(np.load(keras_written / "subclassed.npz"), "before")
    x_test = oracle.data("dropout", 5, 7)[0]
    with pytest.raises(ValueError, match="Unknown model class 'KeroseneTests>TwoDense'.*custom_objects"):
        load_model(path)
    model = load_model(path, custom_objects={"TwoDense": TwoDense})
    assert isinstance(model, TwoDense) and model.units == 5
    _close(model.predict(x_test, verbose=0), expected)
    register_serializable(package="KeroseneTests")(TwoDense)
    _close(load_model(path).predict(x_test, verbose=0), expected)


def test_lambda_of_python_code_loads_only_with_safe_mode_false(keras_written):
    path = str(keras_written / "lambda.keras")
    with pytest.raises(ValueError, match="Lambda layer .*byte code.*safe_mode=False"):
        load_model(path)
    model = load_model(path, safe_mode=False)
    _close(model.predict(oracle.data("dropout", 5, 7)[0], verbose=0),
           oracle.unpack(np.load(keras_written / "lambda.npz"), "before"))


def test_subclassed_model_round_trip(tmp_path):
    model = TwoDense(3)
    model.compile(optimizer="adam", loss="mse")
    x, y = oracle.data("dropout", 8, 1)
    model.train_on_batch(x, y)
    path = str(tmp_path / "sub.keras")
    model.save(path)
    again = load_model(path, custom_objects={"TwoDense": TwoDense})
    assert again.units == 3 and again.optimizer.iterations == 1
    _close(again.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(again.train_on_batch(x, y), model.train_on_batch(x, y), rtol=1e-5)
    _close(again.predict(x, verbose=0), model.predict(x, verbose=0))
