"""Keras 2's global table of custom objects, at the bottom of the package so every
``get``/``deserialize`` (losses, metrics, layers, saving) can consult it.

    with CustomObjectScope({'Scale': Scale}):
        model = load_model('m.h5')     # finds Scale
    get_custom_objects()['my_loss'] = my_loss

This module imports nothing of kerosene.
"""
from __future__ import annotations

__all__ = ["get_custom_objects", "CustomObjectScope", "custom_object_scope"]

_CUSTOM_OBJECTS = {}    # short name -> class or function


def get_custom_objects():
    """The global table of custom objects (Keras 2): names added here resolve in every load.

    Example::

        get_custom_objects()['Scale'] = Scale
        model = load_model('m.h5')   # finds Scale
    """
    return _CUSTOM_OBJECTS


class CustomObjectScope:
    """Within ``with CustomObjectScope({'Scale': Scale}):``, loads resolve those names too.

    Example::

        with CustomObjectScope({'Scale': Scale}):
            model = load_model('m.h5')

    On exit the global table is back to what it was, entries the block added included.
    """

    def __init__(self, *scopes):
        for scope in scopes:
            if not isinstance(scope, dict):
                raise TypeError(f"CustomObjectScope: each argument must be a dict of name -> "
                                f"class or function, got {type(scope).__name__}")
        self.scopes = scopes
        self._backup = None

    def __enter__(self):
        self._backup = dict(_CUSTOM_OBJECTS)
        for scope in self.scopes:
            _CUSTOM_OBJECTS.update(scope)
        return self

    def __exit__(self, *exc):
        _CUSTOM_OBJECTS.clear()
        _CUSTOM_OBJECTS.update(self._backup)
        return False


def custom_object_scope(*scopes):
    """``with custom_object_scope({'Scale': Scale}):`` -- the function form of CustomObjectScope."""
    return CustomObjectScope(*scopes)
