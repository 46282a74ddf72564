"""Keras's metric classes (:class:`Metric` and the built-ins), and choosing ``'accuracy'`` from the loss.

    >>> from kerosene.metrics.classes import BinaryAccuracy
    >>> BinaryAccuracy().name
    'binary_accuracy'
"""
from __future__ import annotations

import torch

from .. import losses as _losses
from .._naming import to_snake_case
from .._registry import Registry
from .direction import direction_of
from .functions import (accuracy, binary_accuracy, categorical_accuracy, cosine_similarity, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, sparse_top_k_per_sample,
                        top_k_categorical_accuracy, top_k_per_sample)

__all__ = [
    "Metric", "StatefulMetric", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "CosineSimilarity",
]


class Metric:
    """A stateless batch metric: ``metric(y_true, y_pred)`` is the batch mean.

    Wraps ``fn(y_true, y_pred, **kwargs)`` returning per-sample (or scalar)
    values; or subclass and override ``call``. ``name`` is the key it logs under;
    ``direction`` is ``'up'`` (higher is better), ``'down'`` or ``None``.

    Example:
        >>> import torch
        >>> from kerosene.metrics import Metric
        >>> def mean_pred(y_true, y_pred):
        ...     return y_pred.mean(-1)
        >>> m = Metric(mean_pred, direction="up")
        >>> m.name, float(m(torch.zeros(2, 1), torch.ones(2, 1)))
        ('mean_pred', 1.0)
    """

    _fn = None
    _default_name = None
    _default_direction = None
    _options = {}
    stateful = False   # True: the value is a running one the metric keeps; fit/evaluate reset it

    def __init__(self, fn=None, name=None, direction=None, **kwargs):
        if fn is not None and not callable(fn):
            raise TypeError(f"Metric: `fn` must be callable, got {fn!r}.")
        if fn is None and type(self)._fn is None and type(self).call is Metric.call:
            raise TypeError("Metric: pass a function `fn(y_true, y_pred)` or subclass "
                            "Metric and override call().")
        unknown = set(kwargs) - set(self._options) if fn is None else set()
        if unknown:
            accepted = ", ".join(["name", *self._options])
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                            f"{sorted(unknown)[0]!r}. Accepted: {accepted}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: `name` must be a str, got {name!r}.")
        if direction not in (None, "up", "down"):
            raise ValueError(f"{type(self).__name__}: `direction` must be 'up', 'down' "
                             f"or None, got {direction!r}.")
        self.fn = fn if fn is not None else type(self)._fn
        self._kwargs = {**self._options, **kwargs}
        for key in self._options:
            setattr(self, key, self._kwargs[key])
        self.name = name or self._default_name or getattr(self.fn, "__name__", None) \
            or to_snake_case(type(self).__name__)
        self.direction = direction or self._default_direction or direction_of(self.name)

    def call(self, y_true, y_pred):
        """Per-sample metric values."""
        return self.fn(y_true, y_pred, **self._kwargs)

    def __call__(self, y_true, y_pred):
        if not (isinstance(y_pred, torch.Tensor) and isinstance(y_true, torch.Tensor)):
            y_true, y_pred = _losses._prepare_user(y_true, y_pred)
        values = self.call(y_true, y_pred)
        if not isinstance(values, torch.Tensor):
            return torch.as_tensor(values, dtype=torch.get_default_dtype())
        if values.dim():
            values = values.mean()
        return values

    def reset_states(self):
        """Start a stateful metric's running value again (nothing for a batch metric)."""

    def get_config(self):
        return {"name": self.name, **{k: self._kwargs[k] for k in self._options}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} direction={self.direction!r}>"


