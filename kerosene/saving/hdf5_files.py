"""Opening and writing weight files and setting what they hold: the steps every weights format shares.

Reading failures become a :class:`~kerosene.errors.SavedFileError` naming the file, and
weights are set all or nothing. An HDF5 file is written through :func:`write_hdf5`, so a
failed write is one named ``OSError``.

    with reading_errors(path), open_hdf5(path) as f:
        plan = match(f)
    apply_plan(model, plan)
    write_hdf5('w.h5', lambda f: f.create_dataset('w', data=[1.0]), 'saving the HDF5 weights file')
"""
from __future__ import annotations

import contextlib
import io
import os

import h5py
import numpy as np

from .atomic import atomic_write, naming_errors
from .errors import SavedFileError, file_error
from .layer_weights import layer_arrays, set_layer_arrays

__all__ = ["require_built", "open_hdf5", "reading_errors", "apply_plan", "write_hdf5"]


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


def write_hdf5(path, write, doing):
    """Write the HDF5 file that ``write(h5file)`` fills to ``path``, atomically.

    The file is built in memory and then written with plain file I/O, so an OS error (disk
    full, file too large) is one ``OSError`` naming ``doing`` and the file. h5py writing to
    disk itself reports a failed write only when it closes the file: as tracebacks "ignored
    in ObjectID.__dealloc__" on stderr and, with HDF5 2.0, a segmentation fault. The cost is
    one copy of the file in memory while it is written.
    """
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        write(f)
    with naming_errors(path, doing), atomic_write(path, "wb") as handle:
        handle.write(buffer.getbuffer())


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
