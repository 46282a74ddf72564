"""ModelCheckpoint: save the model (or its weights) every epoch, every N batches, or when it improves."""
from __future__ import annotations

import math
import os
import string

import numpy as np

from .._user_warning import warn_user
from .. import distributed
from ..saving.atomic import check_destination
from ..saving.sharded_weights import is_sharded
from .base import Callback
from .._log_keys import AliasedLogs, resolve_log_key
from .monitor import (close_log_key, improvement_op, logged_by_an_earlier_callback, misspelt_monitor_error, read_monitor,
                      resolve_mode, validate_mode)

__all__ = ["ModelCheckpoint"]

_WEIGHT_SUFFIXES = (".h5", ".hdf5", ".pt", ".pth", ".dcp")
_MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")


def _template_fields(template):
    """The names a ``str.format`` template reads, e.g. ``{'epoch', 'val_loss'}``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ValueError(f"ModelCheckpoint `filepath` {template!r} is not a valid format template: {err}") from None
    fields = set()
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise ValueError(f"ModelCheckpoint `filepath` {template!r} has a positional field {{{field}}}; "
                             "use names such as {epoch:02d} or {val_loss:.2f}")
        fields.add(field.split(".", 1)[0].split("[", 1)[0])
    return fields


def _is_main_process():
    return distributed.is_main_process()


class ModelCheckpoint(Callback):
    """Save the model after every epoch (or every ``save_freq`` batches), or only when it improves.

    ``filepath`` is a template formatted with ``epoch`` (1-based), ``batch`` (with an
    integer ``save_freq``) and the log keys, e.g. ``'weights.{epoch:02d}-{val_loss:.2f}.hdf5'``;
    folders are created as needed. Whole models go to ``.h5``/``.hdf5`` or Keras 3's ``.keras``
    archive; weights alone (``save_weights_only=True``) to ``.h5``/``.hdf5`` (Keras 2's layout),
    ``.weights.h5`` (Keras 3's), ``.pt``/``.pth`` or ``.dcp`` (a sharded torch.distributed.checkpoint
    directory, written by every rank together). Every write is atomic.

    A ``monitor`` the logs lack (with ``save_best_only``): ``val_acc`` and ``val_accuracy`` (and Keras 2's other
    short names) find the same entry. A name no compiled metric logs is said at train begin,
    since another callback may still write it. If it is still absent at the end of the
    first epoch and looks like a misspelt logged key (``'vall_loss'``, ``'los'``), that is a
    ``ValueError``; any other absent name (``val_loss`` without validation, say) is skipped
    with Keras 2's warning each epoch, and a ``val_*`` name logged only on validation
    epochs (``validation_freq`` > 1) skips the others quietly.

    Example (the Keras spec's)::

        checkpointer = ModelCheckpoint(filepath='/tmp/weights.hdf5', verbose=1, save_best_only=True)
        model.fit(x_train, y_train, epochs=20, validation_data=(x_test, y_test), callbacks=[checkpointer])
        best = kerosene.models.load_model('/tmp/weights.hdf5')
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", options=None, initial_value_threshold=None, period=None,
                 **kwargs):
        super().__init__()
        if "load_weights_on_restart" in kwargs:
            kwargs.pop("load_weights_on_restart")
        if kwargs:
            raise TypeError(f"ModelCheckpoint() got unexpected keyword arguments {sorted(kwargs)}")
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint `filepath` must be a str or os.PathLike, got "
                            f"{type(filepath).__name__}: {filepath!r}")
        self.filepath = os.fspath(filepath)
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"ModelCheckpoint `monitor` must be a log key such as 'val_loss', got {monitor!r}")
        if not isinstance(verbose, (int, bool)):
            raise TypeError(f"ModelCheckpoint `verbose` must be 0 or 1, got {verbose!r}")
        for argname, value in (("save_best_only", save_best_only), ("save_weights_only", save_weights_only)):
            if not isinstance(value, bool):
                raise TypeError(f"ModelCheckpoint `{argname}` must be True or False, got {value!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint `save_freq` must be 'epoch' or a positive int (batches), "
                             f"got {save_freq!r}")
        if period is not None:
            if isinstance(period, bool) or not isinstance(period, int) or period < 1:
                raise ValueError(f"ModelCheckpoint `period` must be a positive int (epochs), got {period!r}")
            warn_user("ModelCheckpoint `period` is deprecated (as in Keras 2); it still saves every "
                      f"{period} epochs. Use save_freq for batch-based saving.", DeprecationWarning)
        if initial_value_threshold is not None and (isinstance(initial_value_threshold, bool) or not isinstance(
                initial_value_threshold, (int, float, np.floating, np.integer))):
            raise TypeError(f"ModelCheckpoint `initial_value_threshold` must be a number or None, got "
                            f"{initial_value_threshold!r}")
        validate_mode(mode, "ModelCheckpoint")
        accepted = _WEIGHT_SUFFIXES if save_weights_only else _MODEL_SUFFIXES
        if not self.filepath.lower().endswith(accepted) and not self.filepath.lower().endswith(".weights.h5"):
            what = "weights" if save_weights_only else "a whole model (save_weights_only=False)"
            raise ValueError(f"ModelCheckpoint `filepath` {self.filepath!r} must end with one of "
                             f"{', '.join(accepted)} to save {what}")
        self.fields = _template_fields(self.filepath)
        self.monitor = monitor
        self.verbose = int(verbose)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.period = period or 1
        self.initial_value_threshold = None if initial_value_threshold is None else float(initial_value_threshold)
        try:
            self.mode = resolve_mode(mode, monitor, owner="ModelCheckpoint")
        except ValueError:
            if save_best_only or initial_value_threshold is not None:
                raise
            self.mode = None   # the monitor is never compared when every epoch is saved
        self.best = self._initial_best()
        self.epochs_since_last_save = 0
        self._batches_seen_since_last_saving = 0
        self._current_epoch = 0
        self._monitor_never = self._monitor_read = False
        self.last_saved_path = None

    def _initial_best(self):
        if self.initial_value_threshold is not None:
            return self.initial_value_threshold
        return math.inf if self.mode != "max" else -math.inf

    # --- checks before training ---------------------------------------------------
    def on_train_begin(self, logs=None):
        if not _is_main_process():
            pass
        elif "{" in self.filepath or self.filepath.lower().endswith(".dcp"):
            # only the folder before the first template key is known yet; a .dcp target is itself a folder
            check_destination(os.path.dirname(self.filepath.split("{", 1)[0]) or ".",
                              "ModelCheckpoint `filepath`", folder=True)
        else:
            check_destination(self.filepath, "ModelCheckpoint `filepath`")
        names = list((self.params or {}).get("metrics") or [])
        self._monitor_never, self._monitor_read = False, False
        if not names:
            return
        known = set(names) | {"epoch"} | ({"batch"} if self.save_freq != "epoch" else set())
        unknown = sorted(f for f in self.fields if resolve_log_key(f, known) is None
                         and not logged_by_an_earlier_callback(self, f))
        if unknown:
            raise ValueError(
                f"ModelCheckpoint `filepath` {self.filepath!r} uses {', '.join(repr(u) for u in unknown)}, which "
                f"this run never logs; available keys: epoch{', batch' if self.save_freq != 'epoch' else ''}, "
                f"{', '.join(names)}")
        if self.save_best_only and resolve_log_key(self.monitor, names) is None:
            self._monitor_never = True
            close = close_log_key(self.monitor, names, self.params)
            if not close and logged_by_an_earlier_callback(self, self.monitor):
                return      # another callback may write it: the epoch end tells
            then = (f"did you mean {close!r}? Unless a callback logs {self.monitor!r}, the end of the first epoch "
                    "raises an error" if close else "no checkpoint will be saved")
            warn_user(f"ModelCheckpoint monitors {self.monitor!r}, which this run never logs (available: "
                      f"{', '.join(names)}); {then}", RuntimeWarning)

    # --- hooks ----------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_since_last_save += 1
        if self.save_freq != "epoch" or self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        self._save(epoch, None, logs)

    # --- saving ---------------------------------------------------------------------
    def _path_for(self, epoch, batch, logs):
        values = AliasedLogs(logs or {})
        values["epoch"] = epoch + 1
        if batch is not None:
            values["batch"] = batch + 1   # 1-based like epoch (Keras 3), not the logs' 0-based index
        try:
            return self.filepath.format_map(values)
        except KeyError as err:
            raise ValueError(f"ModelCheckpoint `filepath` {self.filepath!r} needs {err.args[0]!r}, which is not in "
                             f"the logs (keys: {', '.join(sorted(values))})") from None

    def _say(self, message):
        if self.verbose > 0 and _is_main_process():
            print(message, flush=True)

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        if self.save_best_only:
            current = read_monitor(logs, self.monitor)
            first = batch is None and not self._monitor_read
            if batch is None:
                self._monitor_read = True
            if current is None:
                error = misspelt_monitor_error(self.monitor, logs, self.params, "ModelCheckpoint") \
                    if first and self._monitor_never else None
                if error is not None:
                    raise error
                warn_user(f"Can save best model only with {self.monitor} available, skipping.",
                          RuntimeWarning)
                return
            if not improvement_op(self.mode)(current, self.best):
                self._say(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from {self.best:.5f}")
                return
            path = self._path_for(epoch, batch, logs)
            self._say(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        else:
            path = self._path_for(epoch, batch, logs)
            self._say(f"\nEpoch {epoch + 1:05d}: saving model to {path}")
        self._write(path)

    def _write(self, path):
        self.last_saved_path = path
        # A sharded (FSDP) model and a .dcp checkpoint are saved by every rank together
        # (collectives), so only other saves skip the other ranks here.
        if not _is_main_process() and not is_sharded(self.model) and not path.lower().endswith(".dcp"):
            return
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    # --- resumable state --------------------------------------------------------------
    def state_dict(self):
        return {
            "best": float(self.best),
            "epochs_since_last_save": int(self.epochs_since_last_save),
            "batches_seen_since_last_saving": int(self._batches_seen_since_last_saving),
            "current_epoch": int(self._current_epoch),
            "last_saved_path": self.last_saved_path,
            "monitor": self.monitor,
            "mode": self.mode,
        }

    def load_state_dict(self, state):
        if not isinstance(state, dict) or "best" not in state:
            raise ValueError(f"ModelCheckpoint.load_state_dict expects the dict state_dict() returns, got {state!r}")
        if state.get("monitor", self.monitor) != self.monitor or state.get("mode", self.mode) != self.mode:
            raise ValueError(f"ModelCheckpoint state was saved monitoring {state.get('monitor')!r} "
                             f"({state.get('mode')}), this callback monitors {self.monitor!r} ({self.mode})")
        self.best = float(state["best"])
        self.epochs_since_last_save = int(state.get("epochs_since_last_save", 0))
        self._batches_seen_since_last_saving = int(state.get("batches_seen_since_last_saving", 0))
        self._current_epoch = int(state.get("current_epoch", 0))
        self.last_saved_path = state.get("last_saved_path")
