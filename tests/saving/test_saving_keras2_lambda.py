"""Lambda layers in .h5 model files: Keras 2's byte-code encoding, run by default, refused with safe_mode=True."""
import base64
import json
import marshal

import h5py
import numpy as np
import pytest

from kerosene import layers as L
from kerosene.models import Model, Sequential, load_model
from kerosene.layers.lambda_functions import live_function
from kerosene.saving.keras2_lambda import func_dump, func_load

X = np.arange(12, dtype="float32").reshape(4, 3) / 10


def offset_fn(t):
    return t + 1.0


def _functional(function, **kwargs):
    a = L.Input(shape=(3,))
    model = Model(a, L.Dense(2, name="out")(L.Lambda(function, name="lam", **kwargs)(a)))
    model.compile("sgd", "mse")
    return model


def _lambda_spec(path):
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
    return next(s for s in config["config"]["layers"] if s["class_name"] == "Lambda")["config"]


def test_function_saved_as_keras2_byte_code_and_run_by_default(tmp_path):
    scale = 3.0
    model = _functional(lambda t, k=2.0: offset_fn(t) * k * scale, output_shape=lambda s: s)
    path = str(tmp_path / "m.h5")
    model.save(path)
    spec = _lambda_spec(path)
    assert spec["function_type"] == "lambda" and spec["output_shape_type"] == "lambda"
    code, defaults, closure = spec["function"]
    assert defaults == [2.0] and closure == [3.0] and isinstance(code, str)
    assert "module" not in spec                      # Keras 2's Lambda takes no such argument
    loaded = load_model(path, custom_objects={"offset_fn": offset_fn})   # custom_objects are its globals
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert loaded.get_layer("lam").compute_output_shape((None, 3)) == (None, 3)
    again = load_model(path, custom_objects={"offset_fn": offset_fn}, safe_mode=False)
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def _saved_elsewhere(path, source):
    """A model file whose Lambda holds the byte code of ``source`` compiled under another file name,
    so no function of this process matches it, as in a file written by another process."""
    _functional(lambda t: t).save(path)
    code = compile(source, "<another process>", "eval").co_consts[0]   # the lambda's code, never a function here
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        spec = next(s for s in config["config"]["layers"] if s["class_name"] == "Lambda")["config"]
        spec["function"] = [base64.encodebytes(marshal.dumps(code)).decode("ascii"), None, None]
        f.attrs["model_config"] = json.dumps(config)
        if "kerosene_sha256" in f.attrs:   # the file's checksum no longer holds: as a file from elsewhere
            del f.attrs["kerosene_sha256"]
    assert not live_function(_lambda_spec(path)["function"], "lambda")


def test_safe_mode_true_refuses_byte_code_naming_the_layer(tmp_path):
    path = str(tmp_path / "m.h5")
    _saved_elsewhere(path, "lambda t: t * 2")
    with pytest.raises(ValueError, match="Lambda layer 'lam'.*byte code.*safe_mode=True"):
        load_model(path, safe_mode=True)
    with pytest.raises(TypeError, match="`safe_mode` must be True, False or None.*'yes'"):
        load_model(path, safe_mode="yes")


def test_byte_code_this_process_made_is_its_own_function_even_in_safe_mode(tmp_path):
    from kerosene.models import model_from_json
    function = lambda t: t * 2                                      # noqa: E731
    model = _functional(function)
    path = str(tmp_path / "m.h5")
    model.save(path)
    assert load_model(path, safe_mode=True).get_layer("lam").function is function
    assert model_from_json(model.to_json()).get_layer("lam").function is function


def test_keras_archive_still_refuses_byte_code_by_default(tmp_path):
    path = str(tmp_path / "m.keras")
    _functional(lambda t: t * 2).save(path)
    with pytest.raises(ValueError, match="Lambda layer 'lam'"):
        load_model(path)


def test_numpy_arguments_round_trip_as_arrays(tmp_path):
    mu = np.random.default_rng(0).random(3)
    model = _functional(lambda t, mu: t - mu.astype("float32").sum(), arguments={"mu": mu})
    path = str(tmp_path / "m.h5")
    model.save(path)
    assert _lambda_spec(path)["arguments"]["mu"] == {"type": "ndarray", "value": mu.tolist()}
    loaded = load_model(path)
    assert isinstance(loaded.get_layer("lam").arguments["mu"], np.ndarray)
    np.testing.assert_allclose(loaded.get_layer("lam").arguments["mu"], mu)


def test_sequential_with_lambda_saves_and_loads(tmp_path):
    model = Sequential([L.Dense(3, input_dim=3), L.Lambda(lambda t: t * t, name="sq")])
    model.compile("sgd", "mse")
    path = str(tmp_path / "s.h5")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_named_non_python_callable_is_saved_by_name(tmp_path):
    model = _functional(np.negative)          # a ufunc: no byte code, stored by name as Keras 2 does
    path = str(tmp_path / "m.h5")
    model.save(path)
    spec = _lambda_spec(path)
    assert spec["function"] == "negative" and spec["function_type"] == "function"
    with pytest.raises(ValueError, match="'lam'.*'negative'.*custom_objects"):
        load_model(path)


def test_reads_keras2_written_config(tmp_path):
    """A config as Keras 2.2.4 writes it, including the pre-2.1.2 raw byte string form."""
    def keras2_fn(x, power=2):
        return x ** power
    for code in (func_dump(keras2_fn)[0], marshal.dumps(keras2_fn.__code__).decode("raw_unicode_escape")):
        fn = func_load([code, [3], None])
        assert fn(2) == 8


def test_bad_byte_code_is_a_clear_error(tmp_path):
    path = str(tmp_path / "m.h5")
    _functional(lambda t: t * 2).save(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        spec = next(s for s in config["config"]["layers"] if s["class_name"] == "Lambda")
        spec["config"]["function"][0] = "bm90IGNvZGU=\n"      # base64 of b'not code'
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        if "kerosene_sha256" in f.attrs:
            del f.attrs["kerosene_sha256"]
    with pytest.raises(ValueError, match="Lambda layer 'lam'.*byte code cannot be loaded"):
        load_model(path)


def test_model_from_json_refuses_byte_code_but_reads_named_functions(tmp_path):
    from kerosene.models import model_from_json
    path = str(tmp_path / "m.h5")
    _saved_elsewhere(path, "lambda t: t * 2")
    with h5py.File(path, "r") as f:
        text = f.attrs["model_config"]
    with pytest.raises(ValueError, match="Lambda layer 'lam'.*byte code.*model_from_json"):
        model_from_json(text)
    config = json.loads(text)
    spec = next(s for s in config["config"]["layers"] if s["class_name"] == "Lambda")["config"]
    spec.update(function="offset_fn", function_type="function",
                arguments={"unused": {"type": "ndarray", "value": [1, 2]}})
    with pytest.raises(ValueError, match="'lam'.*'offset_fn'.*custom_objects"):
        model_from_json(json.dumps(config))
    model = model_from_json(json.dumps(config), custom_objects={"offset_fn": lambda t, unused: t + 1.0})
    assert isinstance(model.get_layer("lam").arguments["unused"], np.ndarray)
