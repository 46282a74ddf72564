"""A layer's weights as Keras lists them: numpy arrays in Keras's orientation.

A kerosene layer gives ``keras_weights()`` (Dense kernel ``(in, out)``); a raw torch
module gives its state dict in order. ``get_weights`` and saving share one view
(:mod:`kerosene.saving.layer_weights`), so what a model returns is what its files hold.

    >>> import torch
    >>> from kerosene.layers import Dense
    >>> dense = Dense(2)
    >>> _ = dense(torch.zeros(1, 3))
    >>> [w.shape for w in module_weights(dense)]
    [(3, 2), (2,)]
"""
from __future__ import annotations

import numpy as np
from torch import nn

from .._naming import layer_name
from ..saving.layer_weights import layer_arrays, set_layer_arrays

__all__ = ["module_weights", "set_module_weights", "expand_containers", "is_kerosene_layer"]


def is_kerosene_layer(module):
    return hasattr(module, "keras_weights") and hasattr(module, "set_keras_weights")


def module_weights(module):
    """A layer's weights as numpy arrays, the same view saving uses (:mod:`kerosene.saving.layer_weights`).

    Keras's orientation for a kerosene layer whose declared weights cover it; a raw
    torch module, or a layer that also holds undeclared parameters, gives its state
    dict in order; a model used as a layer gives its layers' trainable weights, then
    their non-trainable ones, as Keras 2 does.
    """
    return layer_arrays(module)[0]


def set_module_weights(module, weights):
    """The inverse of :func:`module_weights`; every shape is checked before any weight changes."""
    arrays, names = layer_arrays(module)
    if len(arrays) != len(weights):
        raise ValueError(f"Layer {layer_name(module)!r} has {len(arrays)} weight arrays, got {len(weights)}")
    for name, have, value in zip(names, arrays, weights):
        if tuple(np.shape(have)) != tuple(np.shape(value)):
            raise ValueError(
                f"Layer {layer_name(module)!r} weight {name!r} has shape {tuple(np.shape(have))}, "
                f"got an array of shape {tuple(np.shape(value))}")
    set_layer_arrays(module, list(weights))


def expand_containers(modules, model_type):
    out = []
    for module in modules:
        if isinstance(module, (nn.ModuleList, nn.Sequential)) and not is_kerosene_layer(module) \
                and not isinstance(module, model_type):
            out.extend(expand_containers(module.children(), model_type))
        elif isinstance(module, nn.ModuleDict):
            out.extend(expand_containers(module.values(), model_type))
        else:
            out.append(module)
    return out
