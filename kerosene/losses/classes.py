"""Keras's ``Loss`` classes: each reduces a loss function's per-sample values to a scalar.

    >>> import torch
    >>> from kerosene.losses.classes import MeanSquaredError
    >>> float(MeanSquaredError()(torch.zeros(2, 3), torch.ones(2, 3)))
    1.0
"""
from __future__ import annotations

import torch

from .._naming import to_snake_case
from .functions import (_REDUCTIONS, _as_tensor, _prepare_user, binary_crossentropy, categorical_crossentropy, categorical_hinge,
                        cosine_similarity, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
                        sparse_categorical_crossentropy, squared_hinge)

__all__ = [
    "Loss", "LossFunctionWrapper", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "KLDivergence", "Hinge", "SquaredHinge",
    "CategoricalHinge", "Poisson", "LogCosh", "CosineSimilarity",
]


class Loss:
    """Base class: ``call`` gives per-sample losses, ``__call__`` reduces them.

    Subclass and override ``call(y_true, y_pred)``. ``reduction`` is
    ``'sum_over_batch_size'`` (default; ``'auto'`` and ``'mean'`` are aliases),
    ``'sum'`` or ``'none'``.

    Example:
        >>> import torch
        >>> from kerosene.losses import Loss
        >>> class MyMSE(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return (y_true - y_pred).square().mean(-1)
        >>> MyMSE()(torch.zeros(2, 3), torch.ones(2, 3))
        tensor(1.)
        >>> MyMSE().name
        'my_mse'
    """

    direction = "down"

    def __init__(self, reduction="sum_over_batch_size", name=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: unknown `reduction` {reduction!r}; accepted: "
                f"'sum_over_batch_size', 'auto', 'mean', 'sum', 'none'."
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: `name` must be a str, got {name!r}.")
        self.reduction = reduction
        self.name = name or to_snake_case(type(self).__name__)

    def call(self, y_true, y_pred):
        """Per-sample losses, shape ``(batch,)`` or ``(batch, ...)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not (isinstance(y_pred, torch.Tensor) and isinstance(y_true, torch.Tensor)):
            y_true, y_pred = _prepare_user(y_true, y_pred)
        values = self.call(y_true, y_pred)
        if not isinstance(values, torch.Tensor):
            values = _as_tensor(values)
        if sample_weight is not None:
            sw = _as_tensor(sample_weight, values, values.dtype)
            if sw.dim() > values.dim() and sw.shape[-1] == 1:
                sw = sw.squeeze(-1)
            while 0 < sw.dim() < values.dim():
                sw = sw.unsqueeze(-1)
            values = values * sw
        reduction = self.reduction
        if reduction in ("none", None) or values.dim() == 0:
            return values
        if reduction == "sum":
            return values.sum()
        n = values.numel()
        return values.mean() if n else values.sum()  # one kernel (and one backward) instead of sum and divide

    def get_config(self):
        """``{'name': ..., 'reduction': ...}`` plus the loss's own arguments."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs)``.

    A torch loss module (``torch.nn.CrossEntropyLoss()``, ``torch.nn.MSELoss()``,
    ...) is called in torch's order, ``fn(y_pred, y_true)``; integer targets stay
    integers, float targets take ``y_pred``'s dtype.

    Example:
        >>> import torch
        >>> from kerosene.losses import LossFunctionWrapper
        >>> def l1(y_true, y_pred):
        ...     return (y_true - y_pred).abs().mean(-1)
        >>> loss = LossFunctionWrapper(l1)
        >>> loss.name, float(loss(torch.zeros(2, 2), torch.ones(2, 2)))
        ('l1', 1.0)
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: `fn` must be callable, got {fn!r}.")
        super().__init__(reduction, name or getattr(fn, "__name__", None)
                         or to_snake_case(type(fn).__name__))
        self.fn = fn
        self._fn_kwargs = kwargs
        # torch's loss modules take (input, target): (y_pred, y_true) in Keras terms
        self._torch_order = isinstance(fn, torch.nn.modules.loss._Loss)

    def call(self, y_true, y_pred):
        y_true, y_pred = _prepare_user(y_true, y_pred)
        if self._torch_order:
            return self.fn(y_pred, y_true, **self._fn_kwargs)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


class _Builtin(Loss):
    """A built-in loss: ``call`` is a module function with the instance's options."""

    _fn = None
    _options = {}

    def __init__(self, reduction="sum_over_batch_size", name=None, **options):
        super().__init__(reduction, name)
        unknown = set(options) - set(self._options)
        if unknown:
            accepted = ", ".join(["reduction", "name", *self._options])
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument "
                f"{sorted(unknown)[0]!r}. Accepted: {accepted}."
            )
        self._values = {**self._options, **options}
        for key, value in self._values.items():
            setattr(self, key, value)

    def call(self, y_true, y_pred):
        return type(self)._fn(y_true, y_pred, **self._values)

    def get_config(self):
        config = super().get_config()
        config.update({k: getattr(self, k) for k in self._options})
        return config


