"""Keras's loss functions: each returns per-sample values (shape ``(batch,)``) on torch tensors.

    >>> import torch
    >>> from kerosene.losses.functions import mean_squared_error
    >>> mean_squared_error(torch.zeros(2, 3), torch.ones(2, 3))
    tensor([1., 1.])
"""
from __future__ import annotations

import math

import functools

import numpy as np
import torch
import torch.nn.functional as F

from ..symbolic import apply_symbolic, has_symbolic

__all__ = [
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "kl_divergence", "hinge", "squared_hinge",
    "categorical_hinge", "poisson", "log_cosh", "cosine_similarity", "mse", "mae", "mape", "msle",
    "kld", "kullback_leibler_divergence", "logcosh", "MSE", "MAE", "MAPE", "MSLE", "KLD",
    "cosine_proximity", "cosine"]

EPSILON = 1e-7
_LOG2 = math.log(2.0)
_REDUCTIONS = ("sum_over_batch_size", "auto", "mean", "sum", "none", None)


# ----------------------------------------------------------------- helpers
def _recorded_on_symbolic(fn):
    """``fn`` that, given symbolic tensors (``mse(inputs, outputs)`` in a Keras 2 script's
    ``add_loss`` expression), records one graph node instead of computing on them."""
    @functools.wraps(fn)
    def loss(y_true, y_pred, *args, **kwargs):
        if has_symbolic((y_true, y_pred)):
            return apply_symbolic(fn, (y_true, y_pred) + args, kwargs, fn.__name__)
        return fn(y_true, y_pred, *args, **kwargs)
    return loss


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
@_recorded_on_symbolic
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


@_recorded_on_symbolic
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
    _check_class_indices(y_true, y_pred.shape[-1])
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=-1)
    else:
        p = y_pred / y_pred.sum(-1, keepdim=True)
        log_prob = p.clamp(EPSILON, 1.0 - EPSILON).log()
    return -log_prob.gather(-1, y_true.unsqueeze(-1)).squeeze(-1)


@_recorded_on_symbolic
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
    _check_binary_targets(y_true)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
    return values.mean(axis)


def _check_class_indices(y_true, num_classes):
    """Sparse labels must index a class of the output; torch's gather would fail nameless (or read garbage on GPU)."""
    _require_targets(y_true, lambda t: (t >= 0) & (t < num_classes), lambda low, high: (
        f"sparse_categorical_crossentropy: `y_true` must hold class indices 0 to {num_classes - 1} (the output has "
        f"{num_classes} classes), got labels from {low} to {high}"))


def _check_binary_targets(y_true):
    """Targets of binary crossentropy must be probabilities: class ids 0..9 would give a meaningless loss."""
    _require_targets(y_true, lambda t: (t >= 0) & (t <= 1), lambda low, high: (
        f"binary_crossentropy: `y_true` must hold values in [0, 1] (0/1 labels or probabilities), got values "
        f"from {low} to {high}; for integer class ids use sparse_categorical_crossentropy, "
        "for -1/+1 labels use hinge"))


def _require_targets(y_true, valid, message):
    """A ``ValueError`` from ``message(low, high)`` unless ``valid(y_true)`` holds everywhere."""
    if y_true.numel() == 0:
        return
    ok = valid(y_true.detach()).all()
    if y_true.device.type != "cpu":
        # No host sync per batch on an accelerator: the check fails at the next sync instead.
        torch._assert_async(ok, message("?", "?").split(", got")[0])
        return
    if not ok:
        low, high = torch.aminmax(y_true.detach())
        raise ValueError(message(f"{low.item():g}", f"{high.item():g}"))


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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


@_recorded_on_symbolic
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
cosine_proximity = cosine = cosine_similarity  # Keras 2.2's name: the same negative cosine
