"""Keras metrics as stateless batch functions.

A :class:`Metric` is a callable ``metric(y_true, y_pred) -> scalar tensor``: the mean
of its per-sample values over the batch. The engine aggregates epoch values as
size-weighted means of batch values (Keras 2 semantics), so metrics keep no state.

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

import re

import torch

from . import losses as _losses
from ._naming import to_snake_case
from ._registry import Registry, serialize_object

__all__ = [
    "Metric", "get", "serialize", "deserialize", "direction_of",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "CosineSimilarity",
    "accuracy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "mse", "mae", "mape", "msle", "cosine_similarity",
]

# regression metrics are the loss functions themselves
mean_squared_error = mse = _losses.mean_squared_error
mean_absolute_error = mae = _losses.mean_absolute_error
mean_absolute_percentage_error = mape = _losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = msle = _losses.mean_squared_logarithmic_error


def _float_dtype(t):
    return t.dtype if t.is_floating_point() else torch.get_default_dtype()


# ----------------------------------------------------------------- functions
def accuracy(y_true, y_pred):
    """Exact equality of targets and predictions, averaged over the last axis.

    Example:
        >>> import torch
        >>> from kerosene.metrics import accuracy
        >>> accuracy(torch.tensor([[1., 2.]]), torch.tensor([[1., 3.]]))
        tensor([0.5000])
    """
    y_true, y_pred = _losses._regression(y_true, y_pred)
    return (y_true == y_pred).to(_float_dtype(y_pred)).mean(-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Share of ``(y_pred > threshold) == y_true``, averaged over the last axis.

    Example:
        >>> import torch
        >>> from kerosene.metrics import binary_accuracy
        >>> binary_accuracy(torch.tensor([[1.], [0.]]), torch.tensor([[.7], [.6]]))
        tensor([1., 0.])
    """
    y_true, y_pred = _losses._regression(y_true, y_pred)
    hits = (y_pred > threshold).to(y_true.dtype) == y_true
    return hits.to(_float_dtype(y_pred)).mean(-1)


def categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_pred) == argmax(y_true)`` (one-hot targets), else 0.

    Example:
        >>> import torch
        >>> from kerosene.metrics import categorical_accuracy
        >>> categorical_accuracy(torch.tensor([[0., 1.]]), torch.tensor([[.3, .7]]))
        tensor([1.])
    """
    y_pred = _losses._as_tensor(y_pred)
    y_true = _losses._as_tensor(y_true, y_pred)
    hits = y_true.argmax(-1) == y_pred.argmax(-1)
    return hits.to(_float_dtype(y_pred))


def _sparse_labels(y_true, y_pred):
    y_pred = _losses._as_tensor(y_pred)
    y_true = _losses._as_tensor(y_true, y_pred)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true, y_pred


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_pred)`` equals the integer label (shape ``(n,)``/``(n, 1)``).

    Example:
        >>> import torch
        >>> from kerosene.metrics import sparse_categorical_accuracy
        >>> sparse_categorical_accuracy(torch.tensor([1, 0]), torch.tensor([[.3, .7], [.4, .6]]))
        tensor([1., 0.])
    """
    y_true, y_pred = _sparse_labels(y_true, y_pred)
    pred = y_pred.argmax(-1)
    hits = pred.to(y_true.dtype) == y_true if y_true.is_floating_point() \
        else pred == y_true.long()
    return hits.to(_float_dtype(y_pred))


def _in_top_k(labels, y_pred, k):
    k = min(int(k), y_pred.shape[-1])
    kth = y_pred.topk(k, dim=-1).values[..., -1:]
    target = y_pred.gather(-1, labels.long().unsqueeze(-1))
    return (target >= kth).squeeze(-1).to(_float_dtype(y_pred))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the true class (argmax of one-hot ``y_true``) is in the top ``k``.

    Example:
        >>> import torch
        >>> from kerosene.metrics import top_k_categorical_accuracy
        >>> top_k_categorical_accuracy(torch.tensor([[0., 0., 1.]]), torch.tensor([[.5, .2, .3]]), k=2)
        tensor([1.])
    """
    y_pred = _losses._as_tensor(y_pred)
    y_true = _losses._as_tensor(y_true, y_pred)
    return _in_top_k(y_true.argmax(-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the integer label is among the top ``k`` predictions.

    Example:
        >>> import torch
        >>> from kerosene.metrics import sparse_top_k_categorical_accuracy
        >>> sparse_top_k_categorical_accuracy(torch.tensor([2]), torch.tensor([[.5, .2, .3]]), k=2)
        tensor([1.])
    """
    y_true, y_pred = _sparse_labels(y_true, y_pred)
    return _in_top_k(y_true, y_pred, k)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity per sample (positive: 1 means same direction).

    This is Keras's metric; the loss of the same name is its negative.

    Example:
        >>> import torch
        >>> from kerosene.metrics import cosine_similarity
        >>> cosine_similarity(torch.tensor([[1., 0.]]), torch.tensor([[2., 0.]]))
        tensor([1.])
    """
    return -_losses.cosine_similarity(y_true, y_pred, axis)


# ------------------------------------------------------------------- classes
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

    def get_config(self):
        return {"name": self.name, **{k: self._kwargs[k] for k in self._options}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} direction={self.direction!r}>"


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
    "TopKCategoricalAccuracy", top_k_categorical_accuracy,
    "top_k_categorical_accuracy", "up",
    _doc("Top-k accuracy for one-hot targets (default k=5).",
         "TopKCategoricalAccuracy", "k=2", "torch.eye(3), torch.eye(3)"), k=5)
SparseTopKCategoricalAccuracy = _metric_class(
    "SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
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


# ------------------------------------------------------------------ registry
def _accepted():
    return ", ".join(["'accuracy'", "'acc'", *(repr(n) for n in _NAMES)]) + \
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
    if callable(identifier):
        cls = _FUNCTIONS.get(identifier)
        if cls is not None:
            return cls()
        for name, fn in _losses.FUNCTIONS.items():
            if fn is identifier:
                return Metric(fn, name=fn.__name__, direction="down")
        return Metric(identifier, name=getattr(identifier, "__name__", None)
                      or to_snake_case(type(identifier).__name__))
    raise TypeError(
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
    if not isinstance(metric, Metric):
        raise TypeError(f"serialize() expects a kerosene Metric, got "
                        f"{type(metric).__name__}.")
    return serialize_object(metric)


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`: registered classes and ``custom_objects`` only.

    Example:
        >>> from kerosene import metrics
        >>> metrics.deserialize({"class_name": "CategoricalAccuracy", "config": {}}).name
        'categorical_accuracy'
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"deserialize() expects a dict with 'class_name' and "
                         f"'config', got {config!r}.")
    name = config["class_name"]
    if custom_objects and name in custom_objects:
        obj = custom_objects[name]
        if isinstance(obj, type) and hasattr(obj, "from_config"):
            return obj.from_config(dict(config.get("config") or {}))
        return get(obj)
    cls = _CLASSES.find(name)
    if cls is None:
        raise ValueError(f"Unknown metric class: {name!r}. Accepted: "
                         f"{', '.join(sorted(_CLASSES))}.")
    return cls.from_config(dict(config.get("config") or {}))


# ------------------------------------------------------------------ direction
_DOWN_TOKENS = {"loss", "mse", "mae", "mape", "msle", "rmse", "kld", "error", "hinge",
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
