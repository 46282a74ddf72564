"""Keras callbacks for kerosene: hooks called at given stages of fit, evaluate and predict.

Example::

    from kerosene.callbacks import Callback, EarlyStopping
"""
from .base import Callback, CallbackList
from .core import BaseLogger, History, LambdaCallback, TerminateOnNaN
from .progbar import ProgbarLogger
from .checkpoint import ModelCheckpoint

__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "LambdaCallback", "TerminateOnNaN",
           "ProgbarLogger", "ModelCheckpoint"]
