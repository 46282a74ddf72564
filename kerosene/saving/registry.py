"""Which classes a saved config may name: kerosene's own, registered ones, ``custom_objects``.

Loading a config never imports a module or evaluates code named by the file: a class
name is looked up in these tables and nowhere else.

Example::

    from kerosene.saving import register_serializable

    @register_serializable(package='MyProject')
    class Scale(kerosene.layers.Layer):
        ...

    # saved as class_name "MyProject>Scale"; load_model finds it without custom_objects
"""
from __future__ import annotations

import inspect

from .._custom_objects import CustomObjectScope, custom_object_scope, get_custom_objects
from .._registry import Registry
from .sharded_weights import unsharded_class

__all__ = ["MODEL_CLASSES", "register_serializable", "registered_name", "get_registered_objects", "lookup_objects",
           "get_custom_objects", "CustomObjectScope", "custom_object_scope"]

# Model classes a config may name; kerosene.models fills it (saving sits below models).
MODEL_CLASSES = Registry()
_REGISTERED = {}        # "package>name" -> class or function
_NAMES_BY_OBJECT = {}   # class or function -> "package>name"


def register_serializable(package="Custom", name=None):
    """Decorator: make a class (or function) loadable by name from saved configs.

    Example::

        @register_serializable(package='MyProject')
        class Scale(kerosene.layers.Layer):
            def __init__(self, factor=2.0, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor

            def call(self, x):
                return x * self.factor

            def get_config(self):
                return {**super().get_config(), 'factor': self.factor}
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: `package` must be a non-empty str without '>', got {package!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"register_serializable: `name` must be a non-empty str or None, got {name!r}")

    def decorator(obj):
        if not callable(obj):
            raise TypeError(f"register_serializable decorates a class or function, got {type(obj).__name__}")
        key = f"{package}>{name or obj.__name__}"
        existing = _REGISTERED.get(key)
        if existing is not None and existing is not obj and getattr(existing, "__qualname__", None) != getattr(
                obj, "__qualname__", None):
            raise ValueError(f"register_serializable: {key!r} is already registered to {existing!r}")
        _REGISTERED[key] = obj
        _NAMES_BY_OBJECT[obj] = key
        return obj

    return decorator


def registered_name(obj):
    """The name ``obj`` is saved under: ``"package>name"`` when registered, else its class name."""
    if isinstance(obj, type) or inspect.isfunction(obj):
        return _NAMES_BY_OBJECT.get(obj, obj.__name__)
    cls = unsharded_class(type(obj))
    return _NAMES_BY_OBJECT.get(cls, cls.__name__)


def get_registered_objects():
    """A copy of the table of registered names."""
    return dict(_REGISTERED)


def lookup_objects(custom_objects=None):
    """Registered objects (by full and short name) overlaid with ``custom_objects``."""
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"`custom_objects` must be a dict of name -> class or function, got "
                        f"{type(custom_objects).__name__}")
    table = {}
    for key, obj in _REGISTERED.items():
        table[key] = obj
        table.setdefault(key.split(">", 1)[1], obj)
    table.update(get_custom_objects())
    table.update(custom_objects or {})
    return table
