"""ProgbarLogger: the Keras-style progress bar printed during ``fit``."""
from __future__ import annotations

import sys

from ..utils.progbar import Progbar
from .base import Callback

__all__ = ["ProgbarLogger", "Progbar"]


class ProgbarLogger(Callback):
    """Prints ``Epoch 1/20`` and a progress bar with the running loss and metrics.

    ``verbose=1`` (from ``fit``) shows a live bar on a terminal or in a notebook and a
    single line per epoch in a log file; ``verbose=2`` prints one line per epoch. The
    running values are read from the device only when the bar is redrawn.

    Example::

        model.fit(x, y, epochs=20, verbose=1)
        # Epoch 1/20
        # 469/469 [==============================] - 1s 2ms/step - loss: 0.3512 - val_loss: 0.3012
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    never_stops_training = True

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("steps", "samples"):
            raise ValueError(f"Unknown `count_mode`: {count_mode!r}; accepted: 'steps', 'samples'")
        self.count_mode = count_mode
        self.stateful_metrics = set(stateful_metrics or [])
        self.aggregator = None
        self.stream = None
        self._bar = None
        self._seen = 0

    def _verbose(self):
        return self.params.get("verbose", 1)

    def on_epoch_begin(self, epoch, logs=None):
        verbose = self._verbose()
        if not verbose:
            return
        stream = self.stream or sys.stdout
        stream.write(f"Epoch {epoch + 1}/{self.params.get('epochs')}\n")
        stream.flush()
        self._bar = Progbar(self._target(), verbose=verbose, stream=stream)
        self._seen = 0

    def _target(self):
        if self.count_mode == "samples" and self.params.get("samples"):
            return self.params["samples"]
        return self.params.get("steps")

    def _progress(self, batch):
        """Batches done, or samples done in 'samples' mode (from the batch size: no log read)."""
        if self.count_mode == "samples" and self.params.get("samples") and self.params.get("batch_size"):
            return min((batch + 1) * self.params["batch_size"], self.params["samples"])
        return batch + 1

    def _running_values(self):
        if self.aggregator is None:
            return []
        means = self.aggregator.running()
        order = [k for k in self.params.get("metrics", []) if k in means]
        return [(k, means[k]) for k in order] or list(means.items())

    def on_train_batch_end(self, batch, logs=None):
        self._seen = self._progress(batch)
        bar = self._bar
        if bar is not None and bar.due():
            bar.update(self._seen, self._running_values(), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is None or not self._verbose():
            return
        logs = logs or {}
        keys = [k for k in self.params.get("metrics", []) if k in logs]
        extra = [k for k in logs if k not in keys and k not in ("batch", "size") and isinstance(logs[k], (int, float))]
        values = [(k, logs[k]) for k in keys + extra]
        self._bar.update(self._seen or self._target() or 0, values, finalize=True)
        self._bar = None

    def state_dict(self):
        return {}
