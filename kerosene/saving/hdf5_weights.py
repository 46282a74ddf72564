"""Weights in Keras's HDF5 layouts: write Keras 2's, read Keras 2's and Keras 3's.

Keras 2 layout (also what Keras 3 writes for ``.h5`` and reads back with
``load_weights``): root attributes ``layer_names``, ``backend``, ``keras_version``;
one group per layer with attribute ``weight_names``; each weight a dataset at
``<layer group>/<weight name>``, in Keras's shape. Keras 3's ``.weights.h5`` layout
(``layers/<key>/vars/0..n``) is read too.

Example::

    with h5py.File('w.h5', 'w') as f:
        write_weights_group(f, model)
    with h5py.File('w.h5', 'r') as f:
        saved = read_saved_layers(f, 'w.h5')
"""
from __future__ import annotations


import numpy as np

from .._user_warning import warn_user
from .._naming import layer_name, to_snake_case
from .errors import file_error
from .keras2_conversion import preprocess_weights_for_loading
from .layer_weights import layer_arrays, sublayers

__all__ = ["write_weights_group", "read_saved_layers", "match_weights", "SavedLayer", "WeightsSkippedWarning",
           "is_keras2_weights_group", "is_keras3_weights_file"]

KERAS_LAYOUT_VERSION = "2.15.0"  # the Keras 2 layout this writer follows
_ATTR_LIMIT = 64000               # HDF5 attributes are capped at 64 KiB: split longer lists


class WeightsSkippedWarning(RuntimeWarning, UserWarning):
    """``load_weights(..., skip_mismatch=True)`` left a layer as it was (a UserWarning, as in
    Keras 2, and a RuntimeWarning, as kerosene warned before)."""


class SavedLayer:
    """One layer as read from a file: its name, weight names and arrays.

    Example::

        SavedLayer('dense', ['dense/kernel:0', 'dense/bias:0'], [kernel, bias], class_key='dense')
    """

    def __init__(self, name, weight_names, arrays, class_key=None):
        self.name = name
        self.weight_names = weight_names
        self.arrays = arrays
        self.class_key = class_key


# --- writing -----------------------------------------------------------------------
def _write_string_list(group, name, values):
    encoded = np.array([v.encode("utf8") for v in values], dtype=bytes) if values else np.zeros((0,), "S1")
    if encoded.nbytes <= _ATTR_LIMIT:
        group.attrs[name] = encoded
        return
    if encoded.itemsize > _ATTR_LIMIT:
        raise ValueError(f"A name of {encoded.itemsize} bytes cannot be saved in an HDF5 attribute (at most "
                         f"{_ATTR_LIMIT}); shorten it: {max(values, key=len)[:60]!r}...")
    # numpy pads every name to the longest, so split until each part fits on its own.
    chunks = int(np.ceil(encoded.nbytes / _ATTR_LIMIT))
    while any(part.nbytes > _ATTR_LIMIT for part in np.array_split(encoded, chunks)):
        chunks += 1
    for i, part in enumerate(np.array_split(encoded, chunks)):
        group.attrs[f"{name}{i}"] = part


def _read_string_list(group, name):
    if name in group.attrs:
        raw = list(group.attrs[name])
    else:
        raw, i = [], 0
        while f"{name}{i}" in group.attrs:
            raw.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in raw if not isinstance(v, float)]


