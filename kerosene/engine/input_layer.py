"""Keras 2's ``keras.engine.input_layer``: ``Input`` and ``InputLayer`` under their old import path.

    from kerosene.engine.input_layer import Input
    x = Input(shape=(8,))
"""
from ..layers import Input, InputLayer

__all__ = ["Input", "InputLayer"]
