"""K.placeholder, K.function and K.eval: Keras 2's way to run part of a graph on arrays."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.layers import Dense, Dropout, Embedding, Flatten, Input
from kerosene.models import Model

RNG = np.random.default_rng(1)


def _mlp():
    x = Input(shape=(4,), name="x")
    hidden = Dense(3, activation="relu", name="hidden")(x)
    out = Dense(2, activation="softmax", name="out")(Dropout(0.5, name="drop")(hidden))
    return x, hidden, out, Model(x, out)


def test_intermediate_output_of_a_trained_model_matches_its_weights():
    x, hidden, out, model = _mlp()
    model.compile("sgd", "categorical_crossentropy")
    data = RNG.normal(size=(16, 4)).astype("float32")
    model.fit(data, np.eye(2)[RNG.integers(0, 2, 16)], epochs=2, verbose=0)
    get_hidden = K.function([model.input], [model.get_layer("hidden").output])
    kernel, bias = model.get_layer("hidden").get_weights()
    result = get_hidden([data])
    assert isinstance(result, list) and len(result) == 1
    np.testing.assert_allclose(result[0], np.maximum(data @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    both = K.function([x], [hidden, out])([data])
    np.testing.assert_allclose(both[1], model.predict(data), rtol=1e-5, atol=1e-6)


def test_learning_phase_input_runs_dropout_and_restores_modes():
    x, hidden, out, model = _mlp()
    # positive hidden units everywhere, so only dropout can zero one (random weights could leave all dead)
    model.get_layer("hidden").set_weights([np.ones((4, 3), "float32"), np.zeros(3, "float32")])
    dropped = model.get_layer("drop").output
    f = K.function([x, K.learning_phase()], [hidden, dropped])
    data = np.ones((64, 4), "float32") + RNG.random((64, 4)).astype("float32")
    h, test_mode = f([data, 0])
    np.testing.assert_allclose(test_mode, h)
    model.train()
    h, train_mode = f([data, 1])
    assert np.all((train_mode == 0) | np.isclose(train_mode, 2 * h))
    assert (train_mode == 0).sum() > (h == 0).sum()
    assert model.get_layer("drop").training is True  # the mode found before the call is back


def test_single_output_and_integer_placeholder_inputs():
    ids = Input(shape=(3,), dtype="int32")
    flat = Flatten()(Embedding(10, 2, name="emb")(ids))
    f = K.function([ids], flat)
    table = Model(ids, flat).get_layer("emb").get_weights()[0]
    out = f([np.array([[1, 2, 3]])])
    np.testing.assert_allclose(out, table[[1, 2, 3]].reshape(1, 6), rtol=1e-6)


def test_function_feeds_placeholders_through_layers():
    p = K.placeholder(shape=(None, 2), name="p")
    assert K.is_placeholder(p) and K.int_shape(p) == (None, 2) and p.dtype == "float32"
    dense = Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    out = dense(p)
    assert not K.is_placeholder(out) and K.is_keras_tensor(out)
    np.testing.assert_allclose(K.function([p], [out])([np.array([[1.0, 2.0]])])[0], [[3.0]])
    assert K.placeholder(ndim=3).shape == (None, None, None)
    assert K.placeholder((2,), dtype="int32").dtype == "int32"


def test_bad_calls_are_clear_errors():
    x, hidden, out, model = _mlp()
    f = K.function([x], [hidden])
    with pytest.raises(ValueError, match=r"list of 1 value\(s\).*got a list of 2"):
        f([np.ones((1, 4)), np.ones((1, 4))])
    with pytest.raises(ValueError, match=r"fed for 'x' has shape \(1, 5\).*expects \(None, 4\)"):
        f([np.ones((1, 5))])
    with pytest.raises(TypeError, match="`inputs` must be a list or tuple"):
        K.function(x, [hidden])
    with pytest.raises(TypeError, match="each of `outputs` must be a symbolic tensor.*ndarray"):
        K.function([x], [np.ones(2)])
    with pytest.raises(ValueError, match="`updates` are not supported"):
        K.function([x], [hidden], updates=[(K.variable(1.0), 2.0)])
    with pytest.raises(TypeError, match="unexpected keyword arguments \\['fetches'\\]"):
        K.function([x], [hidden], fetches=[])
    other = Input(shape=(4,), name="other")
    with pytest.raises(ValueError, match="function: output 'hidden' depends on input 'x'.*\\['other'\\]"):
        K.function([other], [hidden])
    with pytest.raises(ValueError, match="eval: `x` is a symbolic tensor"):
        K.eval(hidden)
    with pytest.raises(ValueError, match="give `shape`.*or `ndim`"):
        K.placeholder()
    with pytest.raises(ValueError, match="`sparse=True` is not supported"):
        K.placeholder((None, 3), sparse=True)


def test_outputs_move_to_the_layers_device_and_back():
    x, hidden, out, model = _mlp()
    f = K.function([x], [out])
    result = f([torch.ones(2, 4, dtype=torch.float64)])[0]
    assert result.dtype == np.float32 and result.shape == (2, 2)


def test_the_keras2_faq_recipe_on_a_sequential_model():
    from kerosene.layers import Activation
    from kerosene.models import Sequential
    model = Sequential([Dense(4, input_dim=3, name="first"), Activation("relu"), Dense(2)])
    get_2nd_layer_output = K.function([model.layers[0].input], [model.layers[1].output])
    data = RNG.normal(size=(5, 3)).astype("float32")
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(get_2nd_layer_output([data])[0], np.maximum(data @ kernel + bias, 0),
                               rtol=1e-5, atol=1e-6)
    assert model.input is model.inputs[0] and model.input.shape == (None, 3)
    assert model.input.name == "first_input" and model.output.shape == (None, 2)
    np.testing.assert_allclose(Model(model.inputs, model.outputs).predict(data), model.predict(data), rtol=1e-6)


def test_sequential_tensors_follow_add_and_pop():
    from kerosene.models import Sequential
    model = Sequential([Dense(4, input_dim=3), Dense(2)])
    popped = model.layers[-1]
    assert model.output.shape == (None, 2)
    model.pop()
    model.add(Dense(5))
    assert model.output.shape == (None, 5)
    assert model.layers[0].output is model.layers[1].input  # each kept layer has one call still
    with pytest.raises(AttributeError):
        popped.output  # its call left the model with it
    with pytest.raises(AttributeError):
        Sequential([Dense(2)]).input  # no input shape yet


def test_layer_input_and_output_need_exactly_one_symbolic_call():
    a, b = Input(shape=(2,)), Input(shape=(2,))
    dense = Dense(3)
    with pytest.raises(AttributeError):
        dense.output
    out = dense(a)
    assert dense.input is a.input and dense.output is out and a.output is a.input
    dense(b)
    with pytest.raises(AttributeError):
        dense.output
