"""Lambda's config as Keras 2.2.4 writes it (a lambda as marshalled byte code, a named
function by name) and from_config: a config made in this process gives back its very
functions; anything else needs custom_objects, or safe_mode=False to run byte code."""
import gc
import json
import sys

import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene import layers as L
from kerosene.layers.lambda_functions import func_dump, live_function
from kerosene.models import Model, Sequential, load_model
from kerosene.utils.test_utils import layer_test

X = np.arange(12, dtype="float32").reshape(4, 3) / 10


def halve(t):
    return t / 2


def never_wrapped(t):      # no Lambda of this process describes it
    return t - 1


def _made_elsewhere(make):
    """A Lambda config whose functions no longer exist here, as one from another process."""
    config = make().get_config()
    gc.collect()
    assert not live_function(config["function"], config["function_type"])
    return config


def test_config_keys_follow_keras2():
    scale = 3.0
    layer = L.Lambda(lambda x, k=2.0: x * k * scale, output_shape=lambda s: s, arguments={"k": 1.5}, name="lam")
    config = layer.get_config()
    assert config["function_type"] == "lambda" and config["output_shape_type"] == "lambda"
    code, defaults, closure = config["function"]
    assert isinstance(code, str) and defaults == (2.0,) and closure == (3.0,)
    assert config["arguments"] == {"k": 1.5} and config["name"] == "lam"
    named = L.Lambda(halve, output_shape=(3,)).get_config()
    assert (named["function"], named["function_type"], named["module"]) == ("halve", "function", __name__)
    assert named["output_shape"] == (3,) and named["output_shape_type"] == "raw"
    assert L.Lambda(np.negative).get_config()["function"] == "negative"


def test_from_config_made_here_gives_the_same_functions():
    def shape_fn(s):
        return tuple(s[:-1]) + (2 * s[-1],)
    function = lambda x: K.concatenate([K.square(x), x])       # noqa: E731
    layer = L.Lambda(function, output_shape=shape_fn)
    clone = L.Lambda.from_config(layer.get_config())
    assert clone.function is function and clone._output_shape is shape_fn
    assert clone.compute_output_shape((None, 3)) == (None, 6)
    # through JSON too (tuples come back as lists)
    assert L.Lambda.from_config(json.loads(json.dumps(layer.get_config()))).function is function
    assert L.deserialize(L.serialize(L.Lambda(halve))).function is halve
    assert L.Lambda.from_config(L.Lambda(len).get_config(), custom_objects={"len": len}).function is len


def test_closure_holding_an_array_round_trips_in_process():
    mu = np.array([0.5, 1.0, 1.5], dtype="float32")
    function = lambda t: t - torch.as_tensor(mu)                # noqa: E731
    clone = L.Lambda.from_config(L.Lambda(function).get_config())
    assert clone.function is function


def test_functional_and_sequential_models_rebuilt_from_config():
    a = L.Input(shape=(3,))
    model = Model(a, L.Dense(2)(L.Lambda(lambda t: t * t, output_shape=lambda s: s, name="sq")(a)))
    rebuilt = Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    seq = Sequential([L.Dense(3, input_dim=3), L.Lambda(lambda t: t + 1.0)])
    again = Sequential.from_config(seq.get_config())
    again.set_weights(seq.get_weights())
    np.testing.assert_allclose(again.predict(X, verbose=0), seq.predict(X, verbose=0), rtol=1e-6)


def test_keras2_layer_test_runs_on_lambdas():
    out = layer_test(L.Lambda, kwargs={"function": lambda x, a, b: x * a + b, "arguments": {"a": 0.6, "b": 0.4}},
                     input_shape=(3, 2))
    assert out.shape == (3, 2)
    assert layer_test(L.Lambda, kwargs={"function": lambda x: K.mean(x, axis=-1)}, input_shape=(3, 2, 4)).shape == (3, 2)


def test_byte_code_from_elsewhere_is_refused_unless_safe_mode_is_false():
    config = _made_elsewhere(lambda: L.Lambda(lambda t, k=2.0: t * k + 1.0, name="foreign"))
    with pytest.raises(ValueError, match="'foreign'.*byte code that was not made by this process.*safe_mode=False"):
        L.Lambda.from_config(config)
    layer = L.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(layer(torch.tensor(X)).numpy(), X * 2.0 + 1.0, rtol=1e-6)


