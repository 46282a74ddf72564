"""BaseLogger: the Keras 2 callback name ``fit`` always puts first."""
from __future__ import annotations

from .base import Callback

__all__ = ["BaseLogger"]


class BaseLogger(Callback):
    """Keras 2's name for the callback that averaged the epoch logs; it does no work here.

    ``fit`` still puts one first in the callback list, as Keras 2 does, but the loop
    itself builds every epoch's logs (the size-weighted means reduced on the device
    once per epoch, then ``val_*``) before any callback's ``on_epoch_end``, so no
    callback depends on its position.

    Example::

        model.fit(x, y, callbacks=[])   # a BaseLogger is added for you
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    never_stops_training = True

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or [])

    def state_dict(self):
        return {}
