"""Keras 1 support as in Keras 2.2.4: old argument names (``interfaces``) and the
layers Keras 2 kept only for old scripts (``kerosene.legacy.layers``).

``kerosene.legacy.layers`` is not imported here: it sits on the layers floor,
while ``interfaces`` sits below every layer (``Layer`` uses it).
"""

from . import interfaces

__all__ = ["interfaces"]
