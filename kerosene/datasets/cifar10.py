"""CIFAR-10: 50,000 train and 10,000 test 32x32 colour images of 10 classes.

    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape                                  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1))
"""
import os

import numpy as np

from . import _cifar

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
DIRNAME = "cifar-10-batches-py"


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (channels last unless
    ``K.image_data_format()`` says otherwise) and labels of shape ``(n, 1)``."""
    folder = _cifar.fetch_folder(DIRNAME, ORIGIN, FILE_HASH)
    parts = [_cifar.load_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts]).reshape(-1, 1)
    x_test, y_test = _cifar.load_batch(os.path.join(folder, "test_batch"))
    return (_cifar.to_image_format(x_train), y_train), (_cifar.to_image_format(x_test), y_test.reshape(-1, 1))
