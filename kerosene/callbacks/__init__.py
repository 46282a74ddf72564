"""Keras callbacks for kerosene: hooks called at given stages of fit, evaluate and predict.

Example::

    from kerosene.callbacks import Callback, EarlyStopping
"""
import numpy as np

from .. import backend as K
from .backup import BackupAndRestore
from .base import Callback, CallbackList
from .base_logger import BaseLogger
from .history import History
from .lambda_callback import LambdaCallback
from .terminate_on_nan import TerminateOnNaN
from .progbar import ProgbarLogger
from .checkpoint import ModelCheckpoint
from .early_stopping import EarlyStopping
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .csv_logger import CSVLogger
from .remote_monitor import RemoteMonitor
from .tensorboard import TensorBoard
from .ema import SwapEMAWeights

__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "LambdaCallback", "TerminateOnNaN",
           "ProgbarLogger", "BackupAndRestore", "ModelCheckpoint",
           "EarlyStopping", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "RemoteMonitor",
           "TensorBoard", "SwapEMAWeights",
           # Keras 2's callbacks module had no __all__, so ``from keras.callbacks import *`` also
           # gave its ``K`` and ``np``; published callbacks (the cyclic learning rate one) use both.
           "K", "np"]