def _builtin(class_name, fn, doc, **options):
    """Make a ``Loss`` class for ``fn`` whose keyword ``options`` default as given."""
    return type(class_name, (_Builtin,), {
        "_fn": staticmethod(fn), "_options": options, "__doc__": doc,
        "__module__": __name__,
    })


def _doc(what, cls, args=""):
    return (
        f"{what}\n\n    Example:\n        >>> import torch\n"
        f"        >>> from kerosene.losses import {cls}\n"
        f"        >>> loss = {cls}({args})\n"
        f"        >>> loss(torch.rand(4, 3), torch.rand(4, 3)).shape\n"
        f"        torch.Size([])\n    "
    )


CategoricalCrossentropy = _builtin(
    "CategoricalCrossentropy", categorical_crossentropy,
    _doc("Categorical crossentropy (probabilities unless ``from_logits=True``).",
         "CategoricalCrossentropy", "from_logits=True, label_smoothing=0.1"),
    from_logits=False, label_smoothing=0.0, axis=-1)
BinaryCrossentropy = _builtin(
    "BinaryCrossentropy", binary_crossentropy,
    _doc("Binary crossentropy (probabilities unless ``from_logits=True``).",
         "BinaryCrossentropy"),
    from_logits=False, label_smoothing=0.0, axis=-1)
MeanSquaredError = _builtin("MeanSquaredError", mean_squared_error,
                            _doc("Mean squared error.", "MeanSquaredError"))
MeanAbsoluteError = _builtin("MeanAbsoluteError", mean_absolute_error,
                             _doc("Mean absolute error.", "MeanAbsoluteError"))
MeanAbsolutePercentageError = _builtin(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    _doc("Mean absolute percentage error.", "MeanAbsolutePercentageError"))
MeanSquaredLogarithmicError = _builtin(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    _doc("Mean squared logarithmic error.", "MeanSquaredLogarithmicError"))
Huber = _builtin("Huber", huber, _doc("Huber loss.", "Huber", "delta=1.0"), delta=1.0)
KLDivergence = _builtin("KLDivergence", kl_divergence,
                        _doc("Kullback-Leibler divergence.", "KLDivergence"))
Hinge = _builtin("Hinge", hinge, _doc("Hinge loss.", "Hinge"))
SquaredHinge = _builtin("SquaredHinge", squared_hinge,
                        _doc("Squared hinge loss.", "SquaredHinge"))
CategoricalHinge = _builtin("CategoricalHinge", categorical_hinge,
                            _doc("Categorical hinge loss.", "CategoricalHinge"))
Poisson = _builtin("Poisson", poisson, _doc("Poisson loss.", "Poisson"))
LogCosh = _builtin("LogCosh", log_cosh, _doc("Log-cosh loss.", "LogCosh"))
CosineSimilarity = _builtin(
    "CosineSimilarity", cosine_similarity,
    _doc("Negative cosine similarity (Keras 3 sign).", "CosineSimilarity"), axis=-1)


class SparseCategoricalCrossentropy(_Builtin):
    """Crossentropy from integer labels (probabilities unless ``from_logits=True``).

    Example:
        >>> import torch
        >>> from kerosene.losses import SparseCategoricalCrossentropy
        >>> loss = SparseCategoricalCrossentropy(from_logits=True)
        >>> loss(torch.tensor([0, 2]), torch.randn(2, 3)).shape
        torch.Size([])
    """

    _fn = staticmethod(sparse_categorical_crossentropy)
    _options = {"from_logits": False, "axis": -1}
