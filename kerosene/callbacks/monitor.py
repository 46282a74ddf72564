"""One rule for which way a monitored value should go, shared by every monitor callback.

``mode='auto'`` takes the direction from the metric itself: losses and errors go down;
accuracy, AUC, precision, recall and F-scores go up. A name with no known direction is
a clear error asking for ``mode``. ModelCheckpoint, EarlyStopping and ReduceLROnPlateau
all call :func:`resolve_mode`, so they always agree.
"""
from __future__ import annotations

import difflib
import operator

from .._user_warning import warn_user
from ..metrics import direction_of
from .._log_keys import resolve_log_key

__all__ = ["resolve_mode", "improvement_op", "check_monitor", "logged_by_an_earlier_callback", "MODES", "monitor_presence", "read_monitor",
           "check_non_negative_int", "check_number", "check_monitor_name", "Improvement", "close_log_key",
           "misspelt_monitor_error"]

MODES = ("auto", "min", "max")

def _direction_from_name(name):
    """'up', 'down' or None: the metrics module's rule, the only one (val_ prefix ignored)."""
    return direction_of(name)


def validate_mode(mode, owner):
    if mode not in MODES:
        raise ValueError(f"{owner} `mode` must be one of {MODES}, got {mode!r}")
    return mode


def resolve_mode(mode, monitor, owner="callback"):
    """Turn ``'auto'``/``'min'``/``'max'`` into ``'min'`` or ``'max'`` for ``monitor``."""
    validate_mode(mode, owner)
    if mode != "auto":
        return mode
    direction = _direction_from_name(monitor)
    if direction is None:
        raise ValueError(
            f"{owner} cannot tell whether {monitor!r} should go up or down (mode='auto'); "
            "pass mode='min' or mode='max'")
    return "min" if direction == "down" else "max"


def improvement_op(mode):
    """``operator.lt`` for min mode, ``operator.gt`` for max mode."""
    return operator.lt if mode == "min" else operator.gt


def logged_by_an_earlier_callback(callback, key):
    """Whether a callback before ``callback`` in its run may write ``key`` into the epoch logs
    (a user callback computing ``val_auc``, say), so that its absence from ``params['metrics']``
    proves nothing at ``on_train_begin``."""
    callbacks = getattr(getattr(callback, "run", None), "callbacks", None) or ()
    for other in callbacks:
        if other is callback:
            break
        if other.overrides("on_epoch_end"):
            keys = other.written_epoch_keys()
            if keys is None or resolve_log_key(key, list(keys)) is not None:
                return True
    return False


def check_monitor(monitor, params, owner, callback=None):
    """Warn at train begin when ``monitor`` is not among the keys the logs can hold (nor may
    an earlier callback of ``callback``'s run write it)."""
    names = list((params or {}).get("metrics") or [])
    if names and resolve_log_key(monitor, names) is None:
        close = close_log_key(monitor, names, params)
        if not close and callback is not None and logged_by_an_earlier_callback(callback, monitor):
            return False    # another callback may write it: the epoch end tells
        then = (f"did you mean {close!r}? Unless a callback logs {monitor!r}, the end of the first epoch raises "
                "an error" if close else "it will be skipped on every epoch")
        warn_user(f"{owner} monitors {monitor!r}, which this run never logs (available: {', '.join(names)}); "
                  f"{then}", RuntimeWarning)
        return False
    return True


def close_log_key(monitor, keys, params):
    """The key of ``keys`` that ``monitor`` looks like a misspelling of (``'vall_loss'`` for
    ``'val_loss'``), or None. A ``val_*`` monitor in a run without validation is no misspelling:
    Keras 2 only warns that it is missing."""
    if monitor.startswith("val_") and not (params or {}).get("do_validation"):
        return None
    close = difflib.get_close_matches(monitor, sorted(set(keys)), n=1, cutoff=0.8)
    return close[0] if close else None


