"""Keras's metric functions: each returns per-sample values on torch tensors.

    >>> import torch
    >>> from kerosene.metrics.functions import categorical_accuracy
    >>> categorical_accuracy(torch.tensor([[0., 1.]]), torch.tensor([[0.3, 0.7]]))
    tensor([1.])
"""
from __future__ import annotations

import torch

from .. import losses as _losses

__all__ = [
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "mse", "mae", "mape", "msle", "cosine_similarity", "top_k_per_sample", "sparse_top_k_per_sample",
    "hinge", "squared_hinge", "categorical_hinge", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "kullback_leibler_divergence", "kld",
    "poisson", "logcosh", "cosine_proximity", "cosine",
]

# regression metrics are the loss functions themselves
mean_squared_error = mse = _losses.mean_squared_error
mean_absolute_error = mae = _losses.mean_absolute_error
mean_absolute_percentage_error = mape = _losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = msle = _losses.mean_squared_logarithmic_error
# and so are Keras 2.2's other loss-named metrics (per-sample values, like the losses)
hinge, squared_hinge, categorical_hinge = _losses.hinge, _losses.squared_hinge, _losses.categorical_hinge
categorical_crossentropy = _losses.categorical_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
binary_crossentropy = _losses.binary_crossentropy
kullback_leibler_divergence = kld = _losses.kl_divergence
poisson, logcosh = _losses.poisson, _losses.log_cosh
cosine_proximity = cosine = _losses.cosine_similarity  # Keras 2.2: the negative cosine


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
    y_true = _losses._as_tensor(y_true, y_pred, y_pred.dtype)  # bool or int one-hot targets too
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


def top_k_per_sample(y_true, y_pred, k=5):
    """1 where the true class (argmax of one-hot ``y_true``) is among the top ``k``, per sample."""
    y_pred = _losses._as_tensor(y_pred)
    y_true = _losses._as_tensor(y_true, y_pred)
    return _in_top_k(y_true.argmax(-1), y_pred, k)


def sparse_top_k_per_sample(y_true, y_pred, k=5):
    """1 where the integer label is among the top ``k`` predictions, per sample."""
    y_true, y_pred = _sparse_labels(y_true, y_pred)
    return _in_top_k(y_true, y_pred, k)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """The share of the batch whose true class (argmax of one-hot ``y_true``) is among the
    top ``k`` predictions: one number, the batch mean, as Keras 2.2 returns it.

    Example:
        >>> import torch
        >>> from kerosene.metrics import top_k_categorical_accuracy
        >>> top_k_categorical_accuracy(torch.eye(3)[[2, 0]], torch.tensor([[.5, .2, .3], [.1, .2, .7]]), k=2)
        tensor(0.5000)
    """
    return top_k_per_sample(y_true, y_pred, k).mean()


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """The share of the batch whose integer label is among the top ``k`` predictions (the
    batch mean, as Keras 2.2).

    Example:
        >>> import torch
        >>> from kerosene.metrics import sparse_top_k_categorical_accuracy
        >>> sparse_top_k_categorical_accuracy(torch.tensor([2]), torch.tensor([[.5, .2, .3]]), k=2)
        tensor(1.)
    """
    return sparse_top_k_per_sample(y_true, y_pred, k).mean()


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