def test_byte_code_that_cannot_be_loaded_is_a_clear_error():
    config = _made_elsewhere(lambda: L.Lambda(lambda t: t, name="broken"))
    config["function"] = ["bm90IGNvZGU=\n", None, None]           # base64 of b'not code'
    with pytest.raises(ValueError, match="'broken'.*byte code cannot be loaded"):
        L.Lambda.from_config(config, safe_mode=False)
    config["function"] = 42
    with pytest.raises(ValueError, match="'broken': its function 42 is not Keras 2's byte code"):
        L.Lambda.from_config(config)
    config["function_type"] = "function"
    with pytest.raises(ValueError, match="'broken': its function 42 is not a function name"):
        L.Lambda.from_config(config)
    config["function_type"] = "pickle"
    with pytest.raises(ValueError, match="unknown function_type 'pickle'; accepted: 'lambda'"):
        L.Lambda.from_config(config)


def test_a_name_not_described_here_comes_from_custom_objects_or_its_module():
    config = L.Lambda(halve, name="named").get_config()
    config["function"] = "never_wrapped"
    with pytest.raises(ValueError, match="'named'.*'never_wrapped'.*custom_objects=.*safe_mode=False"):
        L.Lambda.from_config(config)
    assert L.Lambda.from_config(config, custom_objects={"never_wrapped": halve}).function is halve
    assert L.Lambda.from_config(config, safe_mode=False).function is never_wrapped
    config.pop("module")                                          # a name alone: never a live function
    config["function"] = "halve"
    with pytest.raises(ValueError, match="'halve' \\(module None\\)"):
        L.Lambda.from_config(config)


def test_output_shape_function_from_elsewhere_is_refused_too():
    config = L.Lambda(halve).get_config()
    config.update(_made_elsewhere(lambda: L.Lambda(halve, output_shape=lambda s: s, name="shaped")))
    config["function"], config["function_type"] = "halve", "function"
    config["module"] = __name__
    with pytest.raises(ValueError, match="'shaped': its output_shape is Python byte code"):
        L.Lambda.from_config(config)


def test_h5_round_trip_keeps_the_functions(tmp_path):
    a = L.Input(shape=(3,))
    model = Model(a, L.Dense(1)(L.Lambda(lambda t: t * 2, output_shape=lambda s: s, name="lam")(a)))
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = load_model(path, safe_mode=True)     # this process made the byte code: nothing from the file runs
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert loaded.get_layer("lam").function is model.get_layer("lam").function


def test_function_must_be_callable():
    with pytest.raises(TypeError, match="'function' of Lambda must be callable, got 'x'"):
        L.Lambda("x")


def test_module_level_name_needs_the_function_there():
    fake = type(sys)("fake_module_for_lambda")
    exec("def tripled(t):\n    return t * 3\n", fake.__dict__)
    sys.modules[fake.__name__] = fake
    try:
        config = L.Lambda(fake.tripled).get_config()
        assert config["function_type"] == "function" and config["module"] == fake.__name__
        assert L.Lambda.from_config(config).function is fake.tripled
    finally:
        del sys.modules[fake.__name__]
    nested = L.Lambda(func_dump).get_config()        # found in its module by name: described by name
    assert nested["function"] == "func_dump" and nested["function_type"] == "function"


def test_a_call_returning_a_list_of_one_tensor_gives_that_tensor():
    # Keras 2 unpacks a one-element output list: Lambda(lambda x: K.gradients(...)) (mnist_swwae)
    # is then one tensor that merge layers and Model() take.
    a = L.Input(shape=(3,))
    single = L.Lambda(lambda x: [x * 2])(a)
    assert not isinstance(single, list) and single.shape == (None, 3)
    pair = L.Lambda(lambda x: [x, x + 1], output_shape=[(3,), (3,)])(a)
    assert isinstance(pair, list) and len(pair) == 2
    model = Model(a, L.multiply([a, single]))
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(model.predict(x), x * x * 2)
