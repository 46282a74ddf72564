"""Opening weight files and setting what they hold: the steps every weights format shares.

Reading failures become a :class:`~kerosene.errors.SavedFileError` naming the file, and
weights are set all or nothing.

    with reading_errors(path), open_hdf5(path) as f:
        plan = match(f)
    apply_plan(model, plan)
"""
from __future__ import annotations

import contextlib
import os

import h5py
import numpy as np

from .errors import SavedFileError, file_error
from .layer_weights import layer_arrays, set_layer_arrays

__all__ = ["require_built", "open_hdf5", "reading_errors", "apply_plan"]


def require_built(model, action):
    if not getattr(model, "built", True):
        raise ValueError(
            f"Model {getattr(model, 'name', '?')!r} has no weights yet, so it cannot {action}: give the first "
            "layer an input_shape (or start with an Input) or run predict/fit on some data first")


def open_hdf5(path):
    """Open an HDF5 file for reading, turning every failure into a clear error naming it."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    if os.path.isdir(path):
        raise file_error(path, "it is a folder, not a file")
    try:
        if not h5py.is_hdf5(path):
            raise file_error(path, "not an HDF5 file (it may be truncated, or another format)")
        return h5py.File(path, "r")
    except OSError as err:
        raise file_error(path, "the HDF5 file is truncated or corrupted", err) from None


@contextlib.contextmanager
def reading_errors(path):
    """Any failure while reading a damaged HDF5 file becomes a :class:`SavedFileError` naming it."""
    try:
        yield
    except (SavedFileError, FileNotFoundError):
        raise
    except (OSError, KeyError, RuntimeError, TypeError, ValueError, UnicodeDecodeError, IndexError) as err:
        raise file_error(path, "the file is damaged and cannot be read", err) from None


def apply_plan(model, plan):
    """Set the matched weights; on any failure put back what was there (all or nothing)."""
    backup = [(layer, layer_arrays(layer)[0]) for layer, _ in plan]
    try:
        for layer, arrays in plan:
            set_layer_arrays(layer, [np.asarray(a) for a in arrays])
    except BaseException:
        for layer, arrays in backup:
            set_layer_arrays(layer, arrays)
        raise
