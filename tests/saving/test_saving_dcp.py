"""save_weights/load_weights('....dcp') in one process (the 2-rank FSDP round trip is in tests/engine/test_distributed_fsdp.py)."""
import os
import warnings

import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import ModelCheckpoint
from kerosene.errors import SavedFileError
from kerosene.layers import Dense

X = np.random.RandomState(0).rand(16, 3).astype("float32")
Y = np.random.RandomState(1).rand(16, 2).astype("float32")


def _model(seed=0):
    torch.manual_seed(seed)
    model = kerosene.Sequential([Dense(4, input_dim=3, activation="relu"), Dense(2)])
    model.compile("adam", "mse")
    model.predict(X[:1], verbose=0)
    return model


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def test_a_dcp_directory_round_trips_and_is_replaced_whole(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=1, verbose=0)
    path = str(tmp_path / "ckpt.dcp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # one process: no torch notice about a missing process group
        model.save_weights(path)
    assert ".metadata" in os.listdir(path)
    other = _model(seed=1)
    assert not _same(model, other)
    other.load_weights(path)
    assert _same(model, other)
    model.fit(X, Y, epochs=1, verbose=0)
    model.save_weights(path)   # overwrite: the new checkpoint replaces the old one
    other.load_weights(path)
    assert _same(model, other)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.dcp"]   # no partial or old directory left


def test_a_stale_partial_write_is_cleared_and_never_read(tmp_path):
    path = tmp_path / "ckpt.dcp"
    partial = tmp_path / ".ckpt.dcp.partial"
    partial.mkdir()
    (partial / "junk").write_text("a killed write")
    with pytest.raises(SavedFileError, match="not a complete .dcp checkpoint"):
        _model().load_weights(str(path))
    _model().save_weights(str(path))
    assert sorted(os.listdir(tmp_path)) == ["ckpt.dcp"]


def test_bad_dcp_targets_are_named(tmp_path):
    model = _model()
    plain = tmp_path / "file.dcp"
    plain.write_text("not a directory")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        model.save_weights(str(plain))
    empty = tmp_path / "empty.dcp"
    empty.mkdir()
    with pytest.raises(SavedFileError, match="empty.dcp"):
        model.load_weights(str(empty))
    path = str(tmp_path / "ckpt.dcp")
    model.save_weights(path)
    bigger = kerosene.Sequential([Dense(5, input_dim=3), Dense(2)])
    bigger.compile("adam", "mse")
    bigger.predict(X[:1], verbose=0)
    before = [w.copy() for w in bigger.get_weights()]
    with pytest.raises(SavedFileError, match="do not fit this model"):
        bigger.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, bigger.get_weights()))


def test_model_checkpoint_writes_dcp_weights(tmp_path):
    model = _model()
    path = str(tmp_path / "best.dcp")
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(path, save_weights_only=True, monitor="loss")])
    other = _model(seed=3)
    other.load_weights(path)
    assert _same(model, other)
    with pytest.raises(ValueError, match="must end with one of"):
        ModelCheckpoint(str(tmp_path / "m.dcp"))   # a whole model is not a DCP checkpoint
