"""Keras 2's backend module (``from kerosene import backend as K``) on torch tensors.

The functions custom layers, losses and metrics call, with Keras's names and
``axis``/``keepdims`` arguments. They take torch tensors (numpy arrays and Python
numbers are converted) and return torch tensors, so they work inside ``call``::

    >>> import torch
    >>> from kerosene import backend as K
    >>> x = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> K.sum(K.square(x), axis=-1, keepdims=True)
    tensor([[ 5.],
            [25.]])

``K.set_value(model.optimizer.lr, 1e-3)`` sets an optimizer's learning rate, as in
Keras 2 callbacks.
"""
from __future__ import annotations

import contextlib
import gc

import numpy as np
import torch
import torch.nn.functional as F

from . import _naming
from .symbolic import KerasTensor, as_keras_tensor, is_symbolic, nodes_between, run_nodes

__all__ = [
    "image_data_format", "set_image_data_format", "epsilon", "set_epsilon", "floatx", "set_floatx",
    "backend", "get_value", "set_value", "batch_get_value", "batch_set_value", "clear_session",
    "learning_phase", "set_learning_phase", "variable", "constant", "is_tensor", "is_keras_tensor",
    "BoundHyperparameter",
    "sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "argmax", "argmin",
    "square", "sqrt", "abs", "exp", "log", "pow", "sign", "round", "maximum", "minimum",
    "relu", "elu", "sigmoid", "hard_sigmoid", "tanh", "softmax", "softplus", "softsign", "clip", "cast",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "l2_normalize", "concatenate", "stack", "reshape", "transpose", "permute_dimensions",
    "expand_dims", "squeeze", "flatten", "batch_flatten", "repeat_elements", "tile", "gather",
    "dot", "batch_dot", "shape", "int_shape", "ndim", "dtype", "count_params",
    "ones", "zeros", "eye", "ones_like", "zeros_like", "random_normal", "random_uniform",
    "switch", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "cos", "sin", "cumsum", "cumprod", "logsumexp", "one_hot", "arange", "cast_to_floatx",
    "update", "update_add", "update_sub", "stop_gradient", "identity", "in_train_phase", "in_test_phase",
    "eval", "placeholder", "is_placeholder", "function", "GraphFunction", "name_scope", "get_session",
    "set_session",
]

_builtin_sum, _builtin_max, _builtin_min, _builtin_abs, _builtin_round = sum, max, min, abs, round
_builtin_any, _builtin_all, _builtin_pow = any, all, pow

_CONFIG = {"image_data_format": "channels_last", "epsilon": 1e-7, "floatx": "float32"}
_FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")
_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool,
}


# --- configuration ---------------------------------------------------------------------
def backend():
    """The name of the backend: ``'torch'``."""
    return "torch"


def image_data_format():
    """The default ``data_format`` of image layers: ``'channels_last'`` unless set."""
    return _CONFIG["image_data_format"]