class StatefulMetric(Metric):
    """Keras 2.2's stateful metric: an object (usually a ``Layer``) with ``stateful = True``,
    ``reset_states()`` and ``__call__(y_true, y_pred)`` returning its running value, which is
    what fit and evaluate log; they call ``reset_states()`` at each epoch's (and evaluation's) start.

    Example:
        >>> import torch
        >>> class Count:
        ...     stateful, name, seen = True, "seen", 0
        ...     def reset_states(self):
        ...         self.seen = 0
        ...     def __call__(self, y_true, y_pred):
        ...         self.seen += len(y_true)
        ...         return torch.tensor(float(self.seen))
        >>> m = StatefulMetric(Count())
        >>> _ = m(torch.zeros(2, 1), torch.zeros(2, 1)); float(m(torch.zeros(3, 1), torch.zeros(3, 1)))
        5.0
        >>> m.reset_states(); m.keeper.seen
        0
    """

    stateful = True

    def __init__(self, keeper, name=None, direction=None):
        if not callable(getattr(keeper, "reset_states", None)):
            raise TypeError(f"a stateful metric needs a reset_states() method; {type(keeper).__name__} has none")
        own = getattr(keeper, "name", None)
        super().__init__(keeper, name=name or (own if isinstance(own, str) else None), direction=direction)
        self.keeper = keeper

    def call(self, y_true, y_pred):
        _follow_device(self.keeper, y_pred)
        return self.keeper(y_true, y_pred)

    def reset_states(self):
        self.keeper.reset_states()


def _follow_device(keeper, y_pred):
    """Move the state tensors a Keras 2 metric keeps as attributes (``K.variable``, made on the
    CPU) to the data's device, so its in-place ``K.update_add`` works on a GPU."""
    device = getattr(y_pred, "device", None)
    if device is None:
        return
    for key, value in list(vars(keeper).items()):
        if isinstance(value, torch.Tensor) and value.device != device:
            setattr(keeper, key, value.to(device))
    if isinstance(keeper, torch.nn.Module) and any(t.device != device for t in keeper.buffers()):
        keeper.to(device)


def _metric_class(class_name, fn, name, direction, doc, **options):
    return type(class_name, (Metric,), {
        "_fn": staticmethod(fn), "_default_name": name, "_default_direction": direction,
        "_options": options, "__doc__": doc, "__module__": __name__,
    })


def _doc(what, cls, args, call):
    return (f"{what}\n\n    Example:\n        >>> import torch\n"
            f"        >>> from kerosene.metrics import {cls}\n"
            f"        >>> m = {cls}({args})\n        >>> round(float(m({call})), 4)\n"
            f"        1.0\n    ")


Accuracy = _metric_class(
    "Accuracy", accuracy, "accuracy", "up",
    _doc("Exact-match accuracy.", "Accuracy", "", "torch.ones(2, 1), torch.ones(2, 1)"))
BinaryAccuracy = _metric_class(
    "BinaryAccuracy", binary_accuracy, "binary_accuracy", "up",
    _doc("Binary accuracy at ``threshold`` (default 0.5).", "BinaryAccuracy",
         "threshold=0.5", "torch.ones(2, 1), torch.full((2, 1), 0.9)"),
    threshold=0.5)
CategoricalAccuracy = _metric_class(
    "CategoricalAccuracy", categorical_accuracy, "categorical_accuracy", "up",
    _doc("Accuracy for one-hot targets.", "CategoricalAccuracy", "",
         "torch.eye(2), torch.eye(2)"))
SparseCategoricalAccuracy = _metric_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy,
    "sparse_categorical_accuracy", "up",
    _doc("Accuracy for integer labels.", "SparseCategoricalAccuracy", "",
         "torch.tensor([0, 1]), torch.eye(2)"))
TopKCategoricalAccuracy = _metric_class(
    "TopKCategoricalAccuracy", top_k_per_sample,
    "top_k_categorical_accuracy", "up",
    _doc("Top-k accuracy for one-hot targets (default k=5).",
         "TopKCategoricalAccuracy", "k=2", "torch.eye(3), torch.eye(3)"), k=5)
SparseTopKCategoricalAccuracy = _metric_class(
    "SparseTopKCategoricalAccuracy", sparse_top_k_per_sample,
    "sparse_top_k_categorical_accuracy", "up",
    _doc("Top-k accuracy for integer labels (default k=5).",
         "SparseTopKCategoricalAccuracy", "k=2", "torch.tensor([0, 1]), torch.eye(2)"),
    k=5)
MeanSquaredError = _metric_class(
    "MeanSquaredError", mean_squared_error, "mean_squared_error", "down",
    _doc("Mean squared error.", "MeanSquaredError", "",
         "torch.zeros(2, 1), torch.ones(2, 1)"))
MeanAbsoluteError = _metric_class(
    "MeanAbsoluteError", mean_absolute_error, "mean_absolute_error", "down",
    _doc("Mean absolute error.", "MeanAbsoluteError", "",
         "torch.zeros(2, 1), torch.ones(2, 1)"))
