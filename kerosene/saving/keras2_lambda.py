"""Lambda layers in Keras 2's HDF5 model config: a Python function as marshalled byte code.

Keras 2 writes a Lambda's function (and a callable ``output_shape``) as
``[base64 of marshal.dumps(code), defaults, closure values]`` with ``function_type``
``'lambda'`` (``'function'`` with a bare name for other callables), and numpy
``arguments`` as ``{"type": "ndarray", "value": [...]}``. Loading such a file runs that
byte code, as Keras 2 (and Keras 3 for legacy ``.h5``) do by default: ``load_model(path,
safe_mode=True)`` refuses it instead, naming the layer. Byte code only loads on the Python
version that wrote it.

Example::

    config = keras2_model_config(model)                 # Lambda layers as byte code
    config, objects = decode_keras2_lambdas(config, custom_objects=None, safe_mode=None)
"""
from __future__ import annotations

import copy
import types

import numpy as np

from .._naming import layer_name
from ..layers.lambda_functions import func_dump, func_load, live_function, loaded_globals

__all__ = ["func_dump", "func_load", "keras2_model_config", "decode_keras2_lambdas"]


# --- writing ---------------------------------------------------------------------------
def _encode_callable(value):
    if isinstance(value, types.FunctionType):
        return list(func_dump(value)), "lambda"
    return getattr(value, "__name__", repr(value)), "function"


def _json_argument(value):
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "value": value.tolist()}
    return value


def lambda_config(layer):
    """Keras 2.2's config of a Lambda layer (function as byte code)."""
    config = layer.get_config()
    for key in ("module", "output_shape_module"):    # Keras 2.2's Lambda takes no such arguments
        config.pop(key, None)
    config["function"], config["function_type"] = _encode_callable(layer.function)
    shape = layer._output_shape
    if callable(shape):
        config["output_shape"], config["output_shape_type"] = _encode_callable(shape)
    else:
        config["output_shape"], config["output_shape_type"] = shape, "raw"
    config["arguments"] = {k: _json_argument(v) for k, v in layer.arguments.items()}
    return config


def _lambda_layers(model, found):
    for layer in getattr(model, "layers", None) or []:
        if type(layer).__name__ == "Lambda" and hasattr(layer, "function"):
            found[layer_name(layer)] = layer
        elif hasattr(layer, "layers"):
            _lambda_layers(layer, found)
    return found


def _walk_specs(value, visit):
    """Call ``visit(spec)`` on every ``{"class_name": "Lambda", "config": {...}}`` in ``value``."""
    if isinstance(value, dict):
        if value.get("class_name") == "Lambda" and isinstance(value.get("config"), dict):
            visit(value)
        for item in value.values():
            _walk_specs(item, visit)
    elif isinstance(value, list):
        for item in value:
            _walk_specs(item, visit)


def keras2_model_config(config, model):
    """``config`` (a :func:`~.config.model_config` dict of ``model``) with its Lambda layers in
    Keras 2's byte-code form, as ``model.save('m.h5')`` writes them."""
    layers = _lambda_layers(model, {})
    if not layers:
        return config
    config = copy.deepcopy(config)

    def visit(spec):
        layer = layers.get(spec["config"].get("name"))
        if layer is not None:
            spec["config"] = lambda_config(layer)
    _walk_specs(config, visit)
    return config


# --- reading ---------------------------------------------------------------------------
def _decode_callable(layer, key, value, kind, objects, safe_mode):
    if kind != "lambda":
        return value
    live = live_function(value, kind)
    if live:    # described by this process (model_from_json(model.to_json())): no code from the config runs
        return live[0]
    if safe_mode is True:
        raise ValueError(f"Lambda layer {layer!r}: its {key} is Python byte code stored in the file or config, and "
                         "this load runs no code from files (load_model with safe_mode=True, model_from_config, "
                         "model_from_json). load_model('m.h5') with safe_mode unset (or False) runs it: do that only "
                         "if you trust the file; or rebuild the model in code and use load_weights.")
    try:
        return func_load(value, globs=loaded_globals(objects))
    except (ValueError, TypeError, EOFError) as err:
        raise ValueError(f"Lambda layer {layer!r}: its {key}'s byte code cannot be loaded ({err}); byte code only "
                         "loads on the Python version that wrote it: rebuild the model in code and use "
                         "load_weights") from None


def decode_keras2_lambdas(config, custom_objects=None, safe_mode=None):
    """``(config, custom_objects)`` for :func:`~.config.model_from_config`: each Keras 2 Lambda
    whose function is byte code gets it loaded (the function itself when this process described
    it; refused with ``safe_mode=True`` otherwise) and put in the returned ``custom_objects``
    under a slot name its config then holds; numpy arguments become arrays again. A config
    without Keras 2 Lambda layers comes back unchanged."""
    objects = dict(custom_objects or {})
    config = copy.deepcopy(config)

    def visit(spec):
        inner = spec["config"]
        if "function_type" not in inner:
            return
        name = inner.get("name", "?")
        for key in ("function", "output_shape"):
            if inner.get(f"{key}_type") != "lambda":
                continue     # a name (or a raw shape): Lambda.from_config resolves it
            decoded = _decode_callable(name, key, inner.get(key), "lambda", objects, safe_mode)
            slot = f"__keras2_lambda__{name}__{key}"
            objects[slot] = decoded
            inner[key], inner[f"{key}_type"] = slot, "function"
        arguments = inner.get("arguments") or {}
        inner["arguments"] = {k: np.array(v["value"]) if isinstance(v, dict) and v.get("type") == "ndarray" else v
                              for k, v in arguments.items()}
    _walk_specs(config, visit)
    return config, objects
