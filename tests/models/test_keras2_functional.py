"""The functional API: Input, symbolic calls, Model(inputs, outputs), saving the graph."""
import json

import numpy as np
import pytest
import torch

import kerosene
from kerosene import backend as K
from kerosene.layers import Add, Dense, Input, Lambda, concatenate
from kerosene.models import Model, Sequential

RNG = np.random.RandomState(0)
XA, XB = RNG.rand(64, 4).astype("float32"), RNG.rand(64, 3).astype("float32")


def two_in_two_out():
    a, b = Input(shape=(4,), name="a"), Input(shape=(3,), name="b")
    shared = Dense(5, name="shared")
    merged = concatenate([shared(a), Dense(5, name="proj")(b)])
    added = Add()([shared(a), Dense(5, name="proj2")(b)])
    h = concatenate([merged, added])
    return Model(inputs=[a, b], outputs=[Dense(1, name="out")(h), Dense(2, activation="softmax", name="aux")(h)])


def test_symbolic_shapes_and_structure():
    a = Input(shape=(4,))
    h = Dense(7)(a)
    assert h.shape == (None, 7) and K.int_shape(h) == (None, 7) and K.is_keras_tensor(h)
    model = two_in_two_out()
    assert isinstance(model, Model) and type(model).__name__ == "Functional"
    assert model.output_names == ["out", "aux"] and model.input_names == ["a", "b"]
    assert model.input_shape == [(None, 4), (None, 3)] and model.output_shape == [(None, 1), (None, 2)]
    shared = model.get_layer("shared")
    assert [l.name for l in model.layers].count("shared") == 1 and shared.get_weights()[0].shape == (4, 5)


def test_shared_layer_is_one_set_of_weights():
    a = Input(shape=(3,))
    shared = Dense(3, use_bias=False)
    model = Model(a, shared(shared(a)))
    w = shared.get_weights()[0]
    x = RNG.rand(5, 3).astype("float32")
    np.testing.assert_allclose(model.predict(x), x @ w @ w, rtol=1e-5, atol=1e-6)  # entries near 0: float32 rounding
    assert model.count_params() == 9


def test_fit_lists_dicts_loss_weights_and_logs():
    model = two_in_two_out()
    model.compile("adam", loss={"out": "mse", "aux": "categorical_crossentropy"},
                  loss_weights={"out": 1.0, "aux": 0.5}, metrics={"aux": ["acc"]})
    y1 = RNG.rand(64, 1).astype("float32")
    y2 = kerosene.utils.to_categorical(RNG.randint(0, 2, 64), 2)
    h = model.fit([XA, XB], [y1, y2], epochs=4, verbose=0, batch_size=16)
    logs = h.history
    assert {"loss", "out_loss", "aux_loss", "aux_acc"} <= set(logs)
    assert logs["loss"][-1] < logs["loss"][0]
    h2 = model.fit({"a": XA, "b": XB}, {"out": y1, "aux": y2}, epochs=1, verbose=0, shuffle=False)
    result = model.evaluate({"a": XA, "b": XB}, {"out": y1, "aux": y2}, verbose=0)
    assert model.metrics_names[:3] == ["loss", "out_loss", "aux_loss"]
    np.testing.assert_allclose(result[0], result[1] + 0.5 * result[2], rtol=1e-4)
    assert h2.history["loss"][0] > 0


def test_lambda_and_single_output_model_trains():
    a = Input(shape=(4,))
    h = Lambda(lambda t: K.l2_normalize(t, axis=-1))(a)
    model = Model(inputs=a, outputs=Dense(1)(Dense(8, activation="tanh")(h)))
    model.compile("adam", "mse")
    y = XA.sum(1, keepdims=True)
    h = model.fit(XA, y, epochs=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.output_names == [model.layers[-1].name] and model.predict(XA).shape == (64, 1)


def test_input_works_as_sequential_first_element_and_as_tensor():
    inp = Input(shape=(4,))
    seq = Sequential([inp, Dense(2)])
    assert seq.input_shape == (None, 4)
    model = Model(inp, Dense(2)(inp))
    assert model.predict(XA).shape == (64, 2)


def test_config_round_trip_is_keras2_shaped():
    model = two_in_two_out()
    config = json.loads(json.dumps(model.get_config()))
    assert [l["class_name"] for l in config["layers"]][:2] == ["InputLayer", "InputLayer"]
    shared = next(l for l in config["layers"] if l["name"] == "shared")
    assert len(shared["inbound_nodes"]) == 2 and shared["inbound_nodes"][0][0][:3] == ["a", 0, 0]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert [o[0] for o in config["output_layers"]] == ["out", "aux"]
    rebuilt = type(model).from_config(config)
    rebuilt.set_weights(model.get_weights())
    for ours, theirs in zip(model.predict([XA, XB]), rebuilt.predict([XA, XB])):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def double(t):
    return t * 2


def triple(t):       # never wrapped in a Lambda here: a config naming it comes from elsewhere
    return t * 3


def test_lambda_config_names_a_module_level_function_and_round_trips_in_process():
    a = Input(shape=(4,))
    model = Model(a, Dense(1)(Lambda(double, name="dbl")(a)))
    config = json.loads(json.dumps(model.get_config()))
    spec = next(l for l in config["layers"] if l["class_name"] == "Lambda")
    assert spec["config"]["function"] == "double" and spec["config"]["module"] == __name__
    assert spec["config"]["function_type"] == "function"
    rebuilt = type(model).from_config(config)     # made by this process: the same function, as in Keras 2
    assert rebuilt.get_layer("dbl").function is double
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(XA), model.predict(XA), rtol=1e-6)


