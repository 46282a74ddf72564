"""A layer's weights for saving: Keras's view when it covers the whole layer, else the state dict.

A kerosene layer's ``keras_weights()`` lists the weights it declared; a custom layer
that also assigns a raw ``nn.Parameter`` would lose it there. Saving must never drop
a weight silently, so such a layer (like a raw torch module) is saved as its state
dict, in order. A model used as a layer is saved as Keras 2 does: its layers'
trainable weights in order, then their non-trainable ones, each in Keras's view.

Example::

    arrays, names = layer_arrays(layer)
    set_layer_arrays(layer, arrays)
"""
from __future__ import annotations

import numpy as np
import torch

from .._naming import layer_name
from .registry import MODEL_CLASSES

__all__ = ["layer_arrays", "set_layer_arrays", "sublayers", "weight_counts"]


def _state_numel(layer):
    return sum(t.numel() for t in layer.state_dict().values())


def _uses_keras_view(layer):
    if not (hasattr(layer, "keras_weights") and hasattr(layer, "set_keras_weights")):
        return False
    return sum(int(np.size(w)) for w in layer.keras_weights()) == _state_numel(layer)


def sublayers(layer):
    """The layers of a kerosene model used as a layer, else None."""
    model_classes = tuple(MODEL_CLASSES.values())  # filled by kerosene.models, a floor above
    return list(layer.layers) if model_classes and isinstance(layer, model_classes) else None


def weight_counts(layer):
    """``(trainable, non-trainable)`` numbers of arrays :func:`layer_arrays` gives, in that order."""
    subs = sublayers(layer)
    if subs is not None:
        counts = [weight_counts(sub) for sub in subs]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)
    total = len(layer_arrays(layer)[0])
    if not _uses_keras_view(layer):
        return total, 0
    trainable = len(layer.trainable_weights)
    return trainable, total - trainable


def _nested_arrays(model):
    trainable, frozen = [], []
    for sub in model.layers:
        arrays, names = layer_arrays(sub)
        names = [f"{layer_name(sub)}/{n}" for n in names]
        k = weight_counts(sub)[0]
        trainable += list(zip(arrays[:k], names[:k]))
        frozen += list(zip(arrays[k:], names[k:]))
    items = trainable + frozen
    return [a for a, _ in items], [n for _, n in items]


def layer_arrays(layer):
    """``(arrays, weight names)`` as saved for ``layer``."""
    if sublayers(layer) is not None:
        return _nested_arrays(layer)
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
    subs = sublayers(layer)
    if subs is not None:
        counts = [weight_counts(sub) for sub in subs]
        front, back = list(arrays[:sum(c[0] for c in counts)]), list(arrays[sum(c[0] for c in counts):])
        for sub, (trainable, frozen) in zip(subs, counts):
            set_layer_arrays(sub, front[:trainable] + back[:frozen])
            front, back = front[trainable:], back[frozen:]
        return
    if _uses_keras_view(layer):
        layer.set_keras_weights([np.asarray(a) for a in arrays])
        return
    state = layer.state_dict()
    with torch.no_grad():
        for tensor, value in zip(state.values(), arrays):
            tensor.copy_(torch.as_tensor(np.asarray(value), dtype=tensor.dtype))
