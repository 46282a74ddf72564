"""Boston housing prices: 13 features per house, price in k$ as the target.

    >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()  # doctest: +SKIP
"""
import numpy as np

from . import _download
from ._split import check_split, check_seed

__all__ = ["load_data"]

REMOTE_NAME = "boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)`` after a seeded shuffle; ``test_split`` goes to test."""
    check_split(test_split)
    check_seed(seed)
    local = _download.fetch(path, REMOTE_NAME, FILE_HASH)
    with np.load(local, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
