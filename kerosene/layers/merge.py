"""Merge layers: combine a list of tensors into one.

Each layer takes a list of tensors; the lower-case helpers (``add``,
``concatenate``, ...) make the layer and apply it in one go::

    >>> import torch
    >>> a, b = torch.ones(2, 3), torch.ones(2, 3)
    >>> Add()([a, b])[0]
    tensor([2., 2., 2.])
    >>> concatenate([a, b]).shape
    torch.Size([2, 6])

As in Keras 2, the element-wise layers (``Add`` to ``Minimum``) take inputs of different
ranks: a lower-rank input gets size-1 axes inserted after the batch axis, then the
inputs broadcast (``(batch, 5)`` merges with ``(batch, 4, 5)``).
"""

import functools

import torch
import torch.nn.functional as F

from ..symbolic import as_keras_tensor, is_symbolic
from .base import Layer, normalize_shape

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "Dot", "add", "subtract", "multiply", "average", "maximum", "minimum",
           "concatenate", "dot"]


def _broadcast_shape(a, b, name):
    """Keras 2's shape of an element-wise op on shapes ``a`` and ``b`` (batch excluded):
    right-aligned, a size-1 axis takes the other's size, an unknown size stays unknown."""
    if len(a) < len(b):
        a, b = b, a
    out = list(a[:len(a) - len(b)])
    for x, y in zip(a[len(a) - len(b):], b):
        if x is None or y is None:
            out.append(None)
        elif x == 1 or y == 1 or x == y:
            out.append(max(x, y))
        else:
            raise ValueError(f"Layer {name!r}: inputs with shapes {tuple(a)} and {tuple(b)} "
                             "(batch axis excluded) cannot be merged: they do not broadcast.")
    return tuple(out)


def _static_shape(x):
    """The shape of a tensor or symbolic tensor (batch first), None for anything else."""
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    if is_symbolic(x) and not isinstance(x, (list, tuple)):
        return tuple(as_keras_tensor(x).shape)
    return None


