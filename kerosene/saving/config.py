"""A model's architecture as Keras 2's JSON config, and back.

``Sequential`` gives ``{"class_name": "Sequential", "config": {"name": ..., "layers":
[{"class_name": "Dense", "config": {...}}, ...]}}``. Other models are described only
when their class defines ``get_config``/``from_config`` (a functional model, or a
subclass that opts in); a layer that cannot be described (a raw ``nn.Module``, a
``Lambda`` around a Python function) is refused with a message suggesting
``save_weights``.

Example::

    config = model_config(model)
    clone = model_from_config(config)     # same architecture, fresh weights
"""
from __future__ import annotations

import inspect
import json

from .._naming import layer_name
from ..errors import NotSerializableError
from .registry import lookup_objects, registered_name

__all__ = ["model_config", "model_from_config", "layer_config", "NotSerializableError"]


def _refuse(model, what):
    return NotSerializableError(
        f"Cannot save model {getattr(model, 'name', '?')!r} with its architecture: {what}. "
        "Save the weights alone with model.save_weights('....weights.h5') (or '.pt') and rebuild the "
        "model in code, or make the layer describable (a kerosene layer subclass with get_config, "
        "registered with @kerosene.saving.register_serializable or passed in custom_objects).")


def layer_config(layer, model=None):
    """``{"class_name": ..., "config": ...}`` for one layer, or a clear refusal."""
    from ..layers import Lambda
    if not hasattr(layer, "get_config") or not hasattr(type(layer), "from_config"):
        raise _refuse(model, f"layer {layer_name(layer)!r} is a plain torch module "
                             f"({type(layer).__module__}.{type(layer).__qualname__}) with no get_config")
    if isinstance(layer, Lambda):
        raise _refuse(model, f"layer {layer_name(layer)!r} is a Lambda around a Python function, which a "
                             "config cannot hold safely")
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


def to_json(value):
    return json.dumps(value, default=_json_default)


def model_config(model):
    """Keras 2's ``{"class_name", "config"}`` description of ``model``'s architecture."""
    from ..models import Model, Sequential
    if isinstance(model, Sequential):
        layers = [layer_config(layer, model) for layer in model.layers]
        if model._input_shape is not None:
            # Keras 2.4+ writes the input as a first layer; Keras 3 needs it to know the input shape.
            dtype = str(model._input_dtype) if getattr(model, "_input_dtype", None) is not None else "float32"
            layers.insert(0, {"class_name": "InputLayer", "config": {
                "batch_input_shape": [None] + list(model._input_shape), "dtype": dtype, "sparse": False,
                "name": f"{model.name}_input"}})
        config = {"name": model.name, "layers": layers}
        if model._input_shape is not None:
            config["build_input_shape"] = [None] + list(model._input_shape)
            if getattr(model, "_input_dtype", None) is not None:
                config["input_dtype"] = str(model._input_dtype)
        return {"class_name": registered_name(model) if type(model) is not Sequential else "Sequential",
                "config": config}
    own_get_config = type(model).get_config
    if own_get_config is not Model.get_config and hasattr(type(model), "from_config"):
        config = model.get_config()
        _check_json(config, model, "the model")
        return {"class_name": registered_name(model), "config": config}
    raise _refuse(model, f"it is a subclassed model ({type(model).__name__}) whose architecture is Python "
                         "code; define get_config() and a from_config() classmethod to describe it")


def model_from_config(config, custom_objects=None):
    """Rebuild a model (with fresh weights) from :func:`model_config`'s output."""
    from .. import layers as layers_module
    from ..models import Sequential
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A model config must be a dict with 'class_name' and 'config', got {config!r:.200}")
    objects = lookup_objects(custom_objects)
    class_name = config["class_name"]
    inner = config.get("config") or {}
    if class_name == "Sequential" or objects.get(class_name) is not None and isinstance(
            objects.get(class_name), type) and issubclass(objects[class_name], Sequential):
        cls = Sequential if class_name == "Sequential" else objects[class_name]
        layer_specs = inner.get("layers") if isinstance(inner, dict) else inner
        if not isinstance(layer_specs, list):
            raise ValueError(f"Sequential config must hold a list of layers, got {type(layer_specs).__name__}")
        model = cls(name=inner.get("name") if isinstance(inner, dict) else None)
        shape = inner.get("build_input_shape") if isinstance(inner, dict) else None
        starts_with_input = bool(layer_specs) and layer_specs[0].get("class_name") == "InputLayer"
        if shape is not None and not starts_with_input:
            model.add(layers_module.Input(shape=tuple(shape[1:]), dtype=inner.get("input_dtype")))
        for spec in layer_specs:
            if spec.get("class_name") == "InputLayer":   # Keras 2.4+ writes the input as a layer
                cfg = spec.get("config", {})
                batch_shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
                model.add(layers_module.Input(batch_shape=tuple(batch_shape), dtype=cfg.get("dtype")))
                continue
            model.add(layers_module.deserialize(spec, custom_objects=objects))
        return model
    if class_name in ("Functional", "Model"):
        try:
            from ..engine.functional import Functional
        except ImportError:
            raise ValueError("This file holds a functional model, which this version of kerosene cannot "
                             "rebuild from config") from None
        cls = Functional
    else:
        cls = objects.get(class_name)
    if cls is None or not hasattr(cls, "from_config"):
        raise ValueError(f"Unknown model class {class_name!r} in the config: only Sequential, Functional, "
                         "classes registered with @register_serializable and custom_objects can be loaded")
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(inner, custom_objects=objects)
    return cls.from_config(inner)
