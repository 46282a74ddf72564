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

import contextlib

import numpy as np
import torch

from .._naming import layer_name
from .registry import MODEL_CLASSES
from .sharded_weights import full_parameters, is_sharded, rank_zero_writes

__all__ = ["layer_arrays", "set_layer_arrays", "sublayers", "weight_counts", "gathered_arrays",
           "writing_file_of", "refuse_sharded"]

# id(layer) -> layer_arrays(layer), while rank 0 writes a sharded model (see gathered_arrays)
_GATHERED = None


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
    with full_parameters(layer):
        total = len(_own_arrays(layer)[0])
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
    """``(arrays, weight names)`` as saved for ``layer`` (a sharded layer's full values, gathered)."""
    if _GATHERED is not None and id(layer) in _GATHERED:
        return _GATHERED[id(layer)]
    if sublayers(layer) is not None:
        return _nested_arrays(layer)
    with full_parameters(layer):
        return _own_arrays(layer)


def _own_arrays(layer):
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
    with full_parameters(layer, write_back=True):
        _set_own_arrays(layer, arrays)


def _set_own_arrays(layer, arrays):
    if _uses_keras_view(layer):
        layer.set_keras_weights([np.asarray(a) for a in arrays])
        return
    state = layer.state_dict()
    with torch.no_grad():
        for tensor, value in zip(state.values(), arrays):
            tensor.copy_(torch.as_tensor(np.asarray(value), dtype=tensor.dtype))


def _with_sublayers(layers):
    for layer in layers:
        yield layer
        yield from _with_sublayers(sublayers(layer) or [])


@contextlib.contextmanager
def gathered_arrays(model, keep):
    """Every layer's arrays gathered first, in the same order on every rank; kept where ``keep``.

    A sharded model's file is written by rank 0 alone, but each gather is a collective:
    gathering up front lets the other ranks take part and drop each layer's arrays at
    once, while rank 0's writer reads them back from here in whatever order it needs.
    """
    global _GATHERED
    cache = {}
    for layer in _with_sublayers(model.layers):
        arrays = layer_arrays(layer)
        if keep:
            cache[id(layer)] = arrays
    _GATHERED = cache if keep else None
    try:
        yield
    finally:
        _GATHERED = None


@contextlib.contextmanager
def writing_file_of(model):
    """Yields whether this process writes ``model``'s file: always, unless the model is sharded.

    A sharded (FSDP) model's file is written by rank 0 alone from arrays every rank
    helped gather (:func:`gathered_arrays`); the ranks agree on the outcome at the end.
    """
    if not is_sharded(model):
        yield True
        return
    with rank_zero_writes(model) as writes, gathered_arrays(model, keep=writes):
        yield writes


def refuse_sharded(model, what, path):
    """A clear error for a file kind that is not written or read from FSDP shards yet."""
    if is_sharded(model):
        raise ValueError(
            f"{what} {path!r}: a model sharded with FSDP reads and writes Keras's HDF5 layout "
            "('.h5'/'.hdf5') only for now; use such a path")
