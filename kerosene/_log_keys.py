"""Log keys under Keras 2.2's spellings: ``val_acc`` finds ``val_accuracy`` and the other way round.

    >>> from kerosene._log_keys import AliasedLogs, resolve_log_key
    >>> resolve_log_key('val_acc', ['loss', 'val_accuracy'])
    'val_accuracy'
    >>> AliasedLogs(accuracy=0.5)['acc']
    0.5

This module imports nothing of kerosene: the engine's logs, History and the monitor
callbacks all read keys through it.
"""
from __future__ import annotations

__all__ = ["LOG_ALIASES", "resolve_log_key", "AliasedLogs"]

# Keras 2.2 logged some metrics under short names (``acc``, ``val_acc``) and others under
# the function's full name (``mean_squared_error`` for ``'mse'``); kerosene logs the name
# given. Each pair's spellings resolve to whichever one a run logs, also after a ``val_``
# or an output-name prefix, so either spelling reads the same single entry.
LOG_ALIASES = (
    ("acc", "accuracy"),
    ("ce", "crossentropy"),
    ("mse", "mean_squared_error"),
    ("mae", "mean_absolute_error"),
    ("mape", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"),
    ("cosine", "cosine_proximity"),
    ("kld", "kullback_leibler_divergence"),
)
_SPELLINGS = [(a, b) for pair in LOG_ALIASES for a, b in (pair, pair[::-1])]


def _variants(key):
    """The other spellings of a log key: ``val_acc`` -> ``val_accuracy``."""
    for name, other in _SPELLINGS:
        if key == name or key.endswith("_" + name):
            yield key[:len(key) - len(name)] + other


def resolve_log_key(key, keys):
    """The entry of ``keys`` that ``key`` names (itself or another spelling), or None.

    Example::

        resolve_log_key('val_acc', ['loss', 'val_accuracy'])   # 'val_accuracy'
    """
    if key in keys:
        return key
    if isinstance(key, str):
        for variant in _variants(key):
            if variant in keys:
                return variant
    return None


class AliasedLogs(dict):
    """A dict of logs in which a key's other Keras spelling finds the same entry.

    Only reads resolve: iteration, ``keys()`` and writes see the keys as logged, so a
    CSV or History gets one column per value.

    Example::

        logs = AliasedLogs(accuracy=0.9)
        logs['acc'], 'acc' in logs, list(logs)   # 0.9, True, ['accuracy']
    """

    __slots__ = ()

    def __missing__(self, key):
        for variant in _variants(key) if isinstance(key, str) else ():
            if dict.__contains__(self, variant):
                return dict.__getitem__(self, variant)
        raise KeyError(key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or resolve_log_key(key, dict.keys(self)) is not None

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default
