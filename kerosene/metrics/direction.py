"""Which way a monitored quantity improves: ``'up'``, ``'down'`` or ``None``, from its name.

The one rule ModelCheckpoint, EarlyStopping and ReduceLROnPlateau share for ``mode='auto'``.

    >>> direction_of('val_loss'), direction_of('acc')
    ('down', 'up')
"""
from __future__ import annotations

import re

__all__ = ["direction_of"]

_DOWN_TOKENS = {"loss", "mse", "mae", "mape", "msle", "rmse", "kld", "ce", "cosine", "error", "hinge",
                "poisson", "logcosh", "huber", "crossentropy", "divergence",
                "entropy", "mean_squared", "mean_absolute"}
_DOWN_SUBSTRINGS = ("loss", "error", "crossentropy", "hinge", "divergence", "logcosh",
                    "log_cosh", "huber", "poisson", "cosine_proximity")
_UP_TOKENS = {"acc", "accuracy", "auc", "precision", "recall", "f1", "fbeta",
              "fmeasure", "fscore", "iou", "r2", "psnr", "ssim", "top", "sensitivity",
              "specificity"}
_UP_SUBSTRINGS = ("accuracy", "precision", "recall", "fbeta", "fmeasure", "f1_score",
                  "top_k", "cosine_similarity", "auc")


def direction_of(name):
    """``'up'``, ``'down'`` or ``None`` for a monitored quantity's name.

    A ``val_`` prefix is ignored. Losses and errors (``loss``, ``mse``, ``mae``,
    ``*_error``, ``*crossentropy``, ``hinge``, ...) go down; ``acc``, accuracies,
    ``auc``, precision, recall, F-scores and top-k accuracies go up. Unknown
    names (including ``lr``) give ``None``.

    Example:
        >>> from kerosene.metrics import direction_of
        >>> [direction_of(n) for n in ("val_loss", "acc", "val_auc", "mse", "lr")]
        ['down', 'up', 'up', 'down', None]
    """
    if not isinstance(name, str):
        raise TypeError(f"direction_of() expects a metric name (str), got {name!r}.")
    base = name[4:] if name.startswith("val_") else name
    base = base.lower()
    if base in ("lr", "learning_rate", ""):
        return None
    tokens = set(re.split(r"[^a-z0-9]+", base))
    if tokens & _DOWN_TOKENS or any(s in base for s in _DOWN_SUBSTRINGS):
        return "down"
    if tokens & _UP_TOKENS or any(s in base for s in _UP_SUBSTRINGS):
        return "up"
    return None
