"""The backend's shape, creation, control-flow and in-place functions, and its crossentropies.

    >>> import torch
    >>> from kerosene.backend import arrays
    >>> arrays.int_shape(torch.zeros(2, 3))
    (2, 3)
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..symbolic import apply_symbolic, is_symbolic
from .config import (_DTYPES, _torch_dtype, epsilon, floatx)
from .ops import (_builtin_all, _builtin_max, _dims, _float, _t, mean)


# --- shapes ----------------------------------------------------------------------------
def concatenate(tensors, axis=-1):
    return torch.cat([_t(t) for t in tensors], dim=axis)


def stack(x, axis=0):
    return torch.stack([_t(t) for t in x], dim=axis)


def reshape(x, shape):
    return torch.reshape(_t(x), tuple(int(s) for s in shape))


def transpose(x):
    """Reverse every axis, as Keras 2's ``K.transpose``."""
    x = _t(x)
    return x.permute(*reversed(range(x.dim())))


def permute_dimensions(x, pattern):
    return _t(x).permute(*pattern)


def expand_dims(x, axis=-1):
    return torch.unsqueeze(_t(x), axis)


def squeeze(x, axis):
    x = _t(x)
    if x.shape[axis] != 1:
        raise ValueError(f"squeeze: axis {axis} of a tensor of shape {tuple(x.shape)} has size "
                         f"{x.shape[axis]}, not 1")
    return torch.squeeze(x, axis)


def flatten(x):
    return torch.reshape(_t(x), (-1,))


def batch_flatten(x):
    x = _t(x)
    return x.reshape(x.shape[0], -1)


def repeat_elements(x, rep, axis):
    return torch.repeat_interleave(_t(x), rep, dim=axis)


def tile(x, n):
    return _t(x).repeat(*([n] if isinstance(n, int) else n))


def gather(reference, indices):
    return _t(reference)[_t(indices).long()]


def shape(x):
    """The shape of ``x`` as a tuple of ints (``K.shape(x)[0]`` is the batch size).

    Of a symbolic tensor, whose batch size is not known yet, it is a symbolic int32 vector
    computed when the graph runs (Keras 2's ``K.prod(K.cast(K.shape(x), 'float32'))``).
    """
    if is_symbolic(x):
        return apply_symbolic(_shape_vector, (x,), {}, "shape")
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _shape_vector(x):
    return torch.tensor(tuple(x.shape), dtype=torch.int32, device=x.device)


def int_shape(x):
    """The shape as a tuple of ints; a symbolic tensor's batch dimension is ``None``."""
    if hasattr(x, "_keras_shape"):
        return tuple(x._keras_shape)
    if isinstance(x, torch.Tensor):
        return tuple(int(s) for s in x.shape)
    return tuple(np.shape(x))


def ndim(x):
    return len(int_shape(x))


def dtype(x):
    """The Keras dtype name, e.g. ``'float32'`` (a symbolic tensor's own, an Input's included)."""
    if hasattr(x, "_keras_shape") or getattr(type(x), "is_input_layer", False):
        return str(x.dtype).replace("torch.", "")
    return str(_t(x).dtype).replace("torch.", "")


def get_variable_shape(x):
    """The shape of a variable as a tuple of ints (:func:`int_shape`)."""
    return int_shape(x)


def is_sparse(tensor):
    """Whether ``tensor`` is a torch sparse tensor."""
    return isinstance(tensor, torch.Tensor) and tensor.layout != torch.strided


def to_dense(tensor):
    """A sparse tensor as a dense one (a dense tensor as it is)."""
    return tensor.to_dense() if is_sparse(tensor) else _t(tensor)


def count_params(x):
    return int(np.prod(int_shape(x)))


def dot(x, y):
    """Matrix product; for N-D tensors the last axis of ``x`` meets the second-last of ``y``."""
    x, y = _t(x), _t(y)
    if x.dim() <= 2 and y.dim() <= 2:
        return x @ y
    return torch.tensordot(x, y, dims=([x.dim() - 1], [y.dim() - 2 if y.dim() >= 2 else 0]))


