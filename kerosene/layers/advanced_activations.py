"""Activation functions as layers (Keras 2's ``keras.layers.advanced_activations``):
LeakyReLU, PReLU (a learned slope), ELU, ThresholdedReLU, Softmax and ReLU.

Each keeps its input's shape and passes a mask on unchanged::

    >>> import torch
    >>> LeakyReLU(alpha=0.5)(torch.tensor([[-2.0, 3.0]]))
    tensor([[-1.,  3.]])
"""

import numbers

import torch

from .. import activations, initializers
from ._utils import get_constraint, get_regularizer, serialize_object
from .base import Layer, normalize_shape
from .input_spec import InputSpec

__all__ = ["LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"]


def _number(layer, arg, value, minimum=None):
    """``value`` as a float; a non-number (or one below ``minimum``) raises a ValueError naming ``arg``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{layer}: `{arg}` must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{layer}: `{arg}` must be a number >= {minimum}, got {value!r}")
    return float(value)


class _ElementWise(Layer):
    """An activation layer: the output has the input's shape, and a mask passes through."""

    supports_masking = True

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)


class LeakyReLU(_ElementWise):
    """``x`` for ``x >= 0`` and ``alpha * x`` below (``alpha=0.3``; Keras 3's name ``negative_slope``
    is accepted for it). Keras 2 lets ``alpha`` be any number, negative included.

    >>> import torch
    >>> LeakyReLU()(torch.tensor([[-1.0, 2.0]]))
    tensor([[-0.3000,  2.0000]])
    """

    def __init__(self, alpha=0.3, **kwargs):
        if "negative_slope" in kwargs:
            slope = kwargs.pop("negative_slope")
            if alpha != 0.3 and alpha != slope:
                raise ValueError(f"LeakyReLU: give `alpha` (Keras 2) or `negative_slope` (Keras 3), not both "
                                 f"(got alpha={alpha!r}, negative_slope={slope!r})")
            alpha = slope
        super().__init__(**kwargs)
        self.alpha = _number("LeakyReLU", "alpha", alpha)

    def call(self, inputs):
        return torch.nn.functional.leaky_relu(inputs, self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(_ElementWise):
    """``x`` for ``x >= 0`` and ``alpha * x`` below, with ``alpha`` a learned weight (named
    ``alpha``) shaped like one sample of the input, size 1 on each axis of ``shared_axes``
    (an int or a list of axes, 1 being the first after the batch axis).

    >>> import torch
    >>> layer = PReLU(alpha_initializer='ones', shared_axes=[1])
    >>> layer(torch.tensor([[[-2.0, 1.0], [3.0, -4.0]]])).tolist()
    [[[-2.0, 1.0], [3.0, -4.0]]]
    >>> [tuple(w.shape) for w in layer.get_weights()]
    [(1, 2)]
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = get_regularizer(alpha_regularizer, "alpha_regularizer")
        self.alpha_constraint = get_constraint(alpha_constraint, "alpha_constraint")
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = [shared_axes] if not isinstance(shared_axes, (list, tuple)) else shared_axes
            for axis in axes:
                if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis < 1:
                    raise ValueError(f"PReLU: `shared_axes` must be an int >= 1 or a list of them (axis 0 is "
                                     f"the batch axis), got {shared_axes!r}")
            # Keras 2 keeps a tuple as given and makes a list of anything else.
            self.shared_axes = tuple(int(a) for a in axes) if isinstance(shared_axes, tuple) else [
                int(a) for a in axes]
        self.alpha = None

    def build(self, input_shape):
        rank = len(input_shape)
        shared = set(self.shared_axes or ())
        if any(axis >= rank for axis in shared):
            raise ValueError(f"Layer {self.name!r}: `shared_axes` {self.shared_axes!r} names an axis the input "
                             f"of shape {input_shape} does not have (rank {rank})")
        alpha_shape = []
        for axis in range(1, rank):
            if axis in shared:
                alpha_shape.append(1)
            elif input_shape[axis] is None:
                raise ValueError(f"Layer {self.name!r}: axis {axis} of the input (shape {input_shape}) has no "
                                 "fixed size, so alpha cannot be shaped for it: give the input a size there "
                                 "or list the axis in `shared_axes`")
            else:
                alpha_shape.append(int(input_shape[axis]))
        self.alpha = self.add_weight(name="alpha", shape=tuple(alpha_shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.input_spec = InputSpec(ndim=rank, axes={axis: input_shape[axis] for axis in range(1, rank)
                                                     if axis not in shared})

    def call(self, inputs):
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": serialize_object(self.alpha_regularizer),
            "alpha_constraint": serialize_object(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config


class ELU(_ElementWise):
    """``x`` for ``x > 0`` and ``alpha * (exp(x) - 1)`` otherwise (``alpha=1.0``, any number).

    >>> import torch
    >>> ELU(alpha=2.0)(torch.tensor([[0.0, 3.0]])).tolist()
    [[0.0, 3.0]]
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number("ELU", "alpha", alpha)

    def call(self, inputs):
        return torch.nn.functional.elu(inputs, self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_ElementWise):
    """``x`` where ``x > theta`` and 0 elsewhere (``theta=1.0``).

    >>> import torch
    >>> ThresholdedReLU(theta=1.0)(torch.tensor([[0.5, 1.0, 2.0]])).tolist()
    [[0.0, 0.0, 2.0]]
    """

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = _number("ThresholdedReLU", "theta", theta)

    def call(self, inputs):
        return inputs * (inputs > self.theta).to(inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


class Softmax(_ElementWise):
    """Softmax over ``axis`` (default -1; an int, or a list of ints to normalise over several
    axes together as Keras 3 allows).

    >>> import torch
    >>> Softmax()(torch.zeros(1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
            raise ValueError(f"Softmax: `axis` must be an int or a list of ints, got {axis!r}")
        self.axis = axis if not isinstance(axis, (list, tuple)) else list(axis)

    def call(self, inputs):
        if not isinstance(self.axis, list):
            return activations.softmax(inputs, axis=self.axis)
        return torch.exp(inputs - torch.logsumexp(inputs, dim=tuple(self.axis), keepdim=True))

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class ReLU(_ElementWise):
    """Keras 2's rectifier: ``x`` from ``threshold`` up to ``max_value`` (which caps it),
    ``negative_slope * (x - threshold)`` below ``threshold``; the defaults give ``max(x, 0)``.
    ``max_value`` (None: no cap) and ``negative_slope`` must be >= 0.

    >>> import torch
    >>> ReLU(max_value=6.0)(torch.tensor([[-1.0, 3.0, 9.0]])).tolist()
    [[0.0, 3.0, 6.0]]
    >>> ReLU(negative_slope=0.5, threshold=1.0)(torch.tensor([[-1.0, 3.0]])).tolist()
    [[-1.0, 3.0]]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number("ReLU", "max_value", max_value, minimum=0)
        self.negative_slope = _number("ReLU", "negative_slope", negative_slope, minimum=0)
        self.threshold = _number("ReLU", "threshold", threshold)

    def call(self, inputs):
        slope, threshold, cap = self.negative_slope, self.threshold, self.max_value
        if threshold != 0.0:
            out = inputs * (inputs > threshold).to(inputs.dtype)
        else:
            out = torch.relu(inputs)
        # Keras 2 caps the part at or above zero into [0, max_value], then adds the slope below threshold.
        if cap is not None:
            out = torch.clamp(out, 0.0, cap)
        if slope != 0.0:
            out = out - slope * torch.relu(threshold - inputs)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config
