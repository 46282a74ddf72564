"""MNIST digits: 60,000 training and 10,000 test images of 28x28, as Keras publishes them.

    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape                               # doctest: +SKIP
    ((60000, 28, 28), (60000,))

``load_data()`` reads ``mnist.npz`` from Keras's cache (``$KERAS_HOME/datasets``),
downloading it with a hash check when absent. ``load_data(path)`` with a path that
exists reads that local file instead: an ``mnist.npz``, or a folder holding it or the
four IDX files (``train-images-idx3-ubyte[.gz]`` ...), with no network access.
"""
import os

import numpy as np

from . import _download
from ._idx import read_idx

__all__ = ["load_data"]

REMOTE_NAME = "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def load_npz(path):
    """``(x_train, y_train), (x_test, y_test)`` from a Keras-format ``mnist.npz``."""
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
        if missing:
            raise ValueError(f"{path} is not a Keras mnist.npz: it lacks {missing} (it holds {f.files})")
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _idx_path(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def load_idx_folder(folder):
    """``(x_train, y_train), (x_test, y_test)`` from the four IDX files in ``folder``."""
    paths = [_idx_path(folder, stem) for stem in IDX_FILES]
    missing = [stem for stem, p in zip(IDX_FILES, paths) if p is None]
    if missing:
        raise FileNotFoundError(
            f"{folder} holds neither mnist.npz nor the four MNIST IDX files; missing: "
            f"{', '.join(missing)} (raw or .gz)")
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"The {part} IDX files in {folder} do not match: images {x.shape}, labels {y.shape}")
    return (x_train, y_train), (x_test, y_test)


def load_data(path="mnist.npz"):
    """MNIST as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays.

    ``path``: a file name in Keras's cache (downloaded if absent), or an existing
    local ``.npz`` file or folder (npz or IDX files), read without any download.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"mnist.load_data: `path` must be a file or folder path, got {path!r}")
    path = os.fspath(path)
    if os.path.isdir(path):
        npz = os.path.join(path, "mnist.npz")
        return load_npz(npz) if os.path.isfile(npz) else load_idx_folder(path)
    if os.path.isfile(path):
        if path.endswith(".npz"):
            return load_npz(path)
        raise ValueError(f"mnist.load_data: {path} is neither an .npz file nor a folder of IDX files")
    if os.path.dirname(path):
        raise FileNotFoundError(
            f"mnist.load_data: {path} does not exist; give a Keras mnist.npz, or a folder holding it or "
            f"the four IDX files ({', '.join(IDX_FILES)}), or no path to use Keras's cache")
    local = _download.fetch(path, REMOTE_NAME, FILE_HASH)
    return load_npz(local)