def batch_dot(x, y, axes=None):
    """Per-sample dot product along ``axes``; a result of one dimension becomes ``(batch, 1)``.

    ``axes`` is an int (the same axis of both) or a pair; by default the last axis of ``x``
    meets the second-last of ``y`` (the last when ``y`` is 2-D).
    """
    x, y = _t(x), _t(y)
    if axes is None:
        axes = (x.dim() - 1, y.dim() - 2 if y.dim() > 2 else y.dim() - 1)
    elif isinstance(axes, int):
        axes = (axes, axes)
    elif not (isinstance(axes, (list, tuple)) and len(axes) == 2 and _builtin_all(isinstance(a, int) for a in axes)):
        raise ValueError(f"batch_dot: `axes` must be an int or a pair of ints, got {axes!r}")
    ax, ay = axes[0] % x.dim(), axes[1] % y.dim()
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: `axes` cannot include the batch axis 0, got {axes!r}")
    xs = ["z"] + list("abcdefghijkl"[:x.dim() - 1])
    ys = ["z"] + list("mnopqrstuvwx"[:y.dim() - 1])
    ys[ay] = xs[ax]
    out = [c for i, c in enumerate(xs) if i != ax] + [c for i, c in enumerate(ys) if i != ay and i != 0]
    result = torch.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
    return result.unsqueeze(1) if result.dim() == 1 else result


# --- creation --------------------------------------------------------------------------
def ones(shape, dtype=None, name=None):
    return torch.ones(tuple(shape), dtype=_torch_dtype(dtype))


def zeros(shape, dtype=None, name=None):
    return torch.zeros(tuple(shape), dtype=_torch_dtype(dtype))


def eye(size, dtype=None, name=None):
    return torch.eye(size, dtype=_torch_dtype(dtype))


def ones_like(x, dtype=None, name=None):
    x = _t(x)
    return torch.ones_like(x, dtype=None if dtype is None else _torch_dtype(dtype))


def zeros_like(x, dtype=None, name=None):
    x = _t(x)
    return torch.zeros_like(x, dtype=None if dtype is None else _torch_dtype(dtype))


