"""TerminateOnNaN: stop as soon as a batch's loss is NaN or infinite."""
from __future__ import annotations

import math

from .base import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite.

    The rest of that epoch and its validation are skipped; ``on_epoch_end`` and
    ``on_train_end`` still run, and ``model.stop_reason`` is ``'nan'``. With
    ``raise_error=True`` it raises ``RuntimeError`` instead (Keras 3's option).
    Reading each batch's loss costs a device sync per step.

    Example::

        model.fit(x, y, callbacks=[TerminateOnNaN()])
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

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
