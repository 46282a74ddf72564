"""Keras-style automatic names: one counter table and one snake_case for layers and models.

    >>> from kerosene import _naming
    >>> _naming.reset()
    >>> _naming.to_snake_case('Conv2D'), _naming.uniquify('dense'), _naming.uniquify('dense')
    ('conv2d', 'dense', 'dense_1')

``backend.clear_session()`` calls :func:`reset`, so naming starts over as in Keras.
This module imports nothing of kerosene.
"""
from __future__ import annotations

import collections
import re

__all__ = ["to_snake_case", "uniquify", "input_name", "layer_name", "reset"]

_COUNTS = collections.defaultdict(int)
_INPUT = "input"


def to_snake_case(name):
    """``'BatchNormalization'`` -> ``'batch_normalization'``, ``'Conv2D'`` -> ``'conv2d'`` (Keras's rule)."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s.lstrip("_") or "layer"


def uniquify(base):
    """``base`` the first time, then ``base_1``, ``base_2`` ... (until :func:`reset`)."""
    n = _COUNTS[base]
    _COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


def input_name():
    """Keras 2's names for unnamed inputs: ``input_1``, ``input_2`` ..."""
    _COUNTS[_INPUT] += 1
    return f"{_INPUT}_{_COUNTS[_INPUT]}"


def layer_name(module):
    """The Keras name of a layer or model; a raw torch module gets one on first ask."""
    name = getattr(module, "name", None)
    if isinstance(name, str):
        return name
    name = module.__dict__.get("_kerosene_name")
    if name is None:
        name = uniquify(to_snake_case(type(module).__name__))
        module.__dict__["_kerosene_name"] = name
    return name


def reset():
    """Restart every automatic name from zero (``dense``, ``input_1`` ...)."""
    _COUNTS.clear()
