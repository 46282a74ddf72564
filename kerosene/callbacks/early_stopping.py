"""EarlyStopping: stop training when a monitored value has stopped improving."""
from __future__ import annotations

import copy

import numpy as np

from .. import distributed
from .base import Callback
from .monitor import (Improvement, check_monitor_name, check_non_negative_int, check_number,
                      misspelt_monitor_error, monitor_presence, read_monitor, resolve_mode,
                      warn_monitor_missing)

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when its value beats the best so far by more than ``min_delta``
    (``current < best - min_delta`` in min mode, ``current > best + min_delta`` in max
    mode; the sign of ``min_delta`` is ignored). Training stops at the end of the
    ``patience``-th epoch in a row without improvement (``patience=0``: the first one).
    With ``baseline``, the value must beat the baseline to count as an improvement.
    Epochs before ``start_from_epoch`` are not counted at all.

    ``mode='auto'`` takes the direction from the metric (losses down, accuracy/AUC/... up)
    and is an error for a name with no known direction.

    ``restore_best_weights=True`` puts back the weights of the best epoch **whenever
    training ends** — patience ran out (then at once, in that epoch's ``on_epoch_end``,
    as Keras 2 does), the epochs ran out, another callback stopped it, or an
    error/interrupt ended it (Keras 2 restored only when EarlyStopping itself stopped).
    It works with any model that has ``get_weights``/``set_weights``. The best epoch is the one with the best monitored value, even when that
    value never beat ``baseline``.

    A ``monitor`` the logs lack: ``val_acc`` and ``val_accuracy`` (and Keras 2's other
    short names) find the same entry. A name no compiled metric logs is said at train begin,
    since another callback may still write it. If it is still absent at the end of the
    first epoch and looks like a misspelt logged key (``'vall_loss'``, ``'los'``), that is a
    ``ValueError``; any other absent name (``val_loss`` without validation, say) is skipped
    with Keras 2's warning each epoch, and a ``val_*`` name logged only on validation
    epochs (``validation_freq`` > 1) skips the others quietly.

    ``stopped_epoch`` (0-based, 0 when it did not stop training), ``best``, ``wait`` and
    ``best_epoch`` are readable; :meth:`state_dict` holds them and the best weights so
    a resumed run continues counting where it left off.

    Example::

        stop = EarlyStopping(monitor='val_loss', patience=3, restore_best_weights=True)
        model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop])
        stop.stopped_epoch   # e.g. 12
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        owner = "EarlyStopping"
        self.monitor = check_monitor_name(monitor, owner)
        self.min_delta = abs(check_number("min_delta", min_delta, owner))
        self.patience = check_non_negative_int("patience", patience, owner)
        self.verbose = check_non_negative_int("verbose", int(verbose) if isinstance(verbose, bool) else verbose, owner)
        self.mode = resolve_mode(mode, monitor, owner)
        self.baseline = check_number("baseline", baseline, owner, allow_none=True)
        if not isinstance(restore_best_weights, (bool, np.bool_)):
            raise TypeError(f"EarlyStopping `restore_best_weights` must be True or False, got {restore_best_weights!r}")
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_non_negative_int("start_from_epoch", start_from_epoch, owner)
        self._improves = Improvement(self.mode, self.min_delta)
        self._presence = "unknown"
        self._monitor_read = False
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.stopped = False
        self.best = self.baseline if self.baseline is not None else self._improves.worst
        self.best_epoch = None
        self.best_weights = None
        # The best value seen, baseline or not: it decides which weights are restored.
        self._best_seen = None
        self._restored = False

    def on_train_begin(self, logs=None):
        self._reset()
        self._presence = monitor_presence(self.monitor, self.params, "EarlyStopping", callback=self)
        self._monitor_read = False

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        current = read_monitor(logs, self.monitor)
        first, self._monitor_read = not self._monitor_read, True
        if current is None:
            error = misspelt_monitor_error(self.monitor, logs, self.params, "EarlyStopping") \
                if first and self._presence == "never" else None
            if error is not None:
                raise error
            warn_monitor_missing("Early stopping", self.monitor, logs, self._presence)
            return
        if self._improves(current, self._best_seen):
            self._best_seen = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                # deepcopy: any model with get_weights/set_weights, whatever it returns
                self.best_weights = copy.deepcopy(self.model.get_weights())
        if self._improves(current, self.best):
            self.best = current
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stopped = True
            self.model.stop_training = True
            self._restore()

    def _restore(self):
        if self.restore_best_weights and self.best_weights is not None and not self._restored:
            if self.verbose > 0 and distributed.is_main_process():
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
            self._restored = True

    def on_train_end(self, logs=None):
        talk = self.verbose > 0 and distributed.is_main_process()
        if self.stopped and talk:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")
        self._restore()

    def state_dict(self):
        return {
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "stopped": self.stopped,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_seen": self._best_seen,
            "best_weights": copy.deepcopy(self.best_weights),
        }

    def load_state_dict(self, state):
        """Restore the counters and best weights; call it after ``on_train_begin`` (as BackupAndRestore does), which resets them."""
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.stopped = bool(state.get("stopped", False))
        self.best = float(state["best"])
        self.best_epoch = None if state.get("best_epoch") is None else int(state["best_epoch"])
        self._best_seen = state.get("best_seen")
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else [np.array(w, copy=True) for w in weights]
