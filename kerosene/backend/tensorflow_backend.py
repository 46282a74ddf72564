"""Keras 2's module path ``keras.backend.tensorflow_backend`` (``import keras.backend.tensorflow_backend
as KTF``, ``from keras.backend.tensorflow_backend import set_session``): the same functions as
``kerosene.backend``, which run on PyTorch whatever the module is called.

    >>> from kerosene.backend import tensorflow_backend as KTF
    >>> KTF.floatx()
    'float32'
"""
from .. import backend as _backend

globals().update({name: value for name, value in vars(_backend).items()
                  if not name.startswith("__") and name != "tensorflow_backend"})
