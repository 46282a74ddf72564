"""Keras losses as torch functions and ``Loss`` objects.

Every loss exists twice, as in Keras: a function returning per-sample values
(``categorical_crossentropy(y_true, y_pred)`` -> shape ``(batch,)``) and a class
whose instances reduce them (``CategoricalCrossentropy()(y_true, y_pred)`` -> a
scalar, Keras's ``sum_over_batch_size``: ``sum(loss * sample_weight) / size``).

Semantics are Keras 3's: crossentropies take probabilities unless
``from_logits=True`` (probabilities are normalised to sum 1 and clipped to
``[1e-7, 1 - 1e-7]``), targets are cast to ``y_pred``'s dtype (sparse labels to
``long``), and ``cosine_similarity`` is the negative mean cosine. Nothing here
synchronises with the device.

Example:
    >>> import torch
    >>> from kerosene import losses
    >>> y_true = torch.tensor([[0., 1.], [1., 0.]])
    >>> y_pred = torch.tensor([[0.2, 0.8], [0.6, 0.4]])
    >>> losses.categorical_crossentropy(y_true, y_pred).shape
    torch.Size([2])
    >>> loss = losses.get("categorical_crossentropy")
    >>> round(float(loss(y_true, y_pred)), 4)
    0.367
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from ._naming import to_snake_case
from ._registry import Registry, serialize_object

__all__ = [
    "Loss", "LossFunctionWrapper", "get", "serialize", "deserialize",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "KLDivergence", "Hinge", "SquaredHinge",
    "CategoricalHinge", "Poisson", "LogCosh", "CosineSimilarity",
    "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_crossentropy", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
    "kl_divergence", "hinge", "squared_hinge", "categorical_hinge", "poisson",
    "log_cosh", "cosine_similarity",
    "mse", "mae", "mape", "msle", "kld", "kullback_leibler_divergence", "logcosh",
    "MSE", "MAE", "MAPE", "MSLE", "KLD",
]

EPSILON = 1e-7
_LOG2 = math.log(2.0)
_REDUCTIONS = ("sum_over_batch_size", "auto", "mean", "sum", "none", None)


# ----------------------------------------------------------------- helpers
def _as_tensor(x, like=None, dtype=None):
    """``x`` as a tensor on ``like``'s device, cast to ``dtype`` (no copy if equal)."""
    if isinstance(x, torch.Tensor):
        if dtype is not None and x.dtype != dtype:
            x = x.to(dtype)
        if like is not None and x.device != like.device:
            x = x.to(like.device)
        return x
    device = None if like is None else like.device
    if dtype is not None:
        return torch.as_tensor(x, dtype=dtype, device=device)
    x = torch.as_tensor(np.asarray(x), device=device)  # keeps int labels integer
    if x.dtype == torch.float64 and like is None:
        x = x.to(torch.get_default_dtype())  # numpy's float64 default -> float32
    return x


def _prepare(y_true, y_pred):
    """Tensors, ``y_true`` cast to ``y_pred``'s dtype and device."""
    y_pred = _as_tensor(y_pred)
    return _as_tensor(y_true, y_pred, y_pred.dtype), y_pred


def _same_rank(a, b):
    """Keras's squeeze-or-expand: ranks differing by one trailing 1 are aligned."""
    ra, rb = a.dim(), b.dim()
    if ra == rb + 1 and a.shape[-1] == 1:
        if rb == 1:
            b = b.unsqueeze(-1)
        else:
            a = a.squeeze(-1)
    elif rb == ra + 1 and b.shape[-1] == 1:
        if ra == 1:
            a = a.unsqueeze(-1)
        else:
            b = b.squeeze(-1)
    return a, b


def _prepare_user(y_true, y_pred):
    """Tensors for a user function: float targets take ``y_pred``'s dtype, integer
    labels stay integers (so torch losses such as ``nn.CrossEntropyLoss`` work)."""
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred)
    if y_true.is_floating_point() and y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    return y_true, y_pred


def _regression(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred)
    return _same_rank(y_true, y_pred)


def _l2_normalize(x, axis=-1):
    inv = torch.rsqrt(x.square().sum(axis, keepdim=True)).clamp_max(1.0 / EPSILON)
    return x * inv