class _Merge(Layer):
    _checked_axis = None
    _min_inputs = 2
    _max_inputs = None
    supports_masking = True

    def _input_shapes(self, input_shape):
        """``input_shape`` as a list of shapes, checked for the number of inputs."""
        shapes = normalize_shape(input_shape) if isinstance(input_shape, list) else None
        if not isinstance(shapes, list) or not all(isinstance(s, tuple) for s in shapes):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on a list of "
                             f"inputs, got {input_shape!r}.")
        self._check_count(len(shapes), shapes)
        batches = {s[0] for s in shapes if s} - {None}
        if len(batches) > 1:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): cannot merge tensors with "
                             f"different batch sizes, got shapes {shapes}.")
        return shapes

    def _check_count(self, n, shapes):
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            wanted = (f"exactly {self._min_inputs}" if self._max_inputs == self._min_inputs
                      else f"at least {self._min_inputs}")
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on a list of "
                             f"{wanted} inputs, got {n} (shapes {shapes}).")

    def _symbolic_call_shapes(self, inputs, kwargs):
        """Keras 2 checks the symbolic shapes at every call (built or not) and keeps unknown
        sizes unknown: the output shape comes from them, not from the shape probe."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on a list of "
                             f"inputs, got one tensor of shape {tuple(inputs.shape)}.")
        shapes = [tuple(t.shape) for t in inputs]
        expected = self.compute_output_shape(shapes)
        if not self.built:
            self.build(shapes)
        return [expected]

    def compute_mask(self, inputs, mask=None):
        """Keras 2: a step is kept when every masked input keeps it (inputs without a mask
        keep all); ``mask`` is a list with one entry (or None) per input."""
        masks = self._given_masks(inputs, mask)
        if masks is None:
            return None
        return functools.reduce(torch.logical_and, [torch.as_tensor(m).bool() for m in masks if m is not None])

    def _given_masks(self, inputs, mask):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"Layer {self.name!r}: `mask` must be a list (one mask or None per input), "
                             f"got {type(mask).__name__}.")
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer {self.name!r}: `inputs` must be a list when masks are given, "
                             f"got {type(inputs).__name__}.")
        if len(mask) != len(inputs):
            raise ValueError(f"Layer {self.name!r}: `inputs` and `mask` must have the same length, got "
                             f"{len(inputs)} inputs and {len(mask)} masks.")
        if all(m is None for m in mask):
            return None
        return list(mask)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def _merge(self, inputs):
        raise NotImplementedError

    def _checked_list(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on a list of "
                             f"inputs, got {type(inputs).__name__}.")
        n = len(inputs)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            self._check_count(n, [tuple(x.shape) for x in inputs])
        return list(inputs)

    def call(self, inputs):
        inputs = self._checked_list(inputs)
        top = max(x.dim() for x in inputs)
        inputs = [x if x.dim() == top else x.reshape(x.shape[:1] + (1,) * (top - x.dim()) + x.shape[1:])
                  for x in inputs]
        try:
            return self._merge(inputs)
        except RuntimeError as err:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): inputs of shapes "
                             f"{[tuple(x.shape) for x in inputs]} cannot be merged ({err}).") from None

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = _broadcast_shape(out, s[1:], self.name)
        batches = {s[0] for s in shapes} - {None}
        return (batches.pop() if len(batches) == 1 else None,) + tuple(out)


def _reduce(fn, inputs):
    return functools.reduce(fn, inputs)


class Add(_Merge):
    """Element-wise sum of a list of tensors of the same shape.

    >>> import torch
    >>> Add()([torch.ones(1, 2), torch.ones(1, 2)])
    tensor([[2., 2.]])
    """

    def _merge(self, inputs):
        return _reduce(torch.add, inputs)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs).

    >>> import torch
    >>> Subtract()([torch.ones(1, 2), torch.ones(1, 2)])
    tensor([[0., 0.]])
    """

    _max_inputs = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Element-wise product.

    >>> import torch
    >>> Multiply()([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)])
    tensor([[6., 6.]])
    """

    def _merge(self, inputs):
        return _reduce(torch.mul, inputs)


class Average(_Merge):
    """Element-wise mean.

    >>> import torch
    >>> Average()([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[0.5000, 0.5000]])
    """

    def _merge(self, inputs):
        return _reduce(torch.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Element-wise maximum.

    >>> import torch
    >>> Maximum()([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[1., 1.]])
    """

    def _merge(self, inputs):
        return _reduce(torch.maximum, inputs)


class Minimum(_Merge):
    """Element-wise minimum.

    >>> import torch
    >>> Minimum()([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[0., 0.]])
    """

    def _merge(self, inputs):
        return _reduce(torch.minimum, inputs)


