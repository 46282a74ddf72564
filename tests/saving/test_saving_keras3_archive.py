"""Keras 3 ``.keras`` archives both ways, with Keras 3 (torch backend) as the oracle in a subprocess.

One Keras subprocess writes trained, compiled (Adam) archives of every architecture
in tests/scripts/keras3_archives.py; kerosene loads each, predicts the same and takes
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
from kerosene.models import Model, Sequential, load_model

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
    assert model.optimizer is not None and type(model.optimizer).__name__ == "Adam"
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
        model.compile(optimizer=kerosene.optimizers.Adam(learning_rate=0.01), loss=oracle.loss_of(name))
        for step in range(3):
            model.train_on_batch(*oracle.data(name, 8, 100 + step))
        model.save(str(folder / f"{name}.keras"))
        x_test, _ = oracle.data(name, 5, 7)
        before = model.predict(x_test, verbose=0)
        loss = model.train_on_batch(*oracle.data(name, 8, 8))
        results[name] = (before, loss, model.predict(x_test, verbose=0))
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