def _has_string_list(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def _put_array(group, name, array):
    array = np.asarray(array)
    checksum = array.ndim > 0 and array.size > 0
    group.create_dataset(name, data=array, fletcher32=checksum, chunks=True if checksum else None)


def write_weights_group(group, model):
    """Write ``model``'s weights into ``group`` in the Keras 2 layout."""
    layers = model.layers
    names = [layer_name(layer) for layer in layers]
    for name in names:
        if "/" in name or name in (".", ""):
            raise ValueError(f"Layer name {name!r} cannot be an HDF5 group name; rename the layer")
    _write_string_list(group, "layer_names", names)
    group.attrs["backend"] = b"torch"
    group.attrs["keras_version"] = KERAS_LAYOUT_VERSION.encode("utf8")
    group.attrs["kerosene_layout"] = b"keras2"
    for layer, name in zip(layers, names):
        layer_group = group.create_group(name)
        arrays, own_names = layer_arrays(layer)
        # A nested model's weights keep their own layers' names, as Keras 2 writes them.
        weight_names = own_names if sublayers(layer) is not None else [f"{name}/{w}" for w in own_names]
        _write_string_list(layer_group, "weight_names", weight_names)
        for weight_name, array in zip(weight_names, arrays):
            _put_array(layer_group, weight_name, array)


# --- reading ------------------------------------------------------------------------
def is_keras2_weights_group(group):
    return _has_string_list(group, "layer_names")


def is_keras3_weights_file(group):
    return "layers" in group and hasattr(group["layers"], "keys") and "layer_names" not in group.attrs


def read_saved_layers(group, path):
    """The layers stored in ``group`` (either layout), in the file's order."""
    try:
        if is_keras2_weights_group(group):
            return _read_keras2(group, path)
        if is_keras3_weights_file(group):
            return _read_keras3(group, path)
    except (OSError, KeyError, RuntimeError, TypeError) as err:
        raise file_error(path, "the file is damaged: a weight could not be read", err) from None
    raise file_error(path, "this HDF5 file has no weights in a layout kerosene or Keras writes "
                           "(no 'layer_names' attribute, no 'model_weights' or 'layers' group)")


def _read_keras2(group, path):
    saved = []
    for name in _read_string_list(group, "layer_names"):
        if name not in group:
            raise file_error(path, f"layer {name!r} is listed in 'layer_names' but has no group")
        layer_group = group[name]
        weight_names = _read_string_list(layer_group, "weight_names")
        arrays = []
        for weight_name in weight_names:
            if weight_name not in layer_group:
                raise file_error(path, f"weight {weight_name!r} of layer {name!r} is missing")
            arrays.append(np.asarray(layer_group[weight_name][()]))
        saved.append(SavedLayer(name, weight_names, arrays))
    return saved


def _keras3_arrays(node):
    """A Keras 3 object's variables: its own ``vars`` then its sub-objects' (a cell, the two
    directions of a Bidirectional: forward first, as Keras orders them)."""
    arrays = []
    if "vars" in node:
        vars_group = node["vars"]
        arrays.extend(np.asarray(vars_group[k][()]) for k in sorted((k for k in vars_group.keys() if k.isdigit()),
                                                                     key=int))
    children = [k for k in node.keys() if k != "vars" and hasattr(node[k], "keys")]
    children.sort(key=lambda k: (k != "forward_layer", k))
    for key in children:
        arrays.extend(_keras3_arrays(node[key]))
    return arrays


def _read_keras3(group, path):
    saved = []
    layers = group["layers"]
    for key in layers.keys():
        node = layers[key]
        name = node["vars"].attrs.get("name", key) if "vars" in node else key
        name = name.decode("utf8") if isinstance(name, bytes) else str(name)
        arrays = _keras3_arrays(node)
        saved.append(SavedLayer(name, [f"{key}/{i}" for i in range(len(arrays))], arrays, class_key=key))
    # Keras 3 keys are "<class in snake case>[_N]" in model order within each class.
    return saved


def _class_key_sort(saved, model_layers):
    """Order Keras 3 layers as the model's layers by their class-based keys."""
    counts, order = {}, []
    by_key = {s.class_key: s for s in saved}
    for layer in model_layers:
        base = to_snake_case(type(layer).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        key = base if n == 0 else f"{base}_{n}"
        if key in by_key and layer_arrays(layer)[0]:
            order.append(by_key.pop(key))
    return order + [s for s in saved if s.class_key in by_key and s.arrays]


# --- matching a file's layers to a model's ----------------------------------------
def match_weights(model, saved, path, by_name=False, skip_mismatch=False, reshape=False):
    """Pair each model layer with saved arrays, checking every count and shape first.

    Returns ``[(layer, arrays)]`` to apply; raises :class:`SavedFileError`-style
    ``ValueError`` naming the file, layer and shapes on a mismatch unless
    ``skip_mismatch`` (then warns and leaves that layer as it is).
    """
    layers = [layer for layer in model.layers if layer_arrays(layer)[0]]
    plan = []
    if by_name:
        by = {}
        for s in saved:
            by.setdefault(s.name, s)
        pairs = [(layer, by.get(layer_name(layer))) for layer in layers]
        pairs = [(layer, s) for layer, s in pairs if s is not None]
    else:
        if saved and saved[0].class_key is not None:
            saved = _class_key_sort(saved, model.layers)
        with_weights = [s for s in saved if s.arrays]
        if len(with_weights) != len(layers):
            raise ValueError(
                f"Cannot load {str(path)!r} into model {getattr(model, 'name', '?')!r}: you are trying to load a "
                f"weight file holding {len(with_weights)} layers into a model with {len(layers)} layers with "
                f"weights (file: {', '.join(s.name for s in with_weights) or 'none'}; model: "
                f"{', '.join(layer_name(l) for l in layers) or 'none'}). "
                "Use by_name=True to load the layers whose names match.")
        pairs = list(zip(layers, with_weights))
    for layer, s in pairs:
        current = layer_arrays(layer)[0]
        problem = None
        if len(current) == len(s.arrays):
            try:  # a file of CuDNNLSTM/CuDNNGRU weights loads into LSTM/GRU (and back), as in Keras 2
                s = SavedLayer(s.name, s.weight_names, preprocess_weights_for_loading(
                    layer, s.arrays, reshape=reshape), class_key=s.class_key)
            except ValueError as err:
                problem = str(err)
        if problem is None and len(current) != len(s.arrays):
            problem = f"the layer expects {len(current)} weights, but the saved weights have {len(s.arrays)} elements"
        elif problem is None:
            for have, new, weight_name in zip(current, s.arrays, s.weight_names):
                if tuple(have.shape) != tuple(new.shape):
                    problem = (f"weight {weight_name!r} has shape {tuple(have.shape)} in the model, but the "
                               f"saved weight has shape {tuple(new.shape)}")
                    break
        if problem is not None:
            message = (f"Cannot load layer {layer_name(layer)!r} from {str(path)!r} (saved as {s.name!r}): "
                       f"{problem}")
            if skip_mismatch:
                warn_user(f"Skipping loading of weights for layer {layer_name(layer)!r} due to mismatch in weights: "
                          f"{message}; skipped (skip_mismatch=True)", WeightsSkippedWarning)
                continue
            raise ValueError(message + ". Pass skip_mismatch=True to skip such layers.")
        plan.append((layer, s.arrays))
    return plan

