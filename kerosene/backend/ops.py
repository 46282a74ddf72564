"""The backend's element-wise math and reductions on torch tensors (``K.sum``, ``K.relu`` ...).

    >>> import torch
    >>> from kerosene.backend import ops
    >>> ops.sum(torch.ones(2, 3), axis=-1)
    tensor([3., 3.])
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .config import (_DTYPES, _torch_dtype, floatx, to_tensor)


_builtin_sum, _builtin_max, _builtin_min, _builtin_abs, _builtin_round = sum, max, min, abs, round
_builtin_any, _builtin_all, _builtin_pow = any, all, pow


# --- helpers ---------------------------------------------------------------------------
def _t(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (bool, int, float)):
        return torch.tensor(x, dtype=_DTYPES[floatx()] if isinstance(x, float) else None)
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        arr = arr.astype(floatx())
    return to_tensor(arr)


def _float(x):
    x = _t(x)
    return x if x.is_floating_point() else x.to(_DTYPES[floatx()])


def _axes(axis, ndim_):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(a % ndim_ if ndim_ else a for a in axis)
    return axis


def _reduce(fn_all, fn_axis, x, axis, keepdims):
    if axis is None:
        out = fn_all(x)
        return out.reshape((1,) * x.dim()) if keepdims else out
    if isinstance(axis, (list, tuple)):
        out = x
        for a in sorted((a % x.dim() for a in axis), reverse=True):
            out = fn_axis(out, a, True)
        if not keepdims:
            out = out.squeeze(tuple(sorted(a % x.dim() for a in axis)))
        return out
    return fn_axis(x, axis, keepdims)


# --- reductions ------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):
    x = _t(x)
    return torch.sum(x) if axis is None and not keepdims else torch.sum(x, dim=_dims(x, axis), keepdim=keepdims)


def mean(x, axis=None, keepdims=False):
    x = _float(x)
    return torch.mean(x) if axis is None and not keepdims else torch.mean(x, dim=_dims(x, axis), keepdim=keepdims)


def prod(x, axis=None, keepdims=False):
    return _reduce(torch.prod, lambda t, a, k: torch.prod(t, a, keepdim=k), _t(x), axis, keepdims)


def max(x, axis=None, keepdims=False):
    return torch.amax(_t(x), dim=_dims(_t(x), axis), keepdim=keepdims)


def min(x, axis=None, keepdims=False):
    return torch.amin(_t(x), dim=_dims(_t(x), axis), keepdim=keepdims)


def var(x, axis=None, keepdims=False):
    x = _float(x)
    return torch.var(x, dim=_dims(x, axis), keepdim=keepdims, correction=0)


def std(x, axis=None, keepdims=False):
    return torch.sqrt(var(x, axis, keepdims))


def any(x, axis=None, keepdims=False):
    x = _t(x).bool()
    return _reduce(torch.any, lambda t, a, k: torch.any(t, a, keepdim=k), x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    x = _t(x).bool()
    return _reduce(torch.all, lambda t, a, k: torch.all(t, a, keepdim=k), x, axis, keepdims)


def argmax(x, axis=-1):
    return torch.argmax(_t(x), dim=axis)


def argmin(x, axis=-1):
    return torch.argmin(_t(x), dim=axis)


def _dims(x, axis):
    if axis is None:
        return tuple(range(x.dim()))
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


# --- element-wise ----------------------------------------------------------------------
def square(x):
    return torch.square(_t(x))


def sqrt(x):
    """Square root, with negative inputs clipped to 0 first (as Keras 2 does)."""
    return torch.sqrt(torch.clamp(_float(x), min=0.0))


def abs(x):
    return torch.abs(_t(x))


def exp(x):
    return torch.exp(_float(x))


def log(x):
    return torch.log(_float(x))


def pow(x, a):
    return torch.pow(_t(x), a)


def sign(x):
    return torch.sign(_t(x))


def round(x):
    return torch.round(_t(x))


def maximum(x, y):
    x, y = _t(x), _t(y)
    return torch.maximum(x, y.to(x.dtype) if y.dtype != x.dtype else y)


def minimum(x, y):
    x, y = _t(x), _t(y)
    return torch.minimum(x, y.to(x.dtype) if y.dtype != x.dtype else y)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Keras 2's relu: ``x`` above ``threshold`` (0 at or below it), clipped to ``[0, max_value]``
    when ``max_value`` is given, minus ``alpha * (threshold - x)`` below ``threshold``.

    >>> relu(torch.tensor([-2.0, -0.5, 3.0, 9.0]), alpha=0.1, max_value=6.0, threshold=-1.0).tolist()
    [-0.10000000149011612, 0.0, 3.0, 6.0]
    """
    x = _float(x)
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    out = F.relu(x) if threshold == 0.0 else x * (x > threshold).to(x.dtype)
    if max_value is not None:
        out = torch.clamp(out, 0.0, max_value)   # Keras 2 clips at 0 too: a negative threshold's range goes
    if alpha != 0.0:
        out = out - alpha * F.relu(threshold - x)
    return out


def elu(x, alpha=1.0):
    return F.elu(_float(x), alpha=alpha)


def sigmoid(x):
    return torch.sigmoid(_float(x))


def hard_sigmoid(x):
    return torch.clamp(0.2 * _float(x) + 0.5, 0.0, 1.0)


def tanh(x):
    return torch.tanh(_float(x))


def softmax(x, axis=-1):
    return torch.softmax(_float(x), dim=axis)


def softplus(x):
    return F.softplus(_float(x))


def softsign(x):
    return F.softsign(_float(x))


def clip(x, min_value, max_value):
    """Clip to ``[min_value, max_value]`` (``max_value`` below ``min_value`` is raised to it)."""
    if min_value is None:
        min_value = -np.inf
    if max_value is None:
        max_value = np.inf
    if max_value < min_value:
        max_value = min_value
    return torch.clamp(_t(x), min_value, max_value)


def cast(x, dtype):
    """``x`` as ``dtype`` (a Keras dtype name such as ``'float32'``)."""
    return _t(x).to(_torch_dtype(dtype))


def equal(x, y):
    return torch.eq(_t(x), _t(y))


def not_equal(x, y):
    return torch.ne(_t(x), _t(y))


def greater(x, y):
    return torch.gt(_t(x), _t(y))


def greater_equal(x, y):
    return torch.ge(_t(x), _t(y))


def less(x, y):
    return torch.lt(_t(x), _t(y))


def less_equal(x, y):
    return torch.le(_t(x), _t(y))


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x**2, axis), 1e-12))`` (all axes when ``axis`` is None)."""
    x = _float(x)
    squares = torch.sum(x * x, dim=_dims(x, axis), keepdim=True)
    return x * torch.rsqrt(torch.clamp(squares, min=1e-12))
