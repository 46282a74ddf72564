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
    with pytest.raises(ValueError, match="`input_tensors` is not supported"):
        models.clone_model(model, input_tensors=[Input(shape=(3,))])
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
