"""Keras 2 Sequential behaviour on kerosene: build, nesting, get_config's Keras 2 form,
updates, models without trainable weights and the trainable-after-compile warning."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from kerosene.layers import Activation, BatchNormalization, Dense, Input
from kerosene.models import Model, Sequential

X = np.random.default_rng(4).normal(size=(12, 4)).astype("float32")
Y = np.random.default_rng(5).normal(size=(12, 3)).astype("float32")


def test_build_with_and_without_a_shape():
    declared = Sequential([Dense(5, input_shape=(4,)), Dense(3)])
    declared.build()
    assert declared.count_params() == 4 * 5 + 5 + 5 * 3 + 3
    deferred = Sequential([Dense(5), Activation("relu"), Dense(3)])
    assert not deferred.built
    deferred.build((None, 4))
    assert deferred.built and deferred.count_params() == 4 * 5 + 5 + 5 * 3 + 3
    with pytest.raises(ValueError, match="needs `input_shape`"):
        Sequential([Dense(2)]).build()
    with pytest.raises(ValueError, match="`input_shape` must be a batch-first tuple"):
        Sequential([Dense(2)]).build((None, -3))


def test_nested_sequential_takes_the_inner_input_shape():
    inner = Sequential([Dense(6, input_shape=(4,))])
    model = Sequential([inner, Dense(3)])
    assert model.input_shape == (None, 4) and model.built
    assert len(model.trainable_weights) == 4
    inner.trainable = False
    assert len(model.trainable_weights) == 2
    inner.trainable = True
    assert model.compute_output_shape((None, 4)) == (None, 3)
    model.compile("sgd", "mse")
    model.fit(X, Y, epochs=1, verbose=0)


def test_get_config_is_keras22_form_and_round_trips():
    model = Sequential([Dense(5, input_shape=(4,), name="a"), Dense(3, name="b")], name="stack")
    config = model.get_config()
    assert config["name"] == "stack" and config["build_input_shape"] == [None, 4]
    # the input first, as Keras 2.4+ writes it (Keras 2.2 read it from build_input_shape alone)
    assert [spec["class_name"] for spec in config["layers"]] == ["InputLayer", "Dense", "Dense"]
    json.dumps(config)
    clone = Sequential.from_config(config)
    assert clone.built and [l.name for l in clone.layers] == ["a", "b"]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]


def test_deferred_and_nested_models_round_trip_through_config():
    inner = Sequential([Dense(3), Dense(3)])
    model = Sequential([inner, Dense(5)])
    model.compile("sgd", "mse")
    assert not inner.built and model.weights == []
    model.train_on_batch(X[:2], np.zeros((2, 5), "float32"))
    config = model.get_config()
    assert config["build_input_shape"] == [None, 4]
    clone = Sequential.from_config(config)
    assert clone.built and len(clone.weights) == 6
    assert isinstance(clone.layers[0], Sequential) and len(clone.layers[0].weights) == 4
    assert json.loads(model.to_json())["config"]["layers"][0]["class_name"] == "Sequential"


def test_to_yaml_and_without_pyyaml_a_clear_error():
    yaml = pytest.importorskip("yaml")
    model = Sequential([Dense(2, input_dim=3, name="d")])
    assert yaml.safe_load(model.to_yaml()) == json.loads(model.to_json())
    code = ("import sys; sys.modules['yaml'] = None\n"  # as if PyYAML were not installed
            "from kerosene.models import Sequential; from kerosene.layers import Dense\n"
            "try:\n    Sequential([Dense(2, input_dim=3)]).to_yaml()\n"
            "except ImportError as err:\n    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Model.to_yaml() needs PyYAML: pip install pyyaml" in out.stdout


def test_updates_follow_trainable():
    model = Sequential([BatchNormalization(input_shape=(4,))])
    assert len(model.updates) == 2
    model.trainable = False
    assert model.updates == []
    with pytest.warns(UserWarning, match="has no trainable weights"):
        model.compile("sgd", "mse")
        before = model.predict(X)
        model.train_on_batch(X, X)
    np.testing.assert_allclose(model.predict(X), before, atol=1e-7)
    model.trainable = True
    model.compile("sgd", "mse")
    model.train_on_batch(X * 3 + 1, X)
    assert np.abs(model.predict(X) - before).sum() > 1e-5


def test_compiling_a_frozen_model_warns_and_trains_nothing():
    model = Sequential([Dense(2, input_dim=4, trainable=False)])
    with pytest.warns(UserWarning, match="no trainable weights"):
        model.compile("rmsprop", "mse")
    weights = model.get_weights()
    history = model.fit(X, Y[:, :2], epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


def test_trainable_changed_after_compile_warns_until_recompiled(capsys):
    a = Input(shape=(3,))
    frozen = Model(a, Dense(1)(a))
    frozen.trainable = False
    b = Input(shape=(3,))
    model = Model(b, Dense(1)(frozen(b)))
    model.compile("adam", "mse")
    frozen.trainable = True
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights"):
        model.summary()
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights"):
        model.fit(np.zeros((5, 3)), np.zeros((5, 1)), verbose=0)
    model.compile("adam", "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.summary()
        model.fit(np.zeros((5, 3)), np.zeros((5, 1)), verbose=0)


def test_target_tensors_fixed_targets_and_checks():
    from kerosene import backend as K
    target = K.variable(Y[:6])
    model = Sequential([Dense(3, input_shape=(4,), name="dense")])
    model.compile("sgd", "mse")
    expected = model.test_on_batch(X[:6], Y[:6])
    for spec in ([target], {"dense": target}, target):
        model.compile("sgd", "mse", target_tensors=spec)
        assert model.test_on_batch(X[:6], None) == pytest.approx(expected)
    weights = model.get_weights()[0].copy()
    model.train_on_batch(X[:6], None)
    assert not np.array_equal(model.get_weights()[0], weights)
    with pytest.raises(ValueError, match="`y` must be None: compile\\(target_tensors=...\\) fixed"):
        model.train_on_batch(X[:6], Y[:6])
    with pytest.raises(TypeError, match="`target_tensors` must be a tensor, a list"):
        model.compile("sgd", "mse", target_tensors=set())
    with pytest.raises(ValueError, match="one entry per model output. The model has 1 outputs"):
        model.compile("sgd", "mse", target_tensors=[target, target])
    with pytest.raises(ValueError, match="`target_tensors` names unknown outputs \\['dense2'\\]"):
        model.compile("sgd", "mse", target_tensors={"dense2": None})


def test_target_tensors_multi_output_and_placeholders():
    from kerosene import backend as K
    inputs = Input(shape=(4,))
    model = Model(inputs, [Dense(3, name="dense_a")(inputs), Dense(3, name="dense_b")(inputs)])
    a, b = K.variable(Y[:6]), K.variable(Y[6:12])
    model.compile("sgd", "mse", target_tensors={"dense_a": a, "dense_b": b})
    fixed = model.test_on_batch(X[:6], None)
    model.compile("sgd", "mse")
    np.testing.assert_allclose(fixed, model.test_on_batch(X[:6], [Y[:6], Y[6:12]]), rtol=1e-6)
    with pytest.raises(ValueError, match="passed a single tensor as `target_tensors`"):
        model.compile("sgd", "mse", target_tensors=a)
    # placeholders stand for the y given to each call
    model.compile("sgd", "mse", target_tensors=[K.placeholder((None, 3)), K.placeholder((None, 3))])
    model.train_on_batch(X[:6], [Y[:6], Y[6:12]])


def test_get_layer_by_index_or_name_and_its_errors():
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    model = Sequential([Dense(1, input_dim=2, name="d1"), Dense(1, name="d2")])
    assert model.get_layer(index=1).name == "d2" and model.get_layer(index=-1).name == "d2"
    assert model.get_layer("d1") is model.get_layer(index=0)
    for kwargs, match in (({"index": 5}, "index"), ({"index": None}, "name"), ({"name": "conv"}, "conv"),
                          ({"index": 1.0}, "index")):
        with pytest.raises(ValueError, match=match):
            model.get_layer(**kwargs)


def test_model_reset_states_resets_its_stateful_layers():
    from kerosene.layers import LSTM
    model = Sequential([LSTM(3, stateful=True, batch_input_shape=(2, 4, 5))])
    x = np.ones((2, 4, 5), "float32")
    first = model.predict(x, batch_size=2)
    assert not np.allclose(model.predict(x, batch_size=2), first)     # states carried over
    model.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2), first, rtol=1e-6)