def misspelt_monitor_error(monitor, logs, params, owner):
    """The error for a monitor missing from the first epoch's logs that looks like a misspelt
    logged key, or None (then the callback warns and skips the epoch, as Keras 2 does).

    The rule the monitor callbacks share: a monitor that ``params['metrics']`` does not hold
    may still be written by another callback, so nothing is decided at ``on_train_begin``
    (a warning says what will happen). At the first epoch end, a monitor still absent whose
    name is close to a key the run logs is an error; any other absent monitor keeps Keras 2's
    warning on each epoch. A monitor logged only on some epochs (``val_*`` with
    ``validation_freq`` > 1) is never an error.
    """
    keys = set(logs or {}) | set((params or {}).get("metrics") or [])
    close = close_log_key(monitor, keys, params)
    if close is None:
        return None
    return ValueError(
        f"{owner} monitors {monitor!r}, which the first epoch did not log; did you mean {close!r}? "
        f"The epoch logged: {', '.join(sorted(logs or {}))}")


# --- shared by EarlyStopping and ReduceLROnPlateau (and usable by any monitor callback) ----
def monitor_presence(monitor, params, owner, warn=True, callback=None):
    """How often ``monitor`` can appear in epoch logs: ``'always'``, ``'sometimes'``,
    ``'never'`` or ``'unknown'`` (no ``params['metrics']``), warning for the last two cases
    that matter.

    ``'sometimes'`` is a ``val_*`` monitor with ``validation_freq`` other than 1: the
    callback warns once here and then skips the epochs without validation silently.
    """
    params = params or {}
    names = list(params.get("metrics") or [])
    if not names:
        return "unknown"
    if resolve_log_key(monitor, names) is None:
        if warn:
            check_monitor(monitor, params, owner, callback)
        return "never"
    freq = params.get("validation_freq", 1)
    if monitor.startswith("val_") and freq != 1:
        if warn:
            warn_user(
                f"{owner} monitors {monitor!r}, which is only logged on epochs with validation "
                f"(validation_freq={freq!r}); the epochs without it are skipped",
                RuntimeWarning)
        return "sometimes"
    return "always"


def read_monitor(logs, monitor):
    """The monitored value from ``logs`` as a Python float, or ``None`` when absent.

    Keras 2.2's spelling and the logged one find the same value (``val_acc``/``val_accuracy``).
    """
    key = resolve_log_key(monitor, logs) if logs else None
    if key is None:
        return None
    value = logs[key]
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


def check_non_negative_int(name, value, owner):
    """``value`` as an int, or a ValueError naming ``name`` when it is not an int >= 0."""
    import numbers
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{owner} `{name}` must be an integer >= 0, got {value!r}")
    return int(value)


def check_number(name, value, owner, allow_none=False, low=None):
    """``value`` as a float, or a TypeError/ValueError naming ``name``."""
    import math
    import numbers
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} `{name}` must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{owner} `{name}` must be a number, got nan")
    if low is not None and value < low:
        raise ValueError(f"{owner} `{name}` must be >= {low}, got {value!r}")
    return value


def check_monitor_name(monitor, owner):
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"{owner} `monitor` must be a metric name such as 'val_loss', got {monitor!r}")
    return monitor


class Improvement:
    """Whether a value improves on a reference by more than ``min_delta`` in a direction.

    Example::

        better = Improvement('min', min_delta=0.01)
        better(0.5, 0.52)   # True: 0.5 < 0.52 - 0.01
    """

    def __init__(self, mode, min_delta=0.0):
        self.mode = mode
        self.min_delta = abs(float(min_delta))
        self._op = improvement_op(mode)

    @property
    def worst(self):
        """The reference every first value beats: +inf for min, -inf for max."""
        return float("inf") if self.mode == "min" else float("-inf")

    def __call__(self, current, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return self._op(current, reference - self.min_delta)
        return self._op(current, reference + self.min_delta)


def warn_monitor_missing(what, monitor, logs, presence):
    """Keras's warning for an epoch whose logs lack ``monitor``, unless it is only sometimes logged."""
    if presence != "sometimes":
        warn_user(
            f"{what} conditioned on metric `{monitor}` which is not available. "
            f"Available metrics are: {','.join(logs or {})}", RuntimeWarning)
