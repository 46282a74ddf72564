"""Keras metrics as stateless batch functions, and Keras 2.2's stateful metrics.

A :class:`Metric` is a callable ``metric(y_true, y_pred) -> scalar tensor``: the mean
of its per-sample values over the batch. The engine aggregates epoch values as
size-weighted means of batch values (Keras 2 semantics), so metrics keep no state.
A :class:`StatefulMetric` (any object with ``stateful = True`` and ``reset_states()``,
e.g. a ``Layer``) returns a running value instead: that is logged as it is, and fit and
evaluate reset it at the start of each epoch and evaluation.

``get('accuracy')`` (or ``'acc'``) resolves from the loss as Keras does:
categorical_crossentropy -> categorical accuracy, sparse_categorical_crossentropy ->
sparse categorical accuracy, binary_crossentropy -> binary accuracy; for other
losses the output shape decides (last dimension 1 -> binary, else categorical).

Example:
    >>> import torch
    >>> from kerosene import metrics
    >>> acc = metrics.get("acc", loss="sparse_categorical_crossentropy")
    >>> acc.name, acc.direction
    ('acc', 'up')
    >>> float(acc(torch.tensor([0, 1]), torch.tensor([[.9, .1], [.8, .2]])))
    0.5
    >>> metrics.direction_of("val_loss"), metrics.direction_of("val_acc")
    ('down', 'up')
"""
from __future__ import annotations

from .. import losses as _losses
from .._naming import to_snake_case
from .._custom_objects import get_custom_objects
from .._registry import serialize_keras2, split_config
from ..errors import UninterpretableError
from .classes import (Metric, StatefulMetric, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                      TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
                      MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
                      CosineSimilarity, _CLASSES, _FUNCTIONS, _NAMES, _accuracy, _crossentropy)
from .functions import (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
                        mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
                        mse, mae, mape, msle, cosine_similarity)
from .functions import (binary_crossentropy, categorical_crossentropy, categorical_hinge, cosine,  # Keras 2.2
                        cosine_proximity, hinge, kld, kullback_leibler_divergence, logcosh, poisson,
                        sparse_categorical_crossentropy, squared_hinge)
from .direction import direction_of

__all__ = [
    "Metric", "StatefulMetric", "get", "serialize", "deserialize", "direction_of",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "CosineSimilarity",
    "accuracy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "mse", "mae", "mape", "msle", "cosine_similarity",
    "hinge", "squared_hinge", "categorical_hinge", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "kullback_leibler_divergence", "kld",
    "poisson", "logcosh", "cosine_proximity", "cosine",
]


# ------------------------------------------------------------------ registry
def _accepted():
    return ", ".join(["'accuracy'", "'acc'", "'crossentropy'", "'ce'", *(repr(n) for n in _NAMES)]) + \
        ", or any loss name"


def get(identifier, loss=None, output_shape=None, custom_objects=None):
    """Resolve ``identifier`` to a :class:`Metric`.

    Accepts ``'accuracy'``/``'acc'`` (resolved from ``loss`` and ``output_shape``,
    the model output's shape with the batch first), metric names (``'mse'``,
    ``'top_k_categorical_accuracy'``, ...), any loss name, a ``Metric`` instance or
    class, a kerosene ``Loss``, a ``{'class_name', 'config'}`` dict, or a callable
    ``fn(y_true, y_pred)``. Strings log under the name given; objects under their
    Keras snake-case name; functions under ``__name__``.

    Example:
        >>> from kerosene import metrics
        >>> metrics.get("accuracy", loss="binary_crossentropy").fn.__name__
        'binary_accuracy'
        >>> metrics.get("mse").name
        'mse'
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if custom_objects and identifier in custom_objects:
            return get(custom_objects[identifier])
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            return _accuracy(identifier, loss, output_shape)
        if key in ("crossentropy", "ce"):
            return _crossentropy(identifier, loss, output_shape)
        cls = _CLASSES.find(identifier) or _NAMES.find(key)
        if cls is not None:
            return cls(name=identifier)
        loss_cls = _losses._NAMES.find(key) or _losses._CLASSES.find(identifier)
        if loss_cls is not None:
            return Metric(loss_cls._fn, name=identifier, direction="down")
        raise ValueError(f"Unknown metric: {identifier!r}. Accepted names: "
                         f"{_accepted()}.")
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, _losses.Loss):
        return Metric(identifier.call, name=identifier.name, direction="down")
    if isinstance(identifier, type):
        if issubclass(identifier, Metric):
            return identifier()
        if issubclass(identifier, _losses.Loss):
            return get(identifier())
        raise TypeError(f"Could not interpret metric class {identifier.__name__}: "
                        f"expected a kerosene Metric or Loss subclass.")
    if callable(identifier) and getattr(identifier, "stateful", False) is True:
        return StatefulMetric(identifier)          # Keras 2.2: a Layer with stateful=True
    if callable(identifier):
        cls = _FUNCTIONS.get(identifier)
        if cls is not None:
            return cls()
        for name, fn in _losses.FUNCTIONS.items():
            if fn is identifier:
                return Metric(fn, name=fn.__name__, direction="down")
        return Metric(identifier, name=getattr(identifier, "__name__", None)
                      or to_snake_case(type(identifier).__name__))
    raise UninterpretableError(
        f"Could not interpret metric identifier {identifier!r} (type "
        f"{type(identifier).__name__}): expected a metric name ({_accepted()}), a "
        f"Metric, or a callable fn(y_true, y_pred)."
    )


def serialize(metric):
    """``{'class_name': ..., 'config': ...}`` for a built-in metric.

    Example:
        >>> from kerosene import metrics
        >>> metrics.serialize(metrics.BinaryAccuracy(threshold=0.3))["config"]
        {'name': 'binary_accuracy', 'threshold': 0.3}
    """
    return serialize_keras2(metric, lambda obj: isinstance(obj, Metric), "a kerosene Metric")


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`: registered classes and ``custom_objects`` only.

    Example:
        >>> from kerosene import metrics
        >>> metrics.deserialize({"class_name": "CategoricalAccuracy", "config": {}}).name
        'categorical_accuracy'
    """
    if isinstance(config, str):  # a name: a custom object as it is, else a built-in metric
        for table in (custom_objects, get_custom_objects()):
            if table and config in table:
                return table[config]
        return get(config)
    name, inner = split_config(config)
    scope = {**get_custom_objects(), **(custom_objects or {})}
    if name in scope:
        obj = scope[name]
        if isinstance(obj, type) and hasattr(obj, "from_config"):
            return obj.from_config(inner)
        return get(obj)
    cls = _CLASSES.find(name)
    if cls is None:
        raise ValueError(f"Unknown metric class: {name!r}. Accepted: "
                         f"{', '.join(sorted(_CLASSES))}.")
    return cls.from_config(inner)
