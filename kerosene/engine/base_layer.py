"""Keras 2's ``keras.engine.base_layer``: ``Layer`` and ``InputSpec`` under their old import path.

    from kerosene.engine.base_layer import Layer, InputSpec
"""
from ..layers import InputSpec, Layer
from ..symbolic import Node

__all__ = ["Layer", "InputSpec", "Node"]
