"""LambdaCallback: a callback made of plain functions."""
from __future__ import annotations

from .base import Callback

__all__ = ["LambdaCallback"]


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
            elif key.startswith("on_"):
                # Keras 2 would make a misspelt hook (on_epoch_ended=...) a plain attribute, never called.
                raise TypeError(f"LambdaCallback got an unknown hook {key!r}; accepted hooks: {', '.join(self._HOOKS)}")
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

    def state_dict(self):
        return {}
