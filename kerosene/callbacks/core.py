"""The callbacks every fit uses or most users reach for: BaseLogger, History,
TerminateOnNaN and LambdaCallback."""
from __future__ import annotations

import math

from .base import Callback

__all__ = ["BaseLogger", "History", "TerminateOnNaN", "LambdaCallback"]


class BaseLogger(Callback):
    """Writes the epoch's size-weighted means of the batch values into the epoch logs.

    ``fit`` puts one first in the callback list, so every callback after it sees the
    epoch means in ``on_epoch_end``. The means are reduced on the device from the
    batch tensors, once per epoch, so this costs no sync per batch.

    Example::

        model.fit(x, y, callbacks=[])   # a BaseLogger is added for you
    """

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or [])
        self.aggregator = None

    def on_epoch_end(self, epoch, logs=None):
        if self.aggregator is None or logs is None:
            return
        means = self.aggregator.result()
        later = dict(logs)
        logs.clear()
        logs.update(means)
        logs.update(later)

    def state_dict(self):
        return {}


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it.

    ``history.history`` maps each log key to its list of per-epoch values (floats),
    ``history.epoch`` lists the epochs, ``history.params`` the run's parameters.

    Example::

        history = model.fit(x, y, epochs=3)
        history.history['loss']   # [0.71, 0.52, 0.44]
    """

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(_plain(value))
        if self.model is not None:
            self.model.history = self

    def plot(self, metrics=None, **kwargs):
        """Plot the curves (train and validation side by side); needs the ``plot`` extra."""
        from ..utils.plotting import plot_history
        return plot_history(self, metrics=metrics, **kwargs)


def _plain(value):
    """A number as a Python float (never a tensor holding a graph)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite.

    The rest of that epoch and its validation are skipped; ``on_epoch_end`` and
    ``on_train_end`` still run, and ``model.stop_reason`` is ``'nan'``. With
    ``raise_error=True`` it raises ``RuntimeError`` instead (Keras 3's option).
    Reading each batch's loss costs a device sync per step.

    Example::

        model.fit(x, y, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf found in the loss at batch {batch}: {loss}")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
            self.model.stop_reason = "nan"


class LambdaCallback(Callback):
    """A callback made of plain functions, for quick one-off hooks.

    Each argument is a function called positionally: ``on_epoch_begin(epoch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``, and so on. Other keyword
    arguments become attributes (Keras 2) or name further hooks (``on_test_end=...``).

    Example::

        print_loss = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs['loss']))
    """

    _HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
              "on_train_begin", "on_train_end", "on_train_batch_begin", "on_train_batch_end",
              "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
              "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end)
        for key, value in kwargs.items():
            if key in self._HOOKS:
                given[key] = value
            else:
                setattr(self, key, value)
        self._functions = {}
        for hook, function in given.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"LambdaCallback `{hook}` must be callable, got {type(function).__name__}")
            self._functions[hook] = function
            setattr(self, hook, function)

    def overrides(self, hook):
        if hook in self._functions:
            return True
        alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
        return alias in self._functions

    def state_dict(self):
        return {}