def _generator(seed):
    if seed is None:
        return None
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    return gen


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    out = torch.randn(tuple(int(s) for s in shape), generator=_generator(seed), dtype=_torch_dtype(dtype))
    return out * stddev + mean


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    out = torch.rand(tuple(int(s) for s in shape), generator=_generator(seed), dtype=_torch_dtype(dtype))
    return out * (maxval - minval) + minval


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws re-drawn until within two standard deviations of ``mean`` (Keras 2)."""
    out = torch.empty(tuple(int(s) for s in shape), dtype=_torch_dtype(dtype))
    torch.nn.init.trunc_normal_(out, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=_generator(seed))
    return out * stddev + mean


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Draws of 1 with probability ``p``, else 0."""
    draws = torch.rand(tuple(int(s) for s in shape), generator=_generator(seed))
    return (draws < p).to(_torch_dtype(dtype))


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A tensor of normal draws (Keras 2's variable form of :func:`random_normal`)."""
    return random_normal(shape, mean, scale, dtype, seed)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A tensor of uniform draws in ``[low, high)`` (Keras 2's variable form of :func:`random_uniform`)."""
    return random_uniform(shape, low, high, dtype, seed)


# --- control flow ----------------------------------------------------------------------
def switch(condition, then_expression, else_expression):
    """Element-wise choice; either branch may be a callable. A condition of lower rank is
    broadcast over the trailing axes of the branches."""
    then_value = then_expression() if callable(then_expression) else then_expression
    else_value = else_expression() if callable(else_expression) else else_expression
    cond = _t(condition).bool()
    then_value, else_value = _t(then_value), _t(else_value)
    target = _builtin_max(then_value.dim(), else_value.dim())
    while cond.dim() < target:
        cond = cond.unsqueeze(-1)
    return torch.where(cond, then_value, else_value)


# --- losses ----------------------------------------------------------------------------
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample crossentropy; ``output`` holds probabilities unless ``from_logits``."""
    target, output = _float(target), _float(output)
    if from_logits:
        return -torch.sum(target * torch.log_softmax(output, dim=axis), dim=axis)
    output = output / torch.sum(output, dim=axis, keepdim=True)
    output = torch.clamp(output, epsilon(), 1.0 - epsilon())
    return -torch.sum(target.to(output.dtype) * torch.log(output), dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = _float(output)
    index = _t(target).long()
    if index.dim() == output.dim():
        if index.shape[axis] != 1:
            raise ValueError(f"sparse_categorical_crossentropy: `target` of shape {tuple(index.shape)} must hold one "
                             f"class index per position of `output` {tuple(output.shape)} with the class axis "
                             f"{axis} dropped or of size 1")
        index = index.squeeze(axis)  # the class axis of size 1, where channels-first targets keep it
    if axis != -1 and axis != output.dim() - 1:
        output = output.movedim(axis, -1)
    log_probs = torch.log_softmax(output, dim=-1) if from_logits else torch.log(
        torch.clamp(output / output.sum(-1, keepdim=True), epsilon(), 1.0 - epsilon()))
    return -torch.gather(log_probs, -1, index.unsqueeze(-1)).squeeze(-1)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy (no mean); ``output`` holds probabilities unless ``from_logits``."""
    target, output = _float(target), _float(output)
    target = target.to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clamp(output, epsilon(), 1.0 - epsilon())
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


# --- more element-wise, scans and encodings --------------------------------------------
def cos(x):
    return torch.cos(_float(x))


def sin(x):
    return torch.sin(_float(x))


def cumsum(x, axis=0):
    return torch.cumsum(_t(x), dim=axis)


def cumprod(x, axis=0):
    return torch.cumprod(_t(x), dim=axis)


def logsumexp(x, axis=None, keepdims=False):
    x = _float(x)
    return torch.logsumexp(x, dim=_dims(x, axis), keepdim=keepdims)


def one_hot(indices, num_classes):
    """One-hot rows of ``num_classes`` floats for integer ``indices`` (a new last axis)."""
    index = _t(indices).long()
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= num_classes):
        raise ValueError(f"one_hot: `indices` must lie in [0, {num_classes}) for num_classes={num_classes}, "
                         f"got values from {int(index.min())} to {int(index.max())}")
    return F.one_hot(index, num_classes).to(_DTYPES[floatx()])


def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, start
    return torch.arange(start, stop, step, dtype=_torch_dtype(dtype))


def cast_to_floatx(x):
    """``x`` as a numpy array of ``floatx()`` (Keras 2 returns numpy here, not a tensor)."""
    return np.asarray(x, dtype=floatx())


def identity(x, name=None):
    return _t(x).clone()


def stop_gradient(variables):
    """``variables`` (a tensor or a list of them) cut from the gradient graph."""
    if isinstance(variables, (list, tuple)):
        return [_t(v).detach() for v in variables]
    return _t(variables).detach()


# --- in-place updates (run at once: torch is eager) ------------------------------------
def _updatable(x, fn_name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn_name}: `x` must be a tensor made by K.variable (or a layer weight), "
                        f"got {type(x).__name__}")
    return x


def update(x, new_x):
    """Set ``x`` to ``new_x`` in place and return ``x``."""
    with torch.no_grad():
        return _updatable(x, "update").copy_(_t(new_x).to(x.dtype))


def update_add(x, increment):
    with torch.no_grad():
        return _updatable(x, "update_add").add_(_t(increment).to(x.dtype))


def update_sub(x, decrement):
    with torch.no_grad():
        return _updatable(x, "update_sub").sub_(_t(decrement).to(x.dtype))