def test_lambda_naming_a_function_not_described_here_is_refused_without_custom_objects():
    a = Input(shape=(4,))
    model = Model(a, Dense(1)(Lambda(double, name="dbl")(a)))
    config = json.loads(json.dumps(model.get_config()))
    spec = next(l for l in config["layers"] if l["class_name"] == "Lambda")
    spec["config"]["function"] = "triple"
    with pytest.raises(ValueError, match="'dbl'.*'triple'.*custom_objects"):
        type(model).from_config(config)
    rebuilt = type(model).from_config(config, custom_objects={"triple": triple})
    assert rebuilt.get_layer("dbl").function is triple
    unsafe = type(model).from_config(config, safe_mode=False)  # imports tests' module by reference
    assert unsafe.get_layer("dbl").function is triple


def test_save_and_load_model_file(tmp_path):
    model = two_in_two_out()
    model.compile("adam", loss=["mse", "categorical_crossentropy"], loss_weights=[1.0, 0.3])
    path = str(tmp_path / "func.h5")
    model.save(path)
    loaded = kerosene.models.load_model(path)
    for ours, theirs in zip(model.predict([XA, XB]), loaded.predict([XA, XB])):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert loaded.output_names == ["out", "aux"]


def test_bad_inputs_are_clear_errors():
    a = Input(shape=(4,), name="only")
    model = Model(a, Dense(1)(a))
    with pytest.raises(ValueError, match="expects 1 input.*got a list of 2"):
        model.predict([XA, XA])
    with pytest.raises(ValueError, match="lacks \\['b'\\]"):
        two_in_two_out().predict({"a": XA, "c": XB})
    with pytest.raises(TypeError, match="`outputs` must be symbolic tensors.*ndarray"):
        Model(a, XA)
    other = Input(shape=(4,), name="other")
    with pytest.raises(ValueError, match="not among the model's inputs"):
        Model(a, Dense(1)(other))
    with pytest.raises(TypeError, match="both `inputs` and `outputs`"):
        Model(inputs=a)
    with pytest.raises(ValueError, match="expected shape \\(None, 4\\)"):
        model.compile("sgd", "mse")
        model.fit(np.zeros((4, 5), "float32"), np.zeros((4, 1), "float32"), verbose=0)


def test_real_tensor_calls_are_unchanged():
    d = Dense(3)
    out = d(torch.zeros(2, 4))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3)


def test_inputs_cleared_and_set_back_as_keras2_code_does():
    base = Sequential([Dense(4, input_dim=6)])
    model = Model(inputs=base.inputs, outputs=base.outputs)
    x = np.random.default_rng(0).random((2, 6)).astype("float32")
    expected = model.predict(x)
    with pytest.raises(ValueError, match="already has its inputs"):
        model._set_inputs(base.inputs)
    model.inputs = None
    assert model.inputs is None
    with pytest.raises(ValueError, match="_set_inputs takes the model's own inputs"):
        model._set_inputs(Input(shape=(6,)))
    model._set_inputs(base.input)
    assert model.inputs == base.inputs
    np.testing.assert_allclose(model.predict(x), expected)
    with pytest.raises(ValueError, match="`inputs` can only be set to None"):
        model.inputs = base.inputs


def test_keras_history_names_the_layer_its_call_and_output():
    from kerosene.layers import Dense, Input, Lambda
    d = Dense(2)
    a, b = Input((3,)), Input((3,))
    first, second = d(a), d(b)
    assert first._keras_history == (d, 0, 0) and second._keras_history == (d, 1, 0)
    assert a._keras_history[0] is a and a._keras_history[1:] == (0, 0) and a._keras_shape == (None, 3)
    halves = Lambda(lambda t: [t[:, :1], t[:, 1:]])(first)
    assert [h._keras_history[2] for h in halves] == [0, 1]
    # model surgery as Keras 2 code does it: the layer behind a tensor, then its weights
    layer, _, _ = second._keras_history
    assert layer.get_weights()[0].shape == (3, 2)
