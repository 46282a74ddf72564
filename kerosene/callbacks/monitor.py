"""One rule for which way a monitored value should go, shared by every monitor callback.

``mode='auto'`` takes the direction from the metric itself: losses and errors go down;
accuracy, AUC, precision, recall and F-scores go up. A name with no known direction is
a clear error asking for ``mode``. ModelCheckpoint, EarlyStopping and ReduceLROnPlateau
all call :func:`resolve_mode`, so they always agree.
"""
from __future__ import annotations

import operator
import warnings

__all__ = ["resolve_mode", "improvement_op", "check_monitor", "MODES"]

MODES = ("auto", "min", "max")

_UP_WORDS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "fmeasure", "f_score", "fscore",
             "iou", "r2", "top_k", "cosine_similarity", "psnr", "ssim")
_DOWN_WORDS = ("loss", "error", "crossentropy", "mse", "mae", "mape", "msle", "hinge", "huber",
               "poisson", "divergence", "kld", "logcosh", "log_cosh", "rmse")


def _direction_from_name(name):
    base = name[4:] if name.startswith("val_") else name
    try:
        from .. import metrics as metrics_module
        direction = metrics_module.direction_of(base)
        if direction is not None:
            return direction
    except (ImportError, AttributeError):
        pass
    lowered = base.lower()
    if lowered in ("lr", "learning_rate"):
        return None
    if any(word in lowered for word in _DOWN_WORDS):
        return "down"
    if any(word in lowered for word in _UP_WORDS):
        return "up"
    return None


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


def check_monitor(monitor, params, owner):
    """Warn at train begin when ``monitor`` is not among the keys the logs can hold."""
    names = list((params or {}).get("metrics") or [])
    if names and monitor not in names:
        warnings.warn(
            f"{owner} monitors {monitor!r}, which this run never logs (available: {', '.join(names)}); "
            "it will be skipped on every epoch", RuntimeWarning, stacklevel=3)
        return False
    return True
