"""Layer (de)serialisation by class name, resolving only known classes."""

import inspect

from .base import Layer


def _registry():
    from kerosene import layers
    out = {}
    for name in dir(layers):
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, Layer):
            out[name] = obj
    return out


def get_layer_class(class_name, custom_objects=None):
    """The layer class called ``class_name`` (kerosene's or in ``custom_objects``)."""
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    classes = _registry()
    if class_name in classes:
        return classes[class_name]
    raise ValueError(f"Unknown layer class {class_name!r}. Known layer classes: "
                     f"{', '.join(sorted(classes))}; pass others in custom_objects.")


def serialize(layer):
    """``{"class_name": "Dense", "config": layer.get_config()}``."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """Rebuild a layer from ``serialize``'s output."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize a layer from {config!r}: expected "
                         "{'class_name': ..., 'config': ...}.")
    cls = get_layer_class(config["class_name"], custom_objects)
    cfg = dict(config.get("config") or {})
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(cfg, custom_objects=custom_objects)
    return cls.from_config(cfg)
