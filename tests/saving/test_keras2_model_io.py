"""Keras 2's keras.models / keras.engine.saving functions and training_utils.weighted_masked_objective."""
import sys

import numpy as np
import pytest

import kerosene.engine.saving as engine_saving
import kerosene.saving as saving
from kerosene import backend as K
from kerosene import losses, models
from kerosene.engine.training_utils import weighted_masked_objective
from kerosene.layers import Dense, Input
from kerosene.models import Model, Sequential

X = np.random.default_rng(7).random((5, 3)).astype("float32")


def _model():
    return Sequential([Dense(4, input_dim=3, activation="relu", name="a"), Dense(2, name="b")])


def test_json_and_yaml_rebuild_the_architecture_with_fresh_weights():
    model = _model()
    for text, rebuild in ((model.to_json(), models.model_from_json), (model.to_yaml(), models.model_from_yaml)):
        twin = rebuild(text)
        assert twin.to_json() == model.to_json()  # the same architecture, stable in a round trip
        assert [w.shape for w in twin.get_weights()] == [w.shape for w in model.get_weights()]
        assert not np.allclose(twin.get_weights()[0], model.get_weights()[0])
    assert '"class_name": "Sequential"' in model.to_json()
    assert model.to_json(indent=2).startswith("{\n")
    inputs = Input(shape=(3,))
    functional = Model(inputs, Dense(2)(inputs))
    assert models.model_from_json(functional.to_json()).get_config() == functional.get_config()


def test_clone_model_and_save_model():
    model = _model()
    clone = models.clone_model(model)
    assert clone is not model and clone.to_json() == model.to_json()
    assert not np.allclose(clone.predict(X), model.predict(X))
    on_input = models.clone_model(model, input_tensors=Input(shape=(3,), name="fresh"))
    assert on_input.input.shape == (None, 3) and on_input.predict(X).shape == (5, 2)
    inputs = Input(shape=(3,))
    functional = Model(inputs, Dense(2)(inputs))
    rebuilt = models.clone_model(functional, input_tensors=[Input(shape=(3,), name="other")])
    assert rebuilt.predict(X).shape == (5, 2) and rebuilt.input.name == "other"
    with pytest.raises(ValueError, match="a Sequential model is cloned onto one Input"):
        models.clone_model(model, input_tensors=[Input(shape=(3,)), Input(shape=(3,))])
    assert models.model_from_config(saving.model_config(model)).layers[0].name == "a"


def test_save_model_and_engine_saving_paths(tmp_path):
    model = _model()
    model.compile("sgd", "mse")
    models.save_model(model, tmp_path / "m.h5")
    np.testing.assert_allclose(engine_saving.load_model(tmp_path / "m.h5").predict(X), model.predict(X), rtol=1e-6)
    assert engine_saving.save_model is saving.save_model and engine_saving.load_model is saving.load_model


def test_bad_text_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="`json_string` is not valid JSON"):
        models.model_from_json("{not json")
    with pytest.raises(TypeError, match="`json_string` must be a str, got dict"):
        models.model_from_json({})
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if PyYAML were not installed
    with pytest.raises(ImportError, match="YAML model configs need PyYAML: pip install pyyaml"):
        models.model_from_yaml("class_name: Sequential")
    with pytest.raises(ImportError, match="PyYAML"):
        _model().to_yaml()


def test_weighted_masked_objective_matches_numpy():
    x = np.arange(24, dtype="float32").reshape((3, 4, 2))
    y = 2 * x + 1
    weights = np.array([1.0, 0.0, 2.0], "float32")
    mask = np.ones((3, 4), "float32")
    mask[1, 0] = mask[2, 3] = 0
    weighted = weighted_masked_objective(losses.get("mae"))  # a Loss object: used per sample
    out = K.eval(weighted(K.variable(y), K.variable(x), K.variable(weights), K.variable(mask)))
    score = np.abs(y - x).mean(-1) * mask / mask.mean()
    expected = (score.mean(-1) * weights / (weights != 0).mean()).mean()
    assert out == pytest.approx(expected, rel=1e-6)
    plain = weighted_masked_objective(losses.mean_absolute_error)
    assert K.eval(plain(K.variable(y), K.variable(x), None)) == pytest.approx(np.abs(y - x).mean())
    assert weighted_masked_objective(None) is None
    with pytest.raises(TypeError, match="`fn` must be a loss function"):
        weighted_masked_objective(3)


def test_load_weights_reshape_and_keras2_wording(tmp_path):
    from kerosene.layers import Conv2D, Flatten
    source = Sequential([Conv2D(2, (1, 1), input_shape=(1, 1, 1), name="rick"), Flatten(), Dense(3, name="morty")])
    source.save_weights(tmp_path / "w.h5")
    target = Sequential([Conv2D(2, (1, 1), input_shape=(1, 1, 1), name="rick"), Conv2D(3, (1, 1), name="morty")])
    with pytest.raises(ValueError, match=r"has shape \(1, 1, 2, 3\) in the model, but the saved weight has shape"):
        target.load_weights(tmp_path / "w.h5")
    target.load_weights(tmp_path / "w.h5", reshape=True)  # the Dense kernel (2, 3) fills the 1x1 kernel
    np.testing.assert_allclose(target.layers[1].get_weights()[0].reshape(2, 3), source.layers[2].get_weights()[0])
    with pytest.raises(TypeError, match="`reshape` must be True or False"):
        target.load_weights(tmp_path / "w.h5", reshape="yes")
    no_bias = Sequential([Conv2D(2, (1, 1), input_shape=(1, 1, 1), use_bias=False, name="rick"), Flatten(),
                          Dense(3, name="morty")])
    with pytest.raises(ValueError, match="expects 1 weights, but the saved weights have 2 elements"):
        no_bias.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="Skipping loading of weights for layer 'rick' due to mismatch"):
        no_bias.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    with pytest.raises(ValueError, match=r"load a weight file holding 2 layers into a model with 1 layers"):
        Sequential([Conv2D(10, (1, 1), input_shape=(1, 1, 1), name="rick")]).load_weights(tmp_path / "w.h5")


def test_long_layer_names_are_split_over_hdf5_attributes(tmp_path):
    import h5py
    inputs = Input(shape=(2,), name="input_" + "x" * 2 ** 15)
    outputs = inputs
    for i in range(4):
        outputs = Dense(2, name=f"dense_{i}")(outputs)
    model = Model(inputs, outputs)
    model.compile("adam", "mse")
    models.save_model(model, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        parts = [a for a in f["model_weights"].attrs if a.startswith("layer_names")]
    assert len(parts) > 1
    np.testing.assert_allclose(models.load_model(tmp_path / "m.h5").predict(X[:, :2]), model.predict(X[:, :2]))


def test_constant_initializer_takes_arrays_and_saves_them(tmp_path):
    from kerosene.initializers import Constant
    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer=Constant(np.arange(6.0).reshape(3, 2)))])
    np.testing.assert_array_equal(model.get_weights()[0], np.arange(6.0).reshape(3, 2))
    model.compile("sgd", "mse")
    models.save_model(model, tmp_path / "m.h5")
    loaded = models.load_model(tmp_path / "m.h5")
    assert loaded.layers[0].kernel_initializer.get_config() == {"value": [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]}
    with pytest.raises(ValueError, match=r"Constant: `value` of shape \(3,\) cannot fill a weight of shape \(2, 2\)"):
        Constant(np.ones(3))((2, 2))
