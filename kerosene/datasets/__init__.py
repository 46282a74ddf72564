"""Keras's datasets, fetched into Keras's cache (``$KERAS_HOME/datasets``) with a hash check.

    from kerosene.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

Modules: ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imdb``, ``reuters``,
``boston_housing`` (and ``digits``, scikit-learn's bundled copy, needing no download).
"""
import importlib

_MODULES = ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing", "digits")
__all__ = list(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'kerosene.datasets' has no attribute {name!r}")
