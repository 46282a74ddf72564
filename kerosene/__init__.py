"""kerosene: the Keras training API built natively on PyTorch.

Port a Keras script by replacing ``keras`` with ``kerosene``::

    import kerosene as keras
    from kerosene.models import Sequential
    from kerosene.layers import Dense, Activation

    model = Sequential()
    model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    model.fit(x_train, y_train, batch_size=128, epochs=20)
"""
import importlib

from . import activations, callbacks, initializers, layers
from ._version import __version__
from .layers import Input
from .models import Model, Sequential, load_model

__all__ = ["Model", "Sequential", "Input", "load_model", "activations", "callbacks", "initializers",
           "layers", "losses", "metrics", "optimizers", "models", "backend", "utils", "datasets",
           "preprocessing", "distributed", "saving", "regularizers", "constraints", "wrappers", "__version__"]

_LAZY = ("losses", "metrics", "optimizers", "models", "backend", "utils", "datasets", "preprocessing", "distributed", "saving", "regularizers",
         "constraints", "engine", "cli", "wrappers")


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'kerosene' has no attribute {name!r}")
