"""Handwritten digits: scikit-learn's bundled copy of the UCI 8x8 digits (1,797 images).

The data ships inside scikit-learn (the ``data`` extra), so ``load_data()`` needs no
network and no download. Images are 8x8 uint8 arrays with values 0..16; labels 0..9.

Example::

    from kerosene.datasets import digits
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.reshape(-1, 64).astype('float32') / 16   # 64 features in [0, 1]
"""
import numpy as np

from ._split import check_seed, check_split

__all__ = ["load_data", "NUM_CLASSES", "MAX_PIXEL"]

NUM_CLASSES = 10
MAX_PIXEL = 16

_MISSING_SKLEARN = ("kerosene.datasets.digits needs scikit-learn, which holds the data; install it with "
                    "`pip install 'kerosene[data]'` (or `pip install scikit-learn`).")


def _bundled_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(_MISSING_SKLEARN) from error
    bunch = load_digits()
    return bunch.images.astype("uint8"), bunch.target.astype("uint8")


def load_data(test_split=0.2, seed=113):
    """The digits as ``(x_train, y_train), (x_test, y_test)``, shuffled with ``seed``.

    ``x`` has shape ``(n, 8, 8)`` and dtype uint8 (values 0..16), ``y`` shape ``(n,)``
    (labels 0..9). ``test_split`` is the fraction held out for testing (0.2 holds out 359
    of the 1,797 images); the same ``seed`` always gives the same split.

    Example::

        (x_train, y_train), (x_test, y_test) = load_data(test_split=0.25, seed=0)
    """
    check_split(test_split)
    check_seed(seed)
    images, labels = _bundled_digits()
    order = np.random.RandomState(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    cut = len(images) - int(round(len(images) * test_split))
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])
