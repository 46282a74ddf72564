"""Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing, in Keras's IDX files.

    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
"""
import os

from . import _download
from ._idx import read_idx

__all__ = ["load_data"]

FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
# Keras publishes no hash for these; they hold raw bytes, never pickle.
FILE_HASHES = {name: None for name in FILES}
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 28, 28)`` and labels ``(n,)``."""
    paths = [_download.fetch(name, name, FILE_HASHES.get(name), cache_subdir=CACHE_SUBDIR) for name in FILES]
    y_train, x_train, y_test, x_test = (read_idx(p) for p in paths)
    return (x_train, y_train), (x_test, y_test)
