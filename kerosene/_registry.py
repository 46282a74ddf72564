"""One name -> object table for every ``get``/``serialize``/``deserialize`` in kerosene.

Losses, metrics, optimizers, activations, initializers, regularizers, constraints and
layers each keep one :class:`Registry`; the lookup rule (``custom_objects`` first, then
the exact name, then the lower-case name where the table allows it) and the Keras
``{"class_name": ..., "config": ...}`` form are written here once. Each module keeps
its own error wording, so messages still say what that argument accepts.

    >>> from kerosene._registry import Registry
    >>> table = Registry({'relu': max}, fold_case=True)
    >>> table.find('ReLU') is max, table.find('nope')
    (True, None)

It imports only the custom-object scopes (``_custom_objects``), which every lookup consults.
"""
from __future__ import annotations

from ._custom_objects import get_custom_objects

__all__ = ["Registry", "serialize_object", "serialize_checked", "split_config", "serialize_keras2"]


class Registry:
    """Objects by name. ``fold_case=True`` also finds ``'Adam'`` under ``'adam'``.

    Example::

        OPTIMIZERS = Registry({'sgd': SGD, 'adam': Adam}, fold_case=True)
        OPTIMIZERS.find('Adam')           # Adam
        OPTIMIZERS.find('x', {'x': Foo})  # Foo: custom_objects come first
    """

    def __init__(self, entries=None, fold_case=False):
        self._entries = dict(entries or {})
        self.fold_case = fold_case

    def register(self, name, obj):
        self._entries[name] = obj
        return obj

    def update(self, entries):
        self._entries.update(entries)

    def find(self, name, custom_objects=None):
        """The object called ``name``: from ``custom_objects``, then the custom objects in scope
        (``custom_object_scope``, ``get_custom_objects()``), then this registry; None when there is none."""
        if not isinstance(name, str):
            return None
        for table in (custom_objects, get_custom_objects()):
            if table and name in table:
                return table[name]
        obj = self._entries.get(name)
        if obj is None and self.fold_case:
            obj = self._entries.get(name.lower())
        return obj

    def names(self):
        """The registered names, sorted."""
        return sorted(self._entries)

    def items(self):
        return self._entries.items()

    def values(self):
        return self._entries.values()

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def __contains__(self, name):
        return self.find(name) is not None

    def __getitem__(self, name):
        return self._entries[name]

    def resolve(self, identifier, kind, arg_name, accepted, custom_objects=None):
        """``None``, a registered name (or one of ``custom_objects``), a Keras config dict or a
        callable, as ``get``/``deserialize`` take them for regularizers and constraints; a clear
        error naming ``arg_name`` otherwise."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            cls = self.find(identifier.get("class_name"), custom_objects)
            if cls is not None:
                return cls(**(identifier.get("config") or {}))
            identifier = identifier.get("class_name")
        if isinstance(identifier, str):
            custom = {**get_custom_objects(), **(custom_objects or {})}.get(identifier)
            if custom is not None:
                return custom() if isinstance(custom, type) else custom
            if identifier in self:
                return self[identifier]()
            raise ValueError(f"Unknown {kind} {identifier!r} (argument '{arg_name}'). Accepted names: {accepted}")
        if callable(identifier):
            return identifier
        raise TypeError(f"Argument '{arg_name}' must be None, a name or a callable, got {identifier!r}.")


def serialize_object(obj):
    """Keras's ``{"class_name": ..., "config": obj.get_config()}``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def serialize_checked(obj, is_kind, what):
    """:func:`serialize_object` of ``obj`` once ``is_kind(obj)`` holds; a TypeError naming ``what`` otherwise."""
    if not is_kind(obj):
        raise TypeError(f"serialize() expects {what}, got {type(obj).__name__}.")
    return serialize_object(obj)


def serialize_keras2(obj, is_kind, what):
    """Keras 2's serialize forms: a kind of ``is_kind`` (or any object with ``get_config``)
    as ``{"class_name", "config"}``, a function (or anything named) as its name."""
    if is_kind(obj) or (not isinstance(obj, type) and hasattr(obj, "get_config")):
        return serialize_object(obj)
    if hasattr(obj, "__name__"):
        return obj.__name__
    raise TypeError(f"serialize() expects {what}, an object with get_config() or a named function, got "
                    f"{type(obj).__name__}.")


def split_config(config):
    """``(class_name, inner config dict)`` of a Keras ``{"class_name", "config"}`` dict; a ValueError otherwise."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"deserialize() expects a dict with 'class_name' and 'config', got {config!r}.")
    return config["class_name"], dict(config.get("config") or {})

