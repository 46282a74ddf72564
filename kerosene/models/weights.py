"""A layer's weights as Keras lists them: numpy arrays in Keras's orientation.

A kerosene layer gives ``keras_weights()`` (Dense kernel ``(in, out)``); a raw torch
module gives its state dict in order.

    >>> import torch
    >>> from kerosene.layers import Dense
    >>> dense = Dense(2)
    >>> _ = dense(torch.zeros(1, 3))
    >>> [w.shape for w in module_weights(dense)]
    [(3, 2), (2,)]
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._naming import layer_name

__all__ = ["module_weights", "set_module_weights", "expand_containers", "is_kerosene_layer"]


def is_kerosene_layer(module):
    return hasattr(module, "keras_weights") and hasattr(module, "set_keras_weights")


def module_weights(module):
    """A layer's weights as numpy arrays in Keras's orientation (raw modules: state-dict order)."""
    if is_kerosene_layer(module):
        return [np.asarray(w) for w in module.keras_weights()]
    return [t.detach().cpu().numpy().copy() for t in module.state_dict().values()]


def set_module_weights(module, weights):
    if is_kerosene_layer(module):
        module.set_keras_weights(weights)
        return
    state = module.state_dict()
    for (key, tensor), value in zip(state.items(), weights):
        if tuple(tensor.shape) != tuple(np.shape(value)):
            raise ValueError(
                f"Layer {layer_name(module)!r} weight {key!r} has shape {tuple(tensor.shape)}, "
                f"got an array of shape {tuple(np.shape(value))}")
    with torch.no_grad():
        for tensor, value in zip(state.values(), weights):
            tensor.copy_(torch.as_tensor(np.asarray(value), dtype=tensor.dtype))


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
