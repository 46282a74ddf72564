"""A model's architecture as Keras 2's JSON config, and back.

``Sequential`` gives ``{"class_name": "Sequential", "config": {"name": ..., "layers":
[{"class_name": "Dense", "config": {...}}, ...]}}``. Other models are described only
when their class defines ``get_config``/``from_config`` (a functional model, or a
subclass that opts in); a layer that cannot be described (a raw ``nn.Module``) is refused with a message suggesting
``save_weights``. A ``Lambda`` is described as Keras 2 does (byte code for a lambda, else its function's name and module);
Keras 2's ``.h5`` writer turns that into byte code (:mod:`.keras2_lambda`).

Example::

    config = model_config(model)
    clone = model_from_config(config)     # same architecture, fresh weights
"""
from __future__ import annotations

import inspect
import json

from .._naming import layer_name
from ..layers import Lambda
from ..errors import NotSerializableError
from .keras2_lambda import decode_keras2_lambdas
from .registry import MODEL_CLASSES, lookup_objects, registered_name
from .sharded_weights import unsharded_class

__all__ = ["model_config", "model_from_config", "layer_config", "subclassed_model_error", "NotSerializableError"]


def _refuse(model, what):
    return NotSerializableError(
        f"Cannot save model {getattr(model, 'name', '?')!r} with its architecture: {what}. "
        "Save the weights alone with model.save_weights('....weights.h5') (or '.pt') and rebuild the "
        "model in code, or make the layer describable (a kerosene layer subclass with get_config, "
        "registered with @kerosene.saving.register_serializable or passed in custom_objects).")


def layer_config(layer, model=None):
    """``{"class_name": ..., "config": ...}`` for one layer, or a clear refusal."""
    if not hasattr(layer, "get_config") or not hasattr(type(layer), "from_config"):
        raise _refuse(model, f"layer {layer_name(layer)!r} is a plain torch module "
                             f"({type(layer).__module__}.{type(layer).__qualname__}) with no get_config")
    if isinstance(layer, Lambda):
        config = layer.get_config()
        config["module"] = getattr(layer.function, "__module__", None)
        return {"class_name": "Lambda", "config": config}
    try:
        config = layer.get_config()
    except NotImplementedError as err:
        raise _refuse(model, f"layer {layer_name(layer)!r} has no get_config ({err})") from None
    _check_json(config, model, f"layer {layer_name(layer)!r}")
    return {"class_name": registered_name(layer), "config": config}


def _check_json(config, model, where):
    try:
        json.dumps(config, default=_json_default)
    except (TypeError, ValueError) as err:
        raise _refuse(model, f"the config of {where} holds a value JSON cannot hold ({err})") from None


def _json_default(value):
    import numpy as np
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value, **kwargs):
    return json.dumps(value, default=_json_default, **kwargs)


def subclassed_model_error(model):
    """The refusal for a model whose architecture is Python code (no ``get_config``/``from_config``)."""
    return _refuse(model, f"it is a subclassed model ({unsharded_class(type(model)).__name__}) whose architecture is Python "
                          "code; define get_config() and a from_config() classmethod to describe it")


def model_config(model):
    """Keras 2's ``{"class_name", "config"}`` description of ``model``'s architecture.

    The model describes itself (``get_config``); Sequential's is already in this form.
    """
    if not hasattr(type(model), "from_config"):
        raise subclassed_model_error(model)
    config = model.get_config()
    if isinstance(config, dict) and set(config) == {"class_name", "config"}:
        return config
    _check_json(config, model, "the model")
    return {"class_name": registered_name(model), "config": config}


def model_from_config(config, custom_objects=None):
    """Rebuild a model (with fresh weights) from :func:`model_config`'s output."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A model config must be a dict with 'class_name' and 'config', got {config!r:.200}")
    # a Keras 2 config's Lambda byte code is refused here; only load_model('m.h5') runs it
    config, custom_objects = decode_keras2_lambdas(config, custom_objects, safe_mode=True)
    objects = lookup_objects(custom_objects)
    class_name = config["class_name"]
    inner = config.get("config") or {}
    cls = MODEL_CLASSES.find(class_name) if class_name in MODEL_CLASSES else objects.get(class_name)
    if cls is None or not hasattr(cls, "from_config"):
        raise ValueError(f"Unknown model class {class_name!r} in the config: only Sequential, Functional, "
                         "classes registered with @register_serializable and custom_objects can be loaded")
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(inner, custom_objects=objects)
    return cls.from_config(inner)