def _to_hinge_labels(y_true):
    """Map {0, 1} labels to {-1, 1} (without a device sync); others unchanged."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def _check_ce_shapes(name, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: `y_true` and `y_pred` must have the same shape, got "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape="
            f"{tuple(y_pred.shape)}. For integer class labels use "
            f"sparse_categorical_crossentropy."
        )


# --------------------------------------------------------------- functions
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """Crossentropy between one-hot (or soft) targets and predicted distributions.

    ``y_pred`` are probabilities (normalised to sum 1 along ``axis`` and clipped to
    ``[1e-7, 1 - 1e-7]``) unless ``from_logits=True``. Returns per-sample values.

    Example:
        >>> import torch
        >>> from kerosene.losses import categorical_crossentropy
        >>> categorical_crossentropy(torch.tensor([[0., 1.]]), torch.tensor([[.5, .5]]))
        tensor([0.6931])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    _check_ce_shapes("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        p = y_pred / y_pred.sum(axis, keepdim=True)
        log_prob = p.clamp(EPSILON, 1.0 - EPSILON).log()
    return -(y_true * log_prob).sum(axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Crossentropy between integer class labels and predicted distributions.

    ``y_true`` holds class indices, int or float, shape ``y_pred.shape[:-1]`` or
    with a trailing 1 (e.g. ``(n,)`` or ``(n, 1)``).

    Example:
        >>> import torch
        >>> from kerosene.losses import sparse_categorical_crossentropy
        >>> sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[.5, .5]]))
        tensor([0.6931])
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, y_pred, torch.long)
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if axis != -1 and axis != y_pred.dim() - 1:
        y_pred = y_pred.movedim(axis, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            f"sparse_categorical_crossentropy: `y_true` must hold one class index per "
            f"sample, shape {tuple(y_pred.shape[:-1])} (or with a trailing 1), got "
            f"y_true.shape={tuple(y_true.shape)} for y_pred.shape="
            f"{tuple(y_pred.shape)}. For one-hot targets use categorical_crossentropy."
        )
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=-1)
    else:
        p = y_pred / y_pred.sum(-1, keepdim=True)
        log_prob = p.clamp(EPSILON, 1.0 - EPSILON).log()
    return -log_prob.gather(-1, y_true.unsqueeze(-1)).squeeze(-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                        axis=-1):
    """Binary crossentropy, averaged over the last axis.

    ``y_pred`` are probabilities clipped to ``[1e-7, 1 - 1e-7]`` unless
    ``from_logits=True``.

    Example:
        >>> import torch
        >>> from kerosene.losses import binary_crossentropy
        >>> binary_crossentropy(torch.tensor([[1.]]), torch.tensor([[.5]]))
        tensor([0.6931])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
    return values.mean(axis)


def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred)**2, axis=-1)``.

    Example:
        >>> import torch
        >>> from kerosene.losses import mean_squared_error
        >>> mean_squared_error(torch.tensor([[1., 2.]]), torch.tensor([[1., 4.]]))
        tensor([2.])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    return (y_true - y_pred).square().mean(-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|, axis=-1)``.

    Example:
        >>> import torch
        >>> from kerosene.losses import mean_absolute_error
        >>> mean_absolute_error(torch.tensor([[1., 2.]]), torch.tensor([[1., 4.]]))
        tensor([1.])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    return (y_true - y_pred).abs().mean(-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|, axis=-1)``.

    Example:
        >>> import torch
        >>> from kerosene.losses import mean_absolute_percentage_error
        >>> mean_absolute_percentage_error(torch.tensor([[2.]]), torch.tensor([[1.]]))
        tensor([50.])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    diff = (y_true - y_pred) / y_true.abs().clamp_min(EPSILON)
    return 100.0 * diff.abs().mean(-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)``.

    Example:
        >>> import torch
        >>> from kerosene.losses import mean_squared_logarithmic_error as msle
        >>> msle(torch.tensor([[0.]]), torch.tensor([[0.]])).abs().item() < 1e-12
        True
    """
    y_true, y_pred = _regression(y_true, y_pred)
    first = torch.log1p(y_pred.clamp_min(EPSILON))
    second = torch.log1p(y_true.clamp_min(EPSILON))
    return (first - second).square().mean(-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for ``|error| <= delta``, linear beyond; mean over -1.

    Example:
        >>> import torch
        >>> from kerosene.losses import huber
        >>> huber(torch.tensor([[0., 0.]]), torch.tensor([[0.5, 3.]]))
        tensor([1.3125])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    error = y_pred - y_true
    abs_error = error.abs()
    quadratic = 0.5 * error.square()
    linear = delta * abs_error - 0.5 * delta * delta
    return torch.where(abs_error <= delta, quadratic, linear).mean(-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably.

    Example:
        >>> import torch
        >>> from kerosene.losses import log_cosh
        >>> log_cosh(torch.tensor([[0.]]), torch.tensor([[0.]])).abs().item() < 1e-6
        True
    """
    y_true, y_pred = _regression(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - _LOG2).mean(-1)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[1e-7, 1]``.

    Example:
        >>> import torch
        >>> from kerosene.losses import kl_divergence
        >>> kl_divergence(torch.tensor([[.5, .5]]), torch.tensor([[.5, .5]]))
        tensor([0.])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = y_true.clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * (y_true / y_pred).log()).sum(-1)


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; {0, 1} labels become {-1, 1}.

    Example:
        >>> import torch
        >>> from kerosene.losses import hinge
        >>> hinge(torch.tensor([[1., 0.]]), torch.tensor([[0.5, -2.]]))
        tensor([0.2500])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    y_true = _to_hinge_labels(y_true)
    return (1.0 - y_true * y_pred).clamp_min(0.0).mean(-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)``; {0, 1} labels become {-1, 1}.

    Example:
        >>> import torch
        >>> from kerosene.losses import squared_hinge
        >>> squared_hinge(torch.tensor([[1.]]), torch.tensor([[0.5]]))
        tensor([0.2500])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    y_true = _to_hinge_labels(y_true)
    return (1.0 - y_true * y_pred).clamp_min(0.0).square().mean(-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``.

    Example:
        >>> import torch
        >>> from kerosene.losses import categorical_hinge
        >>> categorical_hinge(torch.tensor([[0., 1.]]), torch.tensor([[0.3, 0.7]]))
        tensor([0.6000])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return (neg - pos + 1.0).clamp_min(0.0)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``.

    Example:
        >>> import torch
        >>> from kerosene.losses import poisson
        >>> round(poisson(torch.tensor([[1.]]), torch.tensor([[1.]])).item(), 4)
        1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_pred - y_true * (y_pred + EPSILON).log()).mean(-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity per sample: ``-sum(l2n(y_true) * l2n(y_pred))``.

    Keras 3's sign: -1 means identical directions, so minimising it aligns them.

    Example:
        >>> import torch
        >>> from kerosene.losses import cosine_similarity
        >>> cosine_similarity(torch.tensor([[1., 1.]]), torch.tensor([[2., 2.]]))
        tensor([-1.0000])
    """
    y_true, y_pred = _regression(y_true, y_pred)
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(axis)


# Keras 2 aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh


# ----------------------------------------------------------------- classes
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


# ---------------------------------------------------------------- registry
_CLASSES = Registry({cls.__name__: cls for cls in (
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, KLDivergence, Hinge, SquaredHinge,
    CategoricalHinge, Poisson, LogCosh, CosineSimilarity)})

# Keras function names and aliases -> class
_NAMES = Registry({
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber,
    "kl_divergence": KLDivergence, "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge, "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge, "poisson": Poisson,
    "log_cosh": LogCosh, "logcosh": LogCosh,
    "cosine_similarity": CosineSimilarity, "cosine_proximity": CosineSimilarity,
}, fold_case=True)
# the per-sample function of each Keras name (metrics reuse these)
FUNCTIONS = {
    name: cls._fn for name, cls in _NAMES.items()
}


def _lookup(name, custom_objects=None):
    cls = _CLASSES.find(name, custom_objects) or _NAMES.find(name)
    if cls is None:
        accepted = ", ".join(sorted(_NAMES)) + ", or a class name such as " \
                   "'CategoricalCrossentropy'"
        raise ValueError(f"Unknown loss: {name!r}. Accepted names: {accepted}.")
    return cls


def serialize(loss):
    """``{'class_name': ..., 'config': ...}`` for a ``Loss``.

    Example:
        >>> from kerosene import losses
        >>> losses.serialize(losses.Huber(delta=2.0))["config"]["delta"]
        2.0
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"serialize() expects a kerosene Loss, got "
                        f"{type(loss).__name__}.")
    return serialize_object(loss)


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`: registered classes and ``custom_objects`` only.

    Example:
        >>> from kerosene import losses
        >>> losses.deserialize({"class_name": "MeanSquaredError", "config": {}}).name
        'mean_squared_error'
    """
    if isinstance(config, str):
        return get(config, custom_objects)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"deserialize() expects a dict with 'class_name' and "
                         f"'config', got {config!r}.")
    obj = _lookup(config["class_name"], custom_objects)
    inner = dict(config.get("config") or {})
    if isinstance(obj, type) and issubclass(obj, Loss):
        inner.pop("fn", None)
        return obj.from_config(inner)
    return get(obj)


def get(identifier, custom_objects=None):
    """Resolve ``identifier`` to a :class:`Loss`.

    Accepts a Keras name (``'categorical_crossentropy'``, ``'mse'``, ...), a class
    name (``'MeanSquaredError'``), a ``Loss`` instance or subclass, a
    ``{'class_name', 'config'}`` dict, or any callable ``fn(y_true, y_pred)``
    returning per-sample or scalar values (wrapped; named ``fn.__name__``).
    ``None`` gives ``None`` (an output without a loss).

    Example:
        >>> from kerosene import losses
        >>> losses.get("mse").name
        'mean_squared_error'
        >>> losses.get(lambda t, p: (t - p).abs()).name
        '<lambda>'
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        obj = _lookup(identifier, custom_objects)
        return obj() if isinstance(obj, type) else get(obj)
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, type):
        if issubclass(identifier, Loss):
            return identifier()
        if issubclass(identifier, torch.nn.Module):
            return LossFunctionWrapper(identifier(), name=to_snake_case(identifier.__name__))
        raise TypeError(f"Could not interpret loss class {identifier.__name__}: "
                        f"expected a kerosene Loss subclass.")
    if callable(identifier):
        for name, fn in FUNCTIONS.items():
            if fn is identifier:
                return _NAMES[name]()
        return LossFunctionWrapper(identifier)
    raise TypeError(
        f"Could not interpret loss identifier {identifier!r} (type "
        f"{type(identifier).__name__}): expected a loss name, a Loss, or a callable "
        f"fn(y_true, y_pred)."
    )
