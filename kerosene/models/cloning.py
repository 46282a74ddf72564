"""Keras 2's ``clone_model``: a model with the same architecture and fresh weights.

    twin = clone_model(model)
    on_new_input = clone_model(model, input_tensors=Input(shape=(3,)))
"""
from __future__ import annotations

from ..layers import InputLayer
from ..saving import model_config, model_from_config
from .functional import Functional
from .sequential import Sequential

__all__ = ["clone_model"]


def clone_model(model, input_tensors=None):
    """A new model with ``model``'s architecture and freshly initialised weights; with
    ``input_tensors`` (an ``Input()`` or a list of them) the clone is built on those."""
    clone = model_from_config(model_config(model))
    if input_tensors is None:
        return clone
    tensors = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
    if isinstance(clone, Sequential):
        if len(tensors) != 1 or not isinstance(tensors[0], InputLayer):
            raise ValueError("clone_model: a Sequential model is cloned onto one Input(); `input_tensors` got "
                             f"{input_tensors!r:.120}")
        return Sequential([tensors[0]] + clone.layers, name=clone.name)
    outputs = clone(tensors if len(tensors) > 1 else tensors[0])
    return Functional(tensors if len(tensors) > 1 else tensors[0], outputs, name=clone.name)
