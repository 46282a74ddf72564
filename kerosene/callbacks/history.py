"""History: every epoch's logs, returned by ``fit``."""
from __future__ import annotations

from .._log_keys import AliasedLogs
from ..utils.plotting import plot_history
from .base import Callback

__all__ = ["History"]


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it.

    ``history.history`` maps each log key to its list of per-epoch values (floats),
    ``history.epoch`` lists the epochs, ``history.params`` the run's parameters. Keras
    2.2's spellings read the same lists: ``history.history['acc']`` after
    ``metrics=['accuracy']``, and the other way round.

    Example::

        history = model.fit(x, y, epochs=3)
        history.history['loss']   # [0.71, 0.52, 0.44]
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none
    never_stops_training = True

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = AliasedLogs()

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = AliasedLogs()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(_plain(value))
        if self.model is not None:
            self.model.history = self

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.history = AliasedLogs(self.history)

    def plot(self, metrics=None, **kwargs):
        """Plot the curves (train and validation side by side); needs the ``plot`` extra."""
        return plot_history(self, metrics=metrics, **kwargs)


def _plain(value):
    """A number as a Python float (never a tensor holding a graph)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value