def set_image_data_format(data_format):
    """Set the default ``data_format``: ``'channels_last'`` or ``'channels_first'``."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first', got {data_format!r}")
    _CONFIG["image_data_format"] = data_format


def epsilon():
    """The fuzz factor Keras adds to avoid division by zero (1e-7)."""
    return _CONFIG["epsilon"]


def set_epsilon(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`value` must be a number >= 0, got {value!r}")
    _CONFIG["epsilon"] = float(value)


def floatx():
    """The default float type as a string, ``'float32'``."""
    return _CONFIG["floatx"]


def set_floatx(value):
    if value not in _FLOAT_TYPES:
        raise ValueError(f"`value` must be one of {_FLOAT_TYPES}, got {value!r}")
    _CONFIG["floatx"] = value


def _torch_dtype(dtype, argname="dtype"):
    if dtype is None:
        return _DTYPES[floatx()]
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        name = dtype if isinstance(dtype, str) and dtype in _DTYPES else str(np.dtype(dtype))
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise ValueError(f"`{argname}` must be one of {sorted(_DTYPES)}, got {dtype!r}")
    return _DTYPES[name]


# --- values and variables --------------------------------------------------------------
class BoundHyperparameter(float):
    """A float read from an object's attribute that remembers where it came from.

    ``model.optimizer.lr`` returns one, so Keras 2's ``K.set_value(model.optimizer.lr, v)``
    can write ``v`` back to the optimizer. It is a plain float in every other use::

        >>> class Opt:
        ...     lr = 0.1
        >>> opt = Opt()
        >>> value = BoundHyperparameter(opt.lr, opt, "lr")
        >>> set_value(value, 0.01); opt.lr
        0.01
    """

    def __new__(cls, value, owner, attribute):
        self = float.__new__(cls, value)
        self._owner = owner
        self._attribute = attribute
        return self

    def __reduce__(self):  # pickles and copies as the plain number
        return (float, (float(self),))


def variable(value, dtype=None, name=None, constraint=None):
    """A trainable-free tensor holding ``value`` (Keras's ``K.variable``)."""
    return torch.as_tensor(np.asarray(value), dtype=_torch_dtype(dtype)).clone()


def constant(value, dtype=None, shape=None, name=None):
    t = torch.as_tensor(np.asarray(value), dtype=_torch_dtype(dtype))
    return t.expand(shape).clone() if shape is not None else t.clone()


def is_tensor(x):
    return isinstance(x, torch.Tensor)


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of the functional API."""
    return isinstance(x, KerasTensor)


def get_value(x):
    """The value of a tensor (as a numpy array) or of an optimizer hyperparameter (a float)."""
    if isinstance(x, BoundHyperparameter):
        return float(getattr(x._owner, x._attribute))
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (int, float, np.ndarray, np.number)):
        return x
    raise TypeError(f"get_value: `x` must be a tensor or a value read from an optimizer "
                    f"(e.g. model.optimizer.lr), got {type(x).__name__}")


def set_value(x, value):
    """Set a tensor in place, or an optimizer hyperparameter read as ``optimizer.lr``."""
    if isinstance(x, BoundHyperparameter):
        setattr(x._owner, x._attribute, float(np.asarray(value)))
        return
    if isinstance(x, torch.Tensor):
        new = torch.as_tensor(np.asarray(value), dtype=x.dtype)
        if tuple(new.shape) != tuple(x.shape):
            raise ValueError(f"set_value: `value` has shape {tuple(new.shape)}, the tensor has "
                             f"shape {tuple(x.shape)}")
        with torch.no_grad():
            x.copy_(new)
        return
    raise TypeError(
        f"set_value: `x` must be a tensor or an optimizer hyperparameter such as "
        f"model.optimizer.lr, got {type(x).__name__} {x!r}; to change a plain attribute, assign it")


def batch_get_value(xs):
    return [get_value(x) for x in xs]


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def clear_session():
    """Restart automatic layer naming (``dense``, ``dense_1`` ...) and free memory."""
    _naming.reset()
    gc.collect()


_LEARNING_PHASE = [0]


class LearningPhase(int):
    """The int ``K.learning_phase()`` returns; among ``K.function``'s inputs it stands for
    the train/test flag fed with each call (as Keras 2's learning-phase placeholder)."""


def learning_phase():
    """0 (inference) or 1 (training) as last set; layers read torch's ``module.training``."""
    return LearningPhase(_LEARNING_PHASE[0])


def set_learning_phase(value):
    if value not in (0, 1):
        raise ValueError(f"`value` must be 0 or 1, got {value!r}")
    _LEARNING_PHASE[0] = value


# --- helpers ---------------------------------------------------------------------------
def _t(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (bool, int, float)):
        return torch.tensor(x, dtype=_DTYPES[floatx()] if isinstance(x, float) else None)
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        arr = arr.astype(floatx())
    return torch.as_tensor(arr)


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
    """Keras 2's relu: ``alpha`` slope below ``threshold``, capped at ``max_value``."""
    x = _float(x)
    if alpha == 0.0 and threshold == 0.0:
        out = F.relu(x)
    else:
        out = torch.where(x >= threshold, x, alpha * (x - threshold))
    if max_value is not None:
        out = torch.clamp(out, max=max_value)
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
    """The shape of ``x`` as a tuple of ints (``K.shape(x)[0]`` is the batch size)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


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
    """The Keras dtype name, e.g. ``'float32'``."""
    return str(_t(x).dtype).replace("torch.", "")


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
    if axis != -1 and axis != output.dim() - 1:
        output = output.movedim(axis, -1)
    log_probs = torch.log_softmax(output, dim=-1) if from_logits else torch.log(
        torch.clamp(output / output.sum(-1, keepdim=True), epsilon(), 1.0 - epsilon()))
    index = _t(target).long()
    if index.dim() == output.dim():
        index = index.squeeze(-1)
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


# --- learning phase --------------------------------------------------------------------
def in_train_phase(x, alt, training=None):
    """``x`` when training (``training``, else the learning phase, is 1), else ``alt``;
    either may be a callable."""
    if training is None:
        training = learning_phase()
    chosen = x if training in (1, True) else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x, alt, training=None):
    return in_train_phase(alt, x, training=training)


# --- evaluation: K.eval, placeholders and K.function -----------------------------------
def eval(x):
    """The value of a tensor (or of ``optimizer.lr``) as numpy."""
    if isinstance(x, KerasTensor):
        raise ValueError(f"eval: `x` is a symbolic tensor ({x!r}) with no value of its own; "
                         "feed its inputs through K.function(inputs, [x]) instead")
    return np.asarray(get_value(x))


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A symbolic tensor to feed through ``K.function``; ``shape`` includes the batch
    axis (``None`` for any size), or give ``ndim`` alone."""
    if sparse:
        raise ValueError("placeholder: `sparse=True` is not supported: torch layers take dense "
                         "tensors (pass a scipy sparse matrix to fit/predict instead)")
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder: give `shape` (a tuple, None for unknown sizes) or `ndim`")
        shape = (None,) * int(ndim)
    dtype = floatx() if dtype is None else str(_torch_dtype(dtype)).replace("torch.", "")
    return KerasTensor(tuple(None if d is None else int(d) for d in shape), dtype, name=name or "placeholder")


def is_placeholder(x):
    """Whether ``x`` is a symbolic tensor fed from outside (a placeholder or an Input)."""
    return isinstance(x, KerasTensor) and (x.node is None or not x.node.inputs)


class GraphFunction:
    """A callable from input arrays to output arrays over a graph of layer calls, made by
    ``K.function(inputs, outputs)``; Keras 2's recipe for a layer's intermediate output::

        >>> from kerosene.layers import Input, Dense
        >>> x = Input(shape=(3,))
        >>> hidden = Dense(2, kernel_initializer='ones')(x)
        >>> out = Dense(1)(hidden)
        >>> get_hidden = function([x], [hidden])
        >>> get_hidden([np.ones((1, 3))])[0]
        array([[3., 3.]], dtype=float32)

    ``K.learning_phase()`` among the inputs is fed 0 (test) or 1 (train) with each call;
    otherwise layers run in test mode. Gradients are not tracked.
    """

    def __init__(self, inputs, outputs, name=None):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"function: `inputs` must be a list or tuple of symbolic tensors, got "
                            f"{type(inputs).__name__}")
        self._single = not isinstance(outputs, (list, tuple))
        self.inputs = [x if isinstance(x, LearningPhase) else self._symbolic(x, "inputs") for x in inputs]
        self.outputs = [o if isinstance(o, torch.Tensor) else self._symbolic(o, "outputs")
                        for o in ([outputs] if self._single else outputs)]
        self.name = name
        fed = [x for x in self.inputs if not isinstance(x, LearningPhase)]
        self._nodes = nodes_between(fed, [o for o in self.outputs if isinstance(o, KerasTensor)],
                                    "function", "the function's inputs")
        self._layers = list({id(n.layer): n.layer for n in self._nodes}.values())

    @staticmethod
    def _symbolic(x, argname):
        if not is_symbolic(x) or isinstance(x, (list, tuple)):
            raise TypeError(f"function: each of `{argname}` must be a symbolic tensor (an Input, a "
                            f"placeholder or a layer's output), got {type(x).__name__} {x!r}")
        return as_keras_tensor(x)

    def _device(self):
        for layer in self._layers:
            for tensor in layer.parameters():
                return tensor.device
        return None

    def _feed(self, tensor, value):
        value = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        value = value.to(_torch_dtype(tensor.dtype))
        expected = tensor.shape
        if value.dim() != len(expected) or _builtin_any(e is not None and e != g
                                                        for e, g in zip(expected, value.shape)):
            raise ValueError(f"function: the value fed for {tensor.name!r} has shape {tuple(value.shape)}, "
                             f"the tensor expects {expected}")
        return value

    def __call__(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(self.inputs):
            got = f"a {type(inputs).__name__} of {len(inputs)}" if isinstance(inputs, (list, tuple)) \
                else type(inputs).__name__
            raise ValueError(f"function: call it with a list of {len(self.inputs)} value(s), one per input, "
                             f"got {got}")
        device, values, training = self._device(), {}, False
        for tensor, value in zip(self.inputs, inputs):
            if isinstance(tensor, LearningPhase):
                training = bool(int(np.asarray(value)))
            else:
                fed = self._feed(tensor, value)
                values[id(tensor)] = fed if device is None else fed.to(device)
        modes = [(m, m.training) for layer in self._layers for m in layer.modules()]
        try:
            for layer in self._layers:
                layer.train(training)
            with torch.no_grad():
                run_nodes(self._nodes, values)
        finally:
            for module, mode in modes:
                module.training = mode
        results = [(o if isinstance(o, torch.Tensor) else values[id(o)]).detach().cpu().numpy()
                   for o in self.outputs]
        return results[0] if self._single else results


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """``GraphFunction(inputs, outputs)``: a callable over numpy arrays (see GraphFunction)."""
    if kwargs:
        raise TypeError(f"function: unexpected keyword arguments {sorted(kwargs)}; accepted are "
                        "inputs, outputs, updates, name")
    if updates:
        raise ValueError("function: `updates` are not supported: torch runs K.update/K.update_add "
                         "at once when they are called, so there is nothing to run later")
    return GraphFunction(inputs, outputs, name=name)


@contextlib.contextmanager
def name_scope(name):
    """A context for grouping names (Keras 2's ``K.name_scope``); torch has no graph names,
    so it only yields ``name``."""
    yield name


def get_session():
    raise RuntimeError("get_session: kerosene runs on PyTorch, which has no TensorFlow session; read "
                       "values with K.eval / K.get_value and run graphs with K.function")


def set_session(session):
    raise RuntimeError("set_session: kerosene runs on PyTorch, which has no TensorFlow session to set")