class Concatenate(_Merge):
    """Concatenates a list of tensors along ``axis`` (default -1).

    >>> import torch
    >>> Concatenate(axis=1)([torch.ones(2, 3), torch.ones(2, 4)]).shape
    torch.Size([2, 7])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Argument 'axis' must be an int, got {axis!r}.")
        self.axis = axis

    def call(self, inputs):
        inputs = self._checked_list(inputs)
        try:
            return torch.cat(inputs, dim=self.axis)
        except (RuntimeError, IndexError) as err:
            raise ValueError(f"Layer {self.name!r} (Concatenate): inputs of shapes "
                             f"{[tuple(x.shape) for x in inputs]} cannot be concatenated on axis "
                             f"{self.axis} ({err}).") from None

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ValueError(f"Layer {self.name!r}: Concatenate axis {self.axis} is out of range for "
                             f"inputs of rank {rank} (shapes {shapes}).")
        axis = self.axis % rank
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(a != b and a is not None and b is not None
                                     for i, (a, b) in enumerate(zip(out, s)) if i != axis):
                raise ValueError(f"Layer {self.name!r}: Concatenate needs inputs with matching "
                                 f"shapes except on axis {self.axis}, got {shapes}.")
            out[axis] = None if out[axis] is None or s[axis] is None else out[axis] + s[axis]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        """Keras 2: the masks (an input without one keeps every position) concatenated on
        ``axis``, each first given the input's rank with trailing size-1 axes; a position is
        kept when it is kept on every entry of the last axis. Without the inputs' shapes
        (``inputs`` not tensors) the masks are combined position by position."""
        masks = self._given_masks(inputs, mask)
        if masks is None:
            return None
        shapes = [_static_shape(x) for x in inputs]
        given = [torch.as_tensor(m).bool() for m in masks if m is not None]
        rank = len(shapes[0]) if shapes[0] is not None else None
        if rank is None or any(s is None or len(s) != rank for s in shapes) or any(g.dim() > rank for g in given):
            return functools.reduce(torch.logical_and, given)
        axis = self.axis % rank
        full = []
        for shape, m in zip(shapes, masks):
            if m is None:
                if shape[axis] is None:
                    return functools.reduce(torch.logical_and, given)
                m = torch.ones([shape[axis] if i == axis else 1 for i in range(rank)], dtype=torch.bool,
                               device=given[0].device)
            else:
                m = torch.as_tensor(m).bool()
                m = m.reshape(tuple(m.shape) + (1,) * (rank - m.dim()))
            full.append(m)
        # Every axis but the concatenation axis broadcasts to a common size.
        common = [max(m.shape[i] for m in full) for i in range(rank)]
        full = [m.expand([m.shape[i] if i == axis else common[i] for i in range(rank)]) for m in full]
        return torch.cat(full, dim=axis).all(dim=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Batched dot product of two tensors along ``axes`` (an int, or one axis
    per input; batch axis excluded), optionally L2-normalised first (cosine
    proximity).  Two ``(batch, n)`` inputs give ``(batch, 1)``.

    >>> import torch
    >>> Dot(axes=1)([torch.ones(2, 3), torch.ones(2, 3)])
    tensor([[3.],
            [3.]])
    """

    _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        axes = tuple(int(a) for a in axes)
        if len(axes) != 2:
            raise ValueError(f"Argument 'axes' must be an int or a pair of ints, got {axes!r}.")
        self.axes = axes
        self.normalize = bool(normalize)

    def compute_mask(self, inputs, mask=None):
        """Keras 2: Dot passes no mask on."""
        return None

    def _resolved_axes(self, rank_x, rank_y):
        ax, ay = self.axes
        return ax % rank_x, ay % rank_y

    def call(self, inputs):
        x, y = self._checked_list(inputs)
        ax, ay = self._resolved_axes(x.dim(), y.dim())
        if self.normalize:
            x = F.normalize(x, dim=ax)
            y = F.normalize(y, dim=ay)
        xm = x.movedim(ax, -1)
        ym = y.movedim(ay, 1)
        b, d = x.shape[0], x.shape[ax]
        x_rest, y_rest = xm.shape[1:-1], ym.shape[2:]
        out = torch.bmm(xm.reshape(b, -1, d), ym.reshape(b, d, -1))
        out = out.reshape((b,) + tuple(x_rest) + tuple(y_rest))
        if out.dim() == 1:
            out = out.unsqueeze(1)
        return out

    def compute_output_shape(self, input_shape):
        sx, sy = self._input_shapes(input_shape)
        ax, ay = self._resolved_axes(len(sx), len(sy))
        if sx[ax] is not None and sy[ay] is not None and sx[ax] != sy[ay]:
            raise ValueError(f"Layer {self.name!r}: Dot axes {self.axes} have sizes "
                             f"{sx[ax]} and {sy[ay]}; they must match.")
        out = [s for i, s in enumerate(sx) if i != ax] + [
            s for i, s in enumerate(sy) if i not in (0, ay)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """``Dot(axes, normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
