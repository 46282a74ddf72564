"""A layer's weights for saving: Keras's view when it covers the whole layer, else the state dict.

A kerosene layer's ``keras_weights()`` lists the weights it declared; a custom layer
that also assigns a raw ``nn.Parameter`` would lose it there. Saving must never drop
a weight silently, so such a layer (like a raw torch module) is saved as its state
dict, in order.

Example::

    arrays, names = layer_arrays(layer)
    set_layer_arrays(layer, arrays)
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["layer_arrays", "set_layer_arrays"]


def _state_numel(layer):
    return sum(t.numel() for t in layer.state_dict().values())


def _uses_keras_view(layer):
    if not (hasattr(layer, "keras_weights") and hasattr(layer, "set_keras_weights")):
        return False
    return sum(int(np.size(w)) for w in layer.keras_weights()) == _state_numel(layer)


def layer_arrays(layer):
    """``(arrays, weight names)`` as saved for ``layer``."""
    if _uses_keras_view(layer):
        arrays = [np.asarray(w) for w in layer.keras_weights()]
        names = list(layer.keras_weight_names()) if hasattr(layer, "keras_weight_names") else []
        if len(names) != len(arrays):
            names = [f"weight_{i}:0" for i in range(len(arrays))]
        return arrays, names
    state = layer.state_dict()
    arrays = [t.detach().cpu().numpy().copy() for t in state.values()]
    names = [k.replace("/", "_") + ":0" for k in state.keys()]
    return arrays, names


def set_layer_arrays(layer, arrays):
    """The inverse of :func:`layer_arrays` (shapes are checked by the caller first)."""
    if _uses_keras_view(layer):
        layer.set_keras_weights([np.asarray(a) for a in arrays])
        return
    state = layer.state_dict()
    with torch.no_grad():
        for tensor, value in zip(state.values(), arrays):
            tensor.copy_(torch.as_tensor(np.asarray(value), dtype=tensor.dtype))
