"""``save_weights`` / ``load_weights``: HDF5 in Keras's layout, or a torch state dict.

Example::

    model.save_weights('w.h5')      # Keras 2 layout: Keras 3 loads it with load_weights('w.h5')
    model.save_weights('w.weights.h5')   # Keras 3 layout (Keras 3's own convention)
    model.load_weights('w.h5')      # also reads files Keras 2 or 3 wrote
    model.save_weights('w.pt')      # torch state dict
    model.save_weights('w.dcp')     # a sharded torch.distributed.checkpoint directory (every rank calls it)
"""
from __future__ import annotations

import os

from .dcp_weights import load_dcp_weights, save_dcp_weights
from .formats import check_overwrite, weights_format
from .hdf5_weights import is_keras3_weights_file, match_weights, read_saved_layers, write_weights_group
from .hdf5_files import apply_plan, open_hdf5, reading_errors, require_built, write_hdf5
from .integrity import verify_digest, write_digest
from .layer_weights import refuse_sharded, writing_file_of
from .keras3_weights_io import load_keras3_weights, save_keras3_weights
from .torch_format import load_state_dict_file, save_state_dict

__all__ = ["save_weights", "load_weights"]


def save_weights(model, filepath, overwrite=True, save_format=None, **kwargs):
    """Write ``model``'s weights to ``filepath`` atomically (HDF5 or torch, by suffix)."""
    if kwargs:
        raise TypeError(f"save_weights() got unexpected keyword arguments {sorted(kwargs)}; "
                        "accepted: filepath, overwrite, save_format")
    fmt = weights_format(filepath, save_format)
    path = os.fspath(filepath)
    check_overwrite(path, overwrite)
    require_built(model, "save its weights")
    if fmt == "dcp":
        save_dcp_weights(model, path)
        return
    if fmt != "h5":
        refuse_sharded(model, "save_weights", path)
    if fmt == "torch":
        save_state_dict(model, path)
        return
    if fmt == "keras3":
        save_keras3_weights(model, path)
        return
    def write(f):
        write_weights_group(f, model)
        write_digest(f)
    with writing_file_of(model) as writes:
        if writes:
            write_hdf5(path, write, "saving the HDF5 weights file")


def _keras3_layout(path):
    with reading_errors(path), open_hdf5(path) as f:
        return is_keras3_weights_file(f)


def load_weights(model, filepath, by_name=False, skip_mismatch=False, **kwargs):
    """Load weights written by :func:`save_weights` or by Keras; the model is unchanged on failure.

    ``reshape=True`` (Keras 2) lets a convolution kernel take saved arrays of another shape
    but the same size (e.g. a Dense kernel ``(2, 3)`` into a 1x1 ``Conv2D`` kernel).
    """
    kwargs.pop("options", None)
    reshape = kwargs.pop("reshape", False)
    if kwargs:
        raise TypeError(f"load_weights() got unexpected keyword arguments {sorted(kwargs)}; "
                        "accepted: filepath, by_name, skip_mismatch, reshape")
    if not isinstance(reshape, bool):
        raise TypeError(f"`reshape` must be True or False, got {reshape!r}")
    if not isinstance(by_name, bool):
        raise TypeError(f"`by_name` must be True or False, got {by_name!r}")
    if not isinstance(skip_mismatch, bool):
        raise TypeError(f"`skip_mismatch` must be True or False, got {skip_mismatch!r}")
    fmt = weights_format(filepath, reading=True)
    path = os.fspath(filepath)
    if fmt == "dcp":
        require_built(model, "load weights")
        load_dcp_weights(model, path)
        return
    if fmt != "h5":
        refuse_sharded(model, "load_weights", path)
    if fmt == "torch":
        require_built(model, "load weights")
        load_state_dict_file(model, path, skip_mismatch=skip_mismatch)
        return
    if fmt == "keras" or not by_name and _keras3_layout(path):
        load_keras3_weights(model, path, skip_mismatch=skip_mismatch)
        return
    with reading_errors(path), open_hdf5(path) as f:
        verify_digest(f, path)
        group = f["model_weights"] if "model_weights" in f and "layer_names" not in f.attrs else f
        saved = read_saved_layers(group, path)
    require_built(model, "load weights")
    plan = match_weights(model, saved, path, by_name=by_name, skip_mismatch=skip_mismatch, reshape=reshape)
    apply_plan(model, plan)