MeanAbsolutePercentageError = _metric_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "down",
    _doc("Mean absolute percentage error.", "MeanAbsolutePercentageError", "",
         "torch.full((2, 1), 100.), torch.full((2, 1), 99.)"))
MeanSquaredLogarithmicError = _metric_class(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "down",
    _doc("Mean squared logarithmic error.", "MeanSquaredLogarithmicError", "",
         "torch.zeros(1, 1), torch.full((1, 1), 1.718281828)"))
CosineSimilarity = _metric_class(
    "CosineSimilarity", cosine_similarity, "cosine_similarity", "up",
    _doc("Cosine similarity (positive).", "CosineSimilarity", "",
         "torch.ones(2, 2), torch.ones(2, 2)"), axis=-1)

_CLASSES = Registry({cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity)})

_NAMES = Registry({
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "cosine_similarity": CosineSimilarity,
})
_FUNCTIONS = {cls._fn: cls for cls in _CLASSES.values()}
_FUNCTIONS.update({top_k_categorical_accuracy: TopKCategoricalAccuracy,
                   sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy})


# ---------------------------------------------------------- accuracy choice
_CE_KIND = {
    "categorical_crossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse",
    "binary_crossentropy": "binary",
    "categoricalcrossentropy": "categorical",
    "sparsecategoricalcrossentropy": "sparse",
    "binarycrossentropy": "binary",
    # torch losses a user may pass to compile
    "bceloss": "binary", "bcewithlogitsloss": "binary", "nllloss": "sparse",
    "binary_cross_entropy": "binary", "binary_cross_entropy_with_logits": "binary",
    "nll_loss": "sparse", "cross_entropy": "auto", "crossentropyloss": "auto",
}


def _loss_kind(loss):
    """'categorical' | 'sparse' | 'binary' | 'auto' | None for a loss spec."""
    if loss is None:
        return None
    if isinstance(loss, dict):
        loss = loss.get("class_name")
    if isinstance(loss, _losses.LossFunctionWrapper):
        loss = loss.fn
    if isinstance(loss, str):
        name = loss
    elif isinstance(loss, type):
        name = loss.__name__
    else:
        name = getattr(loss, "__name__", None) or type(loss).__name__
    return _CE_KIND.get(str(name).lower())


class _AutoAccuracy(Metric):
    """Accuracy that picks binary/categorical/sparse from the batch's shapes."""

    _default_direction = "up"

    def call(self, y_true, y_pred):
        y_pred = _losses._as_tensor(y_pred)
        y_true = _losses._as_tensor(y_true, y_pred)
        if y_pred.dim() and y_pred.shape[-1] == 1 or y_pred.dim() == 1:
            return binary_accuracy(y_true, y_pred)
        if y_true.shape == y_pred.shape:
            return categorical_accuracy(y_true, y_pred)
        return sparse_categorical_accuracy(y_true, y_pred)


def _crossentropy(name, loss, output_shape):
    """Keras 2.2's ``'ce'``/``'crossentropy'``: the crossentropy matching the loss, else the
    output (binary for one unit, categorical otherwise)."""
    kind = _loss_kind(loss)
    if kind in (None, "auto"):
        one_unit = output_shape is not None and (not tuple(output_shape) or tuple(output_shape)[-1] == 1)
        kind = "binary" if one_unit else "categorical"
    fn = {"binary": _losses.binary_crossentropy, "sparse": _losses.sparse_categorical_crossentropy}.get(
        kind, _losses.categorical_crossentropy)
    return Metric(fn, name=name, direction="down")


def _accuracy(name, loss, output_shape):
    kind = _loss_kind(loss)
    if kind in (None, "auto") and output_shape is not None:
        shape = tuple(output_shape)
        if not shape or shape[-1] == 1:
            kind = "binary"
        elif kind is None:
            kind = "categorical"
        # a torch CrossEntropyLoss takes labels or probabilities: decide per batch
    if kind == "binary":
        return BinaryAccuracy(name=name)
    if kind == "sparse":
        return SparseCategoricalAccuracy(name=name)
    if kind == "categorical":
        return CategoricalAccuracy(name=name)
    return _AutoAccuracy(fn=None, name=name)
