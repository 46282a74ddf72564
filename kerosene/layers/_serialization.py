"""Layer (de)serialisation by class name, resolving only known classes.

``kerosene.layers`` fills :data:`LAYER_CLASSES` with every layer class it exports
(aliases such as ``Convolution2D`` included) once its modules are imported.

    >>> from kerosene import layers
    >>> layers.get_layer_class('Dense') is layers.Dense
    True
"""

import inspect

from .._registry import Registry, serialize_object

LAYER_CLASSES = Registry()


def get_layer_class(class_name, custom_objects=None):
    """The layer class called ``class_name`` (kerosene's or in ``custom_objects``)."""
    cls = LAYER_CLASSES.find(class_name, custom_objects)
    if cls is not None:
        return cls
    raise ValueError(f"Unknown layer class {class_name!r}. Known layer classes: "
                     f"{', '.join(LAYER_CLASSES.names())}; pass others in custom_objects.")


def serialize(layer):
    """``{"class_name": "Dense", "config": layer.get_config()}``."""
    return serialize_object(layer)


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
