"""SwapEMAWeights: keep an exponential moving average (EMA) of the weights and evaluate with it."""
from __future__ import annotations

import numpy as np
import torch

from .base import Callback
from .monitor import check_number

__all__ = ["SwapEMAWeights"]


class SwapEMAWeights(Callback):
    """Track an EMA of the trainable weights and swap it in for evaluation and prediction.

    Keras 3 keeps the average in the optimizer (``use_ema=True``); kerosene's optimizers
    do not, so this callback keeps it itself, with the same rule: after the first
    training step the average is a copy of the weights, after every later step
    ``average = ema_momentum * average + (1 - ema_momentum) * weights``. The update
    runs on the device after each batch and costs no sync.

    - Validation during ``fit`` (and ``evaluate``/``predict`` given this callback) runs
      with the averaged weights; the training weights are swapped back afterwards.
    - ``swap_on_epoch=True`` also swaps the average in at each epoch end, so callbacks
      after this one (ModelCheckpoint, EarlyStopping) see and save it, and swaps the
      training weights back at the next epoch begin.
    - When training ends the model keeps the averaged weights, as Keras 3's
      ``use_ema=True`` optimizers leave it.

    Example::

        model.fit(x, y, validation_data=(xv, yv), epochs=10,
                  callbacks=[SwapEMAWeights(ema_momentum=0.99)])
        model.evaluate(xv, yv)   # uses the averaged weights
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, swap_on_epoch=False, ema_momentum=0.99):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        momentum = check_number("ema_momentum", ema_momentum, "SwapEMAWeights")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SwapEMAWeights `ema_momentum` must be in [0, 1), got {ema_momentum!r}")
        self.ema_momentum = momentum
        self._average = None
        self._steps = 0
        self._ema_in_model = False

    def _weights(self):
        return [p for p in self.model.parameters() if p.requires_grad]

    # --- the average ---------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        with torch.no_grad():
            self._average = [p.detach().clone() for p in self._weights()]
        self._steps = 0
        self._ema_in_model = False

    def on_train_batch_end(self, batch, logs=None):
        weights = self._weights()
        with torch.no_grad():
            if self._steps == 0:
                torch._foreach_copy_(self._average, weights)
            else:
                torch._foreach_lerp_(self._average, weights, 1.0 - self.ema_momentum)
        self._steps += 1

    def _swap(self):
        if self._average is None:
            raise ValueError("SwapEMAWeights has no moving average yet: pass it to fit() first, then to "
                             "evaluate()/predict()")
        weights = self._weights()
        if len(weights) != len(self._average):
            raise ValueError(f"SwapEMAWeights: the model has {len(weights)} trainable weights but the average "
                             f"holds {len(self._average)}; was the model changed after fit?")
        with torch.no_grad():
            for weight, average in zip(weights, self._average):
                held = weight.detach().clone()
                weight.copy_(average)
                average.copy_(held)
        self._ema_in_model = not self._ema_in_model

    def _swap_in(self):
        if not self._ema_in_model:
            self._swap()

    def _swap_out(self):
        if self._ema_in_model:
            self._swap()

    # --- when the average is in the model -------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_in()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        self._swap_out()

    def on_train_end(self, logs=None):
        """Leave the averaged weights in the model, and the average equal to them."""
        if self._average is None or self._steps == 0:
            return
        self._swap_in()
        with torch.no_grad():
            torch._foreach_copy_(self._average, self._weights())
        self._ema_in_model = False

    # --- state -----------------------------------------------------------------------------
    def state_dict(self):
        average = None if self._average is None else [a.detach().cpu().numpy().copy() for a in self._average]
        return {"average": average, "steps": self._steps, "ema_in_model": self._ema_in_model}

    def load_state_dict(self, state):
        average = state.get("average")
        if average is None:
            self._average = None
        else:
            weights = self._weights()
            self._average = [torch.as_tensor(np.asarray(a)).to(device=w.device, dtype=w.dtype)
                             for a, w in zip(average, weights)]
        self._steps = int(state.get("steps", 0))
        self._ema_in_model = bool(state.get("ema_in_model", False))
