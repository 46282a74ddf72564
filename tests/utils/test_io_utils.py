"""kerosene.utils.io_utils: HDF5Matrix as a training input, and the overwrite prompt."""
import h5py
import numpy as np
import pytest

from kerosene.layers import Dense
from kerosene.models import Sequential
from kerosene.utils.io_utils import HDF5Matrix, ask_to_proceed_with_overwrite


@pytest.fixture
def h5_path(tmp_path):
    path = str(tmp_path / "data.h5")
    rng = np.random.RandomState(0)
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=rng.randn(60, 4).astype("float32"))
        f.create_dataset("y", data=rng.randint(0, 2, (60, 1)).astype("int32"))
    yield path
    for handle in HDF5Matrix.refs.values():
        handle.close()
    HDF5Matrix.refs.clear()


def test_rows_shape_dtype_and_indexing(h5_path):
    with h5py.File(h5_path, "r") as f:
        full = f["x"][:]
    m = HDF5Matrix(h5_path, "x", start=10, end=40)
    assert (m.shape, m.dtype, m.ndim, m.size, len(m)) == ((30, 4), np.float32, 2, 120, 30)
    np.testing.assert_array_equal(m[0], full[10])
    np.testing.assert_array_equal(m[2:5], full[12:15])
    np.testing.assert_array_equal(m[[3, 1, 3]], full[[13, 11, 13]])
    np.testing.assert_array_equal(np.asarray(m), full[10:40])
    for bad in (30, [29, 30], np.array([100]), range(30, 31), slice(30, 31)):
        with pytest.raises(IndexError):
            m[bad]
    with pytest.raises(TypeError):
        m[None]
    assert HDF5Matrix(h5_path, "x", normalizer=lambda b: b[:, ::2].astype(np.float16)).shape == (60, 2)
    assert HDF5Matrix(h5_path, "x", normalizer=lambda b: b.astype(np.uint8)).dtype == np.uint8


def test_bad_arguments_name_what_is_wrong(h5_path, tmp_path):
    with pytest.raises(KeyError, match="'nope' is not in"):
        HDF5Matrix(h5_path, "nope")
    with pytest.raises(ValueError, match="start"):
        HDF5Matrix(h5_path, "x", start=50, end=10)
    with pytest.raises(OSError, match="datapath"):
        HDF5Matrix(str(tmp_path / "missing.h5"), "x")


def test_a_model_trains_and_evaluates_on_hdf5_matrices(h5_path):
    model = Sequential([Dense(8, input_shape=(4,), activation="relu"), Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    model.fit(HDF5Matrix(h5_path, "x", end=40), HDF5Matrix(h5_path, "y", end=40), batch_size=8,
              shuffle="batch", verbose=0)
    x_test, y_test = HDF5Matrix(h5_path, "x", start=40), HDF5Matrix(h5_path, "y", start=40)
    assert model.predict(x_test).shape == (20, 1)
    with h5py.File(h5_path, "r") as f:
        expected = model.evaluate(f["x"][40:], f["y"][40:], verbose=0)
    assert model.evaluate(x_test, y_test, verbose=0) == pytest.approx(expected)


def test_ask_to_proceed_with_overwrite(monkeypatch):
    answers = iter(["maybe", "Y"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert ask_to_proceed_with_overwrite("/tmp/x.h5") is True
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert ask_to_proceed_with_overwrite("/tmp/x.h5") is False
