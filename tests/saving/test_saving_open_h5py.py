"""save_model / load_model into an open h5py.File or Group, and from an in-memory file image (Keras 2)."""
import h5py
import numpy as np
import pytest

from kerosene import models
from kerosene.errors import NotCompiledError, SavedFileError
from kerosene.layers import Dense, Input
from kerosene.models import Model, Sequential

X = np.random.default_rng(3).random((4, 3)).astype("float32")
Y = np.random.default_rng(4).random((4, 2)).astype("float32")


def _trained():
    inputs = Input(shape=(3,))
    model = Model(inputs, Dense(2, name="out")(Dense(5, name="hidden")(inputs)))
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(X, Y)
    return model


def test_open_file_group_and_file_image_round_trip(tmp_path):
    model = _trained()
    expected = model.predict(X)
    path = str(tmp_path / "m.h5")
    with h5py.File(path, "w") as f:
        f.attrs["user_note"] = "kept"
        models.save_model(model, f)
        group = f.create_group("inner")
        model.save(group)                      # Model.save goes the same way
        for source in (f, group):
            loaded = models.load_model(source)
            np.testing.assert_allclose(loaded.predict(X), expected, atol=1e-6)
            assert loaded.optimizer.__class__ is model.optimizer.__class__
    with h5py.File(path, "r") as f:            # written into the caller's file, the caller's data kept
        assert f.attrs["user_note"] == "kept" and "model_weights" in f["inner"]
        np.testing.assert_allclose(models.load_model(f["inner"]).predict(X), expected, atol=1e-6)
    with h5py.File("in-memory", "w", driver="core", backing_store=False) as f:
        models.save_model(model, f)
        f.flush()
        image = f.id.get_file_image()
    (tmp_path / "image.h5").write_bytes(image)
    np.testing.assert_allclose(models.load_model(str(tmp_path / "image.h5")).predict(X), expected, atol=1e-6)


def test_saving_again_into_a_group_replaces_the_model_or_refuses(tmp_path):
    first, second = _trained(), Sequential([Dense(2, input_dim=3, name="only")])
    with h5py.File(str(tmp_path / "m.h5"), "w") as f:
        models.save_model(first, f)
        with pytest.raises(FileExistsError, match="already holds a saved model and overwrite=False"):
            models.save_model(second, f, overwrite=False)
        models.save_model(second, f)           # overwrite=True: one model, not two mixed
        loaded = models.load_model(f)
        assert [layer.name for layer in loaded.layers] == ["only"]
        assert loaded.optimizer is None        # the first model's compile settings are gone too
        np.testing.assert_allclose(loaded.predict(X), second.predict(X), atol=1e-6)


def test_bad_open_h5py_objects_get_clear_errors(tmp_path):
    model = _trained()
    path = str(tmp_path / "m.h5")
    with h5py.File(path, "w") as f:
        f.create_group("empty")
    with h5py.File(path, "r") as f:
        with pytest.raises(ValueError, match=r"opened read-only; open it with mode 'r\+'"):
            models.save_model(model, f)
        with pytest.raises(SavedFileError, match=r"m\.h5:/empty.*not a whole-model file"):
            models.load_model(f["empty"])
        with pytest.raises(TypeError, match="`safe_mode` must be True, False or None"):
            models.load_model(f, safe_mode="no")
    closed = h5py.File(path, "r")
    closed.close()
    for call in (lambda: models.save_model(model, closed), lambda: models.load_model(closed)):
        with pytest.raises(ValueError, match="closed h5py object"):
            call()
    with h5py.File(path, "a") as f:
        with pytest.raises(TypeError, match="`overwrite` must be True or False"):
            models.save_model(model, f, overwrite="yes")
        assert "model_weights" not in f        # refused before anything was written


def test_make_train_function_checks_compile_as_keras_2():
    model = Sequential([Dense(2, input_dim=3)])
    model._make_predict_function()
    for make in (model._make_train_function, model._make_test_function):
        with pytest.raises(NotCompiledError, match="You must compile your model before building its"):
            make()
    model.compile(optimizer="sgd", loss="mse")
    model._make_train_function()
    model._make_test_function()
    assert np.isfinite(model.train_on_batch(X, Y))
