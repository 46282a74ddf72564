"""Weights in Keras 3's variable layout (``model.weights.h5`` and ``.weights.h5`` files).

Keras 3 stores each object's own variables as ``<path>/vars/0..n`` and finds the
path by walking the model: ``layers/<class in snake case>[_N]`` for the layers in
model order (the counter runs per class name), a recurrent layer's weights under its
``cell``, a Bidirectional's under ``forward_layer``/``backward_layer``, a
TimeDistributed's under ``layer``; a subclassed model's layers under their attribute
names when those sort before ``layers``; the optimizer under ``optimizer/vars``.
This module computes those paths for a kerosene model, writes them, and reads them
back with every count and shape checked before any weight changes.

Example::

    with h5py.File('w.weights.h5', 'w') as f:
        write_keras3_weights(f, model)
    with h5py.File('w.weights.h5', 'r') as f:
        apply_plan(model, read_keras3_plan(f, model, 'w.weights.h5'))
"""
from __future__ import annotations

import numpy as np
from torch import nn

from .._naming import layer_name, to_snake_case
from .errors import file_error
from .hdf5_weights import SavedLayer, match_weights
from .keras3_config import functional_layer_order
from .layer_weights import layer_arrays
from .registry import MODEL_CLASSES

__all__ = ["keras3_layer_order", "weight_paths", "write_keras3_weights", "read_keras3_plan",
           "read_optimizer_arrays", "trainable_entries"]

_RNN_CLASSES = ("SimpleRNN", "LSTM", "GRU")


def keras3_layer_order(model):
    """The model's layers in the order Keras 3 walks them."""
    if hasattr(model, "_nodes") and hasattr(model, "_outputs"):
        return functional_layer_order(model)
    return list(model.layers)


def _container(layers, prefix, visited, out):
    counts = {}
    for layer in layers:
        base = to_snake_case(type(layer).__name__)
        n = counts.get(base, -1) + 1
        counts[base] = n
        if id(layer) in visited:
            continue
        visited.add(id(layer))
        out.append((f"{prefix}/{base}" if n == 0 else f"{prefix}/{base}_{n}", layer))


def weight_paths(model):
    """``[(path, layer)]`` for every layer of ``model``, as Keras 3 names them."""
    out, visited = [], set()
    if isinstance(model, MODEL_CLASSES["Sequential"]) or hasattr(model, "_nodes"):
        _container(keras3_layer_order(model), "layers", visited, out)
        return out
    children = dict(model.named_children())
    for attr in sorted(list(children) + ["layers"]):
        if attr == "layers":
            _container(model.layers, "layers", visited, out)
        elif isinstance(children[attr], (nn.ModuleList, nn.Sequential)) and not hasattr(children[attr], "name"):
            _container(list(children[attr]), attr, visited, out)
        elif id(children[attr]) not in visited:
            visited.add(id(children[attr]))
            out.append((attr, children[attr]))
    return out


def _var_groups(layer, path):
    """``[(group path, name, arrays)]``: where each part of ``layer``'s weights lives."""
    cls = type(layer).__name__
    name = layer_name(layer)
    if cls in _RNN_CLASSES:
        return [(f"{path}/vars", name, []), (f"{path}/cell/vars", f"{to_snake_case(cls)}_cell", layer_arrays(layer)[0])]
    if cls == "Bidirectional":
        return ([(f"{path}/vars", name, [])] + _var_groups(layer.forward_layer, f"{path}/forward_layer")
                + _var_groups(layer.backward_layer, f"{path}/backward_layer"))
    if cls == "TimeDistributed":
        return [(f"{path}/vars", name, [])] + _var_groups(layer.layer, f"{path}/layer")
    return [(f"{path}/vars", name, layer_arrays(layer)[0])]


def _write_vars(h5, group_path, name, arrays):
    group = h5.require_group(group_path)
    group.attrs["name"] = name
    for i, array in enumerate(arrays):
        array = np.asarray(array)
        checksum = array.ndim > 0 and array.size > 0
        group.create_dataset(str(i), data=array, fletcher32=checksum, chunks=True if checksum else None)


def write_keras3_weights(h5, model, optimizer_arrays=None):
    """Write ``model``'s weights (and optimizer arrays, when given) into the open file ``h5``."""
    h5.require_group("layers")
    for path, layer in weight_paths(model):
        for group_path, name, arrays in _var_groups(layer, path):
            _write_vars(h5, group_path, name, arrays)
    if optimizer_arrays is not None:
        optimizer = model._compile_state.optimizer
        _write_vars(h5, "optimizer/vars", getattr(optimizer, "name", "optimizer"), optimizer_arrays)
    _write_vars(h5, "vars", layer_name(model), [])


def _read_vars(h5, group_path, path):
    try:
        if group_path not in h5:
            return None
        group = h5[group_path]
        keys = sorted((k for k in group.keys() if k.isdigit()), key=int)
        if [int(k) for k in keys] != list(range(len(keys))):
            raise file_error(path, f"the variables in {group_path!r} are not numbered 0..n ({keys})")
        return [np.asarray(group[k][()]) for k in keys]
    except (OSError, KeyError, RuntimeError, TypeError, AttributeError) as err:
        raise file_error(path, f"the weights in {group_path!r} are damaged and cannot be read", err) from None


def _all_var_groups(h5):
    found = []

    def visit(name, obj):
        if name.endswith("vars") and name.rsplit("/", 1)[-1] == "vars" and hasattr(obj, "keys") and len(obj):
            found.append(name)

    h5.visititems(visit)
    return found


def read_keras3_plan(h5, model, path, skip_mismatch=False):
    """``[(layer, arrays)]`` to apply: every layer with weights must find its arrays in ``h5``."""
    by_layer, used = {}, set()
    for layer_path, layer in weight_paths(model):
        arrays = []
        for group_path, _, expected in _var_groups(layer, layer_path):
            found = _read_vars(h5, group_path, path)
            if found is None and expected:
                raise file_error(path, f"it has no weights for layer {layer_name(layer)!r} (expected the group "
                                       f"{group_path!r}); it was saved from a different model")
            if found:
                used.add(group_path)
            arrays.extend(found or [])
        by_layer[id(layer)] = SavedLayer(layer_name(layer), [f"{layer_path}/{i}" for i in range(len(arrays))],
                                         arrays)
    extra = [g for g in _all_var_groups(h5) if g not in used and not g.startswith("optimizer/")]
    if extra:
        raise file_error(path, f"it holds weights the model has no place for ({', '.join(extra[:4])}); it was "
                               "saved from a different model")
    saved = [by_layer[id(layer)] for layer in model.layers if id(layer) in by_layer]
    return match_weights(model, saved, path, skip_mismatch=skip_mismatch)


def read_optimizer_arrays(h5, path):
    """The optimizer's arrays, or None when the file holds none."""
    return _read_vars(h5, "optimizer/vars", path)


def trainable_entries(model):
    """``(param, to_keras, from_keras)`` of every weight in Keras 3's variable order."""
    identity = lambda t: t   # noqa: E731
    out = []
    for layer in keras3_layer_order(model):
        if hasattr(layer, "_entries_split"):
            for _, _, spec, tensor in layer._entries_split()[0]:
                if spec is None:
                    out.append((tensor, identity, identity))
                else:
                    out.append((tensor, spec.to_keras, spec.from_keras))
        else:
            out.extend((p, identity, identity) for p in layer.parameters())
    return out
