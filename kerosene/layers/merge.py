"""Merge layers: combine a list of tensors into one.

Each layer takes a list of tensors; the lower-case helpers (``add``,
``concatenate``, ...) make the layer and apply it in one go::

    >>> import torch
    >>> a, b = torch.ones(2, 3), torch.ones(2, 3)
    >>> Add()([a, b])[0]
    tensor([2., 2., 2.])
    >>> concatenate([a, b]).shape
    torch.Size([2, 6])
"""

import functools

import torch
import torch.nn.functional as F

from .base import Layer, normalize_shape

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "Dot", "add", "subtract", "multiply", "average", "maximum", "minimum",
           "concatenate", "dot"]


def _broadcast_shape(a, b, name):
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a
    b = [1] * (len(a) - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x is None or y is None:
            out.append(None if x != 1 and y != 1 else (y if x == 1 else x))
        elif x == 1 or y == 1 or x == y:
            out.append(max(x, y))
        else:
            raise ValueError(f"Layer {name!r}: inputs with shapes {tuple(a)} and {tuple(b)} "
                             "cannot be merged (they do not broadcast).")
    return tuple(out)


class _Merge(Layer):
    _checked_axis = None
    _min_inputs = 2
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """A step is kept when every masked input keeps it (inputs without a mask keep all)."""
        if mask is None:
            return None
        masks = [m for m in (mask if isinstance(mask, (list, tuple)) else [mask]) if m is not None]
        return functools.reduce(torch.logical_and, masks) if masks else None

    def _check_inputs(self, shapes):
        if not isinstance(shapes, list) or len(shapes) < self._min_inputs:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on "
                             f"a list of at least {self._min_inputs} inputs, got {shapes!r}.")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.compute_output_shape(input_shape)

    def _merge(self, inputs):
        raise NotImplementedError

    def call(self, inputs):
        return self._merge(list(inputs))

    def compute_output_shape(self, input_shape):
        shapes = normalize_shape(list(input_shape))
        self._check_inputs(shapes)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = _broadcast_shape(out, s[1:], self.name)
        return (shapes[0][0],) + tuple(out)


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

    def _check_inputs(self, shapes):
        if not isinstance(shapes, list) or len(shapes) != 2:
            raise ValueError(f"Layer {self.name!r} (Subtract) must be called on a list of "
                             f"exactly 2 inputs, got {shapes!r}.")

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

    _min_inputs = 1

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Argument 'axis' must be an int, got {axis!r}.")
        self.axis = axis

    def _merge(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = normalize_shape(list(input_shape))
        self._check_inputs(shapes)
        rank = len(shapes[0])
        axis = self.axis % rank
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(a != b and a is not None and b is not None
                                     for i, (a, b) in enumerate(zip(out, s)) if i != axis):
                raise ValueError(f"Layer {self.name!r}: Concatenate needs inputs with matching "
                                 f"shapes except on axis {self.axis}, got {shapes}.")
            out[axis] = None if out[axis] is None or s[axis] is None else out[axis] + s[axis]
        return tuple(out)

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

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        axes = tuple(int(a) for a in axes)
        if len(axes) != 2:
            raise ValueError(f"Argument 'axes' must be an int or a pair of ints, got {axes!r}.")
        self.axes = axes
        self.normalize = bool(normalize)

    def _check_inputs(self, shapes):
        if not isinstance(shapes, list) or len(shapes) != 2:
            raise ValueError(f"Layer {self.name!r} (Dot) must be called on a list of exactly "
                             f"2 inputs, got {shapes!r}.")

    def _resolved_axes(self, rank_x, rank_y):
        ax, ay = self.axes
        return ax % rank_x, ay % rank_y

    def _merge(self, inputs):
        x, y = inputs
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
        shapes = normalize_shape(list(input_shape))
        self._check_inputs(shapes)
        sx, sy = shapes
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
