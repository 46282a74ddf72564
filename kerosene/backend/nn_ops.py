"""The backend's pooling, normalization, dropout, padding, resizing and slicing ops in Keras 2's
argument names and layouts (``K.pool2d``, ``K.batch_normalization``, ``K.spatial_2d_padding`` ...).

    >>> import torch
    >>> from kerosene.backend import nn_ops
    >>> nn_ops.pool2d(torch.arange(16.).reshape(1, 4, 4, 1), (2, 2), strides=(2, 2))[0, :, :, 0]
    tensor([[ 5.,  7.],
            [13., 15.]])
"""
from __future__ import annotations

import builtins
import numbers

import torch
import torch.nn.functional as F

from .arrays import _generator
from .config import normalize_data_format
from .conv_ops import _check_ndim, _tuple, channels_first, from_channels_first, pad_same, _padding
from .ops import _float, _t

_MAX_POOL = {2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {2: F.avg_pool2d, 3: F.avg_pool3d}


# --- pooling -------------------------------------------------------------------------------
def _pool(rank, fn_name, x, pool_size, strides, padding, data_format, pool_mode):
    x = _float(x)
    data_format = normalize_data_format(data_format)
    _check_ndim(x, rank + 2, "x", fn_name, "batch, spatial axes, channels")
    pool_size = _tuple(pool_size, rank, "pool_size", fn_name)
    strides = _tuple(strides, rank, "strides", fn_name)
    padding = _padding(padding, fn_name)
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"{fn_name}: `pool_mode` must be 'max' or 'avg', got {pool_mode!r}")
    xc = channels_first(x, data_format)
    if pool_mode == "max":
        padded = pad_same(xc, pool_size, strides, value=float("-inf")) if padding == "same" else xc
        out = _MAX_POOL[rank](padded, pool_size, strides)
    elif padding == "same":
        # TensorFlow averages over the window's real values only, not the padding.
        total = _AVG_POOL[rank](pad_same(xc, pool_size, strides), pool_size, strides)
        counts = _AVG_POOL[rank](pad_same(torch.ones_like(xc[:1, :1]), pool_size, strides), pool_size, strides)
        out = total / counts
    else:
        out = _AVG_POOL[rank](xc, pool_size, strides)
    return from_channels_first(out, data_format)


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """2-D max or average pooling (``pool_mode`` 'max' or 'avg')."""
    return _pool(2, "pool2d", x, pool_size, strides, padding, data_format, pool_mode)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    """3-D max or average pooling (``pool_mode`` 'max' or 'avg')."""
    return _pool(3, "pool3d", x, pool_size, strides, padding, data_format, pool_mode)


# --- normalization and dropout -----------------------------------------------------------------
def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``; the statistics are broadcast against
    ``x`` (a vector is laid along ``axis``); ``beta``/``gamma`` may be None."""
    x = _float(x)
    if not isinstance(axis, int) or not -x.dim() <= axis < x.dim():
        raise ValueError(f"batch_normalization: `axis` must be an int axis of the {x.dim()}-D `x`, got {axis!r}")

    def laid(t):
        t = _float(t).to(x.device, x.dtype)
        if t.dim() == 1 and x.dim() > 1:
            shape = [1] * x.dim()
            shape[axis] = t.shape[0]
            return t.reshape(shape)
        return t

    out = (x - laid(mean)) * torch.rsqrt(laid(var) + epsilon)
    if gamma is not None:
        out = out * laid(gamma)
    return out + laid(beta) if beta is not None else out


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """``x`` normalized by its mean and (population) variance over ``reduction_axes``:
    ``(normalized, mean, variance)``, the statistics with the reduced axes dropped."""
    x = _float(x)
    if isinstance(reduction_axes, int):
        reduction_axes = [reduction_axes]
    if (not isinstance(reduction_axes, (list, tuple)) or not reduction_axes
            or not all(isinstance(a, int) and -x.dim() <= a < x.dim() for a in reduction_axes)):
        raise ValueError(f"normalize_batch_in_training: `reduction_axes` must be a list of axes of the "
                         f"{x.dim()}-D `x`, got {reduction_axes!r}")
    axes = sorted({a % x.dim() for a in reduction_axes})
    mean = x.mean(dim=axes, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
    kept = [d for d in range(x.dim()) if d not in axes]

    def laid(t):   # gamma/beta given per kept position (a vector when one axis is kept)
        if t is None:
            return None
        t = _float(t).to(x.device, x.dtype)
        return t.reshape([x.shape[d] if d in kept else 1 for d in range(x.dim())])

    normed = (x - mean) * torch.rsqrt(var + epsilon)
    if gamma is not None:
        normed = normed * laid(gamma)
    if beta is not None:
        normed = normed + laid(beta)
    return normed, mean.squeeze(axes) if axes else mean, var.squeeze(axes) if axes else var


def moving_average_update(x, value, momentum):
    """Sets ``x`` to ``x * momentum + value * (1 - momentum)`` in place and returns it."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"moving_average_update: `x` must be a tensor (K.variable) to update in place, "
                        f"got {type(x).__name__}")
    with torch.no_grad():
        x.mul_(momentum).add_(_t(value).to(x.dtype), alpha=1.0 - momentum)
    return x


