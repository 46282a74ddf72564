"""Which file format a path means, from its suffix (or an explicit ``save_format``)."""
from __future__ import annotations

import os

__all__ = ["HDF5_SUFFIXES", "TORCH_SUFFIXES", "KERAS_SUFFIX", "KERAS3_WEIGHTS_SUFFIX", "DCP_SUFFIX", "weights_format",
           "model_format", "check_overwrite"]

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".weights.h5", ".keras.h5")
TORCH_SUFFIXES = (".pt", ".pth")
KERAS_SUFFIX = ".keras"                 # Keras 3's zip archive of a whole model
KERAS3_WEIGHTS_SUFFIX = ".weights.h5"   # Keras 3's convention: weights in Keras 3's variable layout
DCP_SUFFIX = ".dcp"                      # a torch.distributed.checkpoint directory (sharded state dict)
_FORMAT_NAMES = {"h5": "h5", "hdf5": "h5", "keras": "h5", "tf": None, "torch": "torch", "pt": "torch",
                 "pth": "torch"}


def _check_path(filepath, argname="filepath"):
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"`{argname}` must be a str or os.PathLike, got {type(filepath).__name__}: {filepath!r}")
    path = os.fspath(filepath)
    if not path:
        raise ValueError(f"`{argname}` must be a non-empty path, got {filepath!r}")
    return path


def weights_format(filepath, save_format=None, reading=False):
    """``'h5'`` (Keras 2 layout), ``'keras3'`` (``.weights.h5``, Keras 3's layout), ``'torch'``, ``'dcp'``
    (a ``torch.distributed.checkpoint`` directory), or, when
    ``reading``, ``'keras'`` (the weights of a ``.keras`` archive); a ``ValueError`` listing accepted suffixes
    otherwise."""
    path = _check_path(filepath)
    if save_format is not None:
        fmt = _FORMAT_NAMES.get(str(save_format).lower()) if isinstance(save_format, str) else None
        if fmt is None:
            raise ValueError(f"`save_format` must be one of 'h5', 'hdf5', 'torch' or None, got {save_format!r}")
        return fmt
    lower = path.lower()
    if lower.endswith(KERAS3_WEIGHTS_SUFFIX):
        return "keras3"
    if lower.endswith(HDF5_SUFFIXES):
        return "h5"
    if reading and lower.endswith(KERAS_SUFFIX):
        return "keras"
    if lower.endswith(TORCH_SUFFIXES):
        return "torch"
    if lower.rstrip("/").endswith(DCP_SUFFIX):
        return "dcp"
    raise ValueError(
        f"`filepath` {path!r} has a suffix kerosene cannot tell the format from. Accepted suffixes: "
        f"{KERAS3_WEIGHTS_SUFFIX} (HDF5 in Keras 3's layout), {', '.join(HDF5_SUFFIXES)} (HDF5 in Keras 2's "
        f"layout), {', '.join(TORCH_SUFFIXES)} (a torch state dict) and {DCP_SUFFIX} (a sharded "
        "torch.distributed.checkpoint directory)"
        + (f"; {KERAS_SUFFIX} archives for reading" if reading else "") + "; or pass save_format='h5' or 'torch'.")


def model_format(filepath):
    """``'h5'`` (Keras 2's whole-model HDF5) or ``'keras'`` (Keras 3's archive); a clear error otherwise."""
    path = _check_path(filepath)
    if path.lower().endswith(KERAS_SUFFIX):
        return "keras"
    if path.lower().endswith(HDF5_SUFFIXES):
        return "h5"
    raise ValueError(f"`filepath` {path!r}: a whole model is saved as Keras 3's {KERAS_SUFFIX} archive or as "
                     f"HDF5 ({', '.join(HDF5_SUFFIXES)}). To save a torch state dict use save_weights('....pt').")


def check_overwrite(path, overwrite):
    if not isinstance(overwrite, bool):
        raise TypeError(f"`overwrite` must be True or False, got {overwrite!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False; pass overwrite=True to replace it")
