"""CIFAR-100: 50,000 train and 10,000 test 32x32 colour images of 100 classes (20 superclasses).

    >>> (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode='fine')  # doctest: +SKIP
"""
import os

from . import _cifar

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
DIRNAME = "cifar-100-python"


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``; ``label_mode`` is ``'fine'`` (100 classes)
    or ``'coarse'`` (20 superclasses); labels have shape ``(n, 1)``."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"`label_mode` must be 'fine' or 'coarse', got {label_mode!r}")
    folder = _cifar.fetch_folder(DIRNAME, ORIGIN, FILE_HASH)
    key = label_mode + "_labels"
    x_train, y_train = _cifar.load_batch(os.path.join(folder, "train"), key)
    x_test, y_test = _cifar.load_batch(os.path.join(folder, "test"), key)
    return ((_cifar.to_image_format(x_train), y_train.reshape(-1, 1)),
            (_cifar.to_image_format(x_test), y_test.reshape(-1, 1)))