def dropout(x, level, noise_shape=None, seed=None):
    """``x`` with each entry zeroed with probability ``level`` and the rest scaled by
    ``1 / (1 - level)``; ``noise_shape`` (broadcast against ``x``) shares one draw across axes of size 1."""
    x = _float(x)
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 <= level < 1:
        raise ValueError(f"dropout: `level` must be a number in [0, 1), got {level!r}")
    shape = tuple(x.shape) if noise_shape is None else tuple(x.shape[i] if d is None else int(d)
                                                              for i, d in enumerate(noise_shape))
    if len(shape) != x.dim() or any(d not in (1, n) for d, n in zip(shape, x.shape)):
        raise ValueError(f"dropout: `noise_shape` {noise_shape!r} does not broadcast against `x` of shape "
                         f"{tuple(x.shape)} (each size must be 1 or x's)")
    keep = torch.rand(shape, generator=_generator(seed), dtype=x.dtype) >= level
    return x * keep.to(x.device, x.dtype) / (1.0 - level)


def in_top_k(predictions, targets, k):
    """Whether each sample's ``targets`` class is among its ``k`` largest ``predictions``
    (ties at the k-th value count as in, as TensorFlow's)."""
    predictions, targets = _float(predictions), _t(targets).long().reshape(-1)
    _check_ndim(predictions, 2, "predictions", "in_top_k", "batch, classes")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"in_top_k: `k` must be a positive int, got {k!r}")
    if targets.shape[0] != predictions.shape[0]:
        raise ValueError(f"in_top_k: `targets` has {targets.shape[0]} entries for {predictions.shape[0]} samples")
    if k >= predictions.shape[1]:
        return torch.ones(predictions.shape[0], dtype=torch.bool, device=predictions.device)
    kth = predictions.topk(k, dim=1).values[:, -1]
    chosen = predictions.gather(1, targets.to(predictions.device).unsqueeze(1)).squeeze(1)
    return chosen >= kth


# --- reshaping ----------------------------------------------------------------------------------
def repeat(x, n):
    """A 2-D ``x`` (batch, dim) repeated ``n`` times along a new axis 1: (batch, n, dim)."""
    x = _t(x)
    _check_ndim(x, 2, "x", "repeat", "batch, features")
    return x.unsqueeze(1).expand(x.shape[0], int(n), x.shape[1]).clone()


def reverse(x, axes):
    """``x`` reversed along ``axes`` (an int or a list of ints)."""
    x = _t(x)
    axes = [axes] if isinstance(axes, int) else list(axes)
    return torch.flip(x, [a % x.dim() for a in axes])


def slice(x, start, size):
    """The block of ``x`` starting at ``start`` with ``size`` (``-1``: to the end) on each axis."""
    x = _t(x)
    start, size = list(start), list(size)
    if len(start) != x.dim() or len(size) != x.dim():
        raise ValueError(f"slice: `start` {start} and `size` {size} must give one value per axis of the "
                         f"{x.dim()}-D `x`")
    index = []
    for axis, (b, n) in enumerate(zip(start, size)):
        end = x.shape[axis] if n == -1 else b + n
        if b < 0 or end > x.shape[axis]:
            raise ValueError(f"slice: `start` {start} and `size` {size} run outside `x` of shape {tuple(x.shape)}")
        index.append(builtins.slice(b, end))
    return x[tuple(index)]


