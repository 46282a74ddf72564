"""Which file format a path means, from its suffix (or an explicit ``save_format``)."""
from __future__ import annotations

import os

__all__ = ["HDF5_SUFFIXES", "TORCH_SUFFIXES", "weights_format", "model_format", "check_overwrite"]

HDF5_SUFFIXES = (".h5", ".hdf5", ".weights.h5", ".keras.h5")
TORCH_SUFFIXES = (".pt", ".pth")
_FORMAT_NAMES = {"h5": "h5", "hdf5": "h5", "keras": "h5", "tf": None, "torch": "torch", "pt": "torch",
                 "pth": "torch"}


def _check_path(filepath, argname="filepath"):
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"`{argname}` must be a str or os.PathLike, got {type(filepath).__name__}: {filepath!r}")
    path = os.fspath(filepath)
    if not path:
        raise ValueError(f"`{argname}` must be a non-empty path, got {filepath!r}")
    return path


def weights_format(filepath, save_format=None):
    """``'h5'`` or ``'torch'`` for ``filepath``; a ``ValueError`` listing accepted suffixes otherwise."""
    path = _check_path(filepath)
    if save_format is not None:
        fmt = _FORMAT_NAMES.get(str(save_format).lower()) if isinstance(save_format, str) else None
        if fmt is None:
            raise ValueError(f"`save_format` must be one of 'h5', 'hdf5', 'torch' or None, got {save_format!r}")
        return fmt
    lower = path.lower()
    if lower.endswith(HDF5_SUFFIXES):
        return "h5"
    if lower.endswith(TORCH_SUFFIXES):
        return "torch"
    raise ValueError(
        f"`filepath` {path!r} has a suffix kerosene cannot tell the format from. Accepted suffixes: "
        f"{', '.join(HDF5_SUFFIXES)} (HDF5 in Keras's layout) and {', '.join(TORCH_SUFFIXES)} "
        "(a torch state dict); or pass save_format='h5' or 'torch'.")


def model_format(filepath):
    """Whole models are HDF5 only; a clear error for anything else."""
    path = _check_path(filepath)
    if path.lower().endswith(HDF5_SUFFIXES):
        return "h5"
    if path.lower().endswith(".keras"):
        raise ValueError(f"`filepath` {path!r}: Keras 3's .keras zip format is not supported; "
                         f"use an .h5 or .hdf5 path (Keras 2's whole-model HDF5 format)")
    raise ValueError(f"`filepath` {path!r}: a whole model is saved as HDF5; accepted suffixes: "
                     f"{', '.join(HDF5_SUFFIXES)}. To save a torch state dict use save_weights('....pt').")


def check_overwrite(path, overwrite):
    if not isinstance(overwrite, bool):
        raise TypeError(f"`overwrite` must be True or False, got {overwrite!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False; pass overwrite=True to replace it")