# --- resizing and padding ---------------------------------------------------------------------------
def _legacy_bilinear(x, axis, factor):
    """``x`` stretched ``factor`` times along ``axis`` as TensorFlow 1's ``resize_bilinear``
    (Keras 2's): output position i reads input position i / factor, no half-pixel offset, the
    last input value repeated past the end."""
    size = x.shape[axis]
    source = torch.arange(size * factor, dtype=x.dtype, device=x.device) / factor
    low = source.floor().long()
    high = (low + 1).clamp(max=size - 1)
    weight = (source - low.to(x.dtype)).reshape([-1 if d == axis else 1 for d in range(x.dim())])
    return x.index_select(axis, low) * (1 - weight) + x.index_select(axis, high) * weight


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """A 4-D ``x``'s rows and columns scaled by integer factors; ``interpolation`` 'nearest'
    (each value repeated) or 'bilinear' (TensorFlow 1's, as Keras 2.2.4)."""
    x = _float(x)
    data_format = normalize_data_format(data_format)
    _check_ndim(x, 4, "x", "resize_images", "batch, rows, cols, channels")
    factors = _tuple((height_factor, width_factor), 2, "height_factor/width_factor", "resize_images")
    xc = channels_first(x, data_format)
    if interpolation == "nearest":
        out = xc.repeat_interleave(factors[0], dim=2).repeat_interleave(factors[1], dim=3)
    elif interpolation == "bilinear":
        out = _legacy_bilinear(_legacy_bilinear(xc, 2, factors[0]), 3, factors[1])
    else:
        raise ValueError(f"resize_images: `interpolation` must be 'nearest' or 'bilinear', got {interpolation!r}")
    return from_channels_first(out, data_format)


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """A 5-D ``x``'s three spatial axes scaled by integer factors (each value repeated)."""
    x = _t(x)
    data_format = normalize_data_format(data_format)
    _check_ndim(x, 5, "x", "resize_volumes", "batch, three spatial axes, channels")
    factors = _tuple((depth_factor, height_factor, width_factor), 3, "depth/height/width_factor",
                     "resize_volumes")
    out = channels_first(x, data_format)
    for axis, factor in enumerate(factors):
        out = out.repeat_interleave(factor, dim=2 + axis)
    return from_channels_first(out, data_format)


def _pairs(padding, rank, fn_name):
    ok = (isinstance(padding, (list, tuple)) and len(padding) == rank
          and all(isinstance(p, (list, tuple)) and len(p) == 2
                  and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in p) for p in padding))
    if not ok:
        raise ValueError(f"{fn_name}: `padding` must be {rank} pairs of non-negative ints "
                         f"((before, after) per spatial axis), got {padding!r}")
    return [tuple(p) for p in padding]


def _pad_spatial(x, pairs, data_format, fn_name):
    x = _t(x)
    _check_ndim(x, len(pairs) + 2, "x", fn_name, "batch, spatial axes, channels")
    xc = channels_first(x, data_format)
    flat = []
    for before, after in reversed(pairs):
        flat += [before, after]
    return from_channels_first(F.pad(xc, flat), data_format)


def temporal_padding(x, padding=(1, 1)):
    """A 3-D ``x`` (batch, steps, features) with zeros added before and after its steps."""
    return _pad_spatial(x, _pairs([padding], 1, "temporal_padding"), "channels_last", "temporal_padding")


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """A 4-D ``x`` with zeros around its rows and columns (``padding`` as (before, after) pairs)."""
    return _pad_spatial(x, _pairs(padding, 2, "spatial_2d_padding"), normalize_data_format(data_format),
                        "spatial_2d_padding")


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """A 5-D ``x`` with zeros around its three spatial axes."""
    return _pad_spatial(x, _pairs(padding, 3, "spatial_3d_padding"), normalize_data_format(data_format),
                        "spatial_3d_padding")

