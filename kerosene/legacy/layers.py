"""The layers Keras 2.2.4 kept only for Keras 1 scripts: ``MaxoutDense``,
``Highway``, and ``AtrousConvolution1D``/``2D`` (now ``Conv1D``/``Conv2D``
with ``dilation_rate``).  They keep their Keras 1 argument and config names
(``output_dim``, ``init``, ``W_regularizer``, ``bias``...) and weight names
(``W``, ``b``), as Keras 2.2.4 saves them.
"""

import warnings

import torch

from .. import activations, initializers
from ..layers._utils import check_positive_int, get_constraint, get_regularizer, serialize_object
from ..layers.base import Layer, normalize_shape
from ..layers.convolutional import Conv1D, Conv2D
from ..layers.input_spec import InputSpec

__all__ = ["MaxoutDense", "Highway", "AtrousConvolution1D", "AtrousConvolution2D"]


def _deprecated(name, instead):
    warnings.warn(f"The `{name}` layer is deprecated (a Keras 1 layer); {instead}.", UserWarning, stacklevel=3)


class _Keras1Dense(Layer):
    """Shared by the Keras 1 dense layers: the ``init``/``W_*``/``b_*``/``bias`` arguments."""

    def __init__(self, init="glorot_uniform", weights=None, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 input_dim=None, **kwargs):
        if input_dim is not None:
            input_dim = check_positive_int(input_dim, "input_dim")
        super().__init__(weights=weights, activity_regularizer=activity_regularizer, input_dim=input_dim,
                         **kwargs)
        self.init = initializers.get(init)
        self.W_regularizer = get_regularizer(W_regularizer, "W_regularizer")
        self.b_regularizer = get_regularizer(b_regularizer, "b_regularizer")
        self.W_constraint = get_constraint(W_constraint, "W_constraint")
        self.b_constraint = get_constraint(b_constraint, "b_constraint")
        if not isinstance(bias, (bool, int)):
            raise TypeError(f"Argument 'bias' must be True or False, got {bias!r}.")
        self.bias = bool(bias)
        self.input_dim = input_dim
        self.input_spec = InputSpec(ndim=2)

    def _input_dim(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"Layer {self.name!r}: the last dimension of the inputs to {type(self).__name__} "
                             f"must be defined, got input shape {input_shape}.")
        self.input_spec = InputSpec(ndim=2, axes={-1: dim})
        return dim

    def get_config(self):
        config = super().get_config()
        config.update({"init": initializers.serialize(self.init),
                       "W_regularizer": serialize_object(self.W_regularizer),
                       "b_regularizer": serialize_object(self.b_regularizer),
                       "activity_regularizer": serialize_object(self.activity_regularizer),
                       "W_constraint": serialize_object(self.W_constraint),
                       "b_constraint": serialize_object(self.b_constraint),
                       "bias": self.bias, "input_dim": self.input_dim})
        return config


class MaxoutDense(_Keras1Dense):
    """Maxout: the element-wise maximum of ``nb_feature`` linear maps
    ``inputs @ W[k] + b[k]`` (``W``: ``(nb_feature, input_dim, output_dim)``).
    A linear layer: add an activation after it if one is wanted.

    >>> import warnings, torch
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')
    ...     layer = MaxoutDense(3, nb_feature=2)
    >>> layer(torch.ones(4, 5)).shape
    torch.Size([4, 3])
    >>> [w.shape for w in layer.get_weights()]
    [(2, 5, 3), (2, 3)]
    """

    def __init__(self, output_dim, nb_feature=4, init="glorot_uniform", weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None,
                 bias=True, input_dim=None, **kwargs):
        _deprecated("MaxoutDense", "use Dense layers and a maximum instead")
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                         b_constraint, bias, input_dim, **kwargs)
        self.output_dim = check_positive_int(output_dim, "output_dim")
        self.nb_feature = check_positive_int(nb_feature, "nb_feature")
        self.b = None

    def build(self, input_shape):
        dim = self._input_dim(input_shape)
        self.W = self._add_weight("W", (self.nb_feature, dim, self.output_dim), self.init,
                                  regularizer=self.W_regularizer, constraint=self.W_constraint)
        if self.bias:
            self.b = self._add_weight("b", (self.nb_feature, self.output_dim), "zeros",
                                      regularizer=self.b_regularizer, constraint=self.b_constraint)

    def call(self, inputs):
        out = torch.einsum("bi,kio->bko", inputs, self.W)
        if self.b is not None:
            out = out + self.b
        return out.max(dim=1).values

    def compute_output_shape(self, input_shape):
        return (normalize_shape(input_shape)[0], self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"output_dim": self.output_dim, "nb_feature": self.nb_feature})
        return config


class Highway(_Keras1Dense):
    """Highway layer: ``t * activation(x @ W + b) + (1 - t) * x`` with the
    transform gate ``t = sigmoid(x @ W_carry + b_carry)`` (``b_carry`` starts
    at ones); the output has the input's shape.

    >>> import warnings, torch
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')
    ...     layer = Highway(activation='relu')
    >>> layer(torch.ones(4, 5)).shape
    torch.Size([4, 5])
    >>> [w.shape for w in layer.get_weights()]
    [(5, 5), (5, 5), (5,), (5,)]
    """

    def __init__(self, init="glorot_uniform", activation=None, weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None, b_constraint=None,
                 bias=True, input_dim=None, **kwargs):
        _deprecated("Highway", "write the gate with Dense layers instead")
        if "transform_bias" in kwargs:
            kwargs.pop("transform_bias")
            warnings.warn("Highway: the `transform_bias` argument was removed in Keras 2 and is ignored.",
                          UserWarning, stacklevel=2)
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
                         b_constraint, bias, input_dim, **kwargs)
        self.activation = activations.get(activation)
        self.b = self.b_carry = None

    def build(self, input_shape):
        dim = self._input_dim(input_shape)
        self.W = self._add_weight("W", (dim, dim), self.init, regularizer=self.W_regularizer,
                                  constraint=self.W_constraint)
        self.W_carry = self._add_weight("W_carry", (dim, dim), self.init)
        if self.bias:
            self.b = self._add_weight("b", (dim,), "zeros", regularizer=self.b_regularizer,
                                      constraint=self.b_constraint)
            self.b_carry = self._add_weight("b_carry", (dim,), "ones")

    def call(self, inputs):
        gate = inputs @ self.W_carry
        act = inputs @ self.W
        if self.bias:
            gate, act = gate + self.b_carry, act + self.b
        gate = torch.sigmoid(gate)
        return self.activation(act) * gate + (1 - gate) * inputs

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


def _atrous(name, conv, args, kwargs):
    kwargs = dict(kwargs)
    rate = kwargs.pop("atrous_rate", 1)
    if "dilation_rate" in kwargs:
        raise TypeError(f"`{name}` received both the Keras 1 argument `atrous_rate` and its Keras 2 name "
                        "`dilation_rate`; pass only one.")
    _deprecated(name, f"use `{conv.__name__}(..., dilation_rate={rate!r})`")
    return conv(*args, dilation_rate=rate, **kwargs)


def AtrousConvolution1D(*args, **kwargs):
    """Keras 1's dilated 1D convolution: a ``Conv1D`` with ``dilation_rate=atrous_rate``.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')
    ...     AtrousConvolution1D(4, 3, atrous_rate=2).dilation_rate
    (2,)
    """
    return _atrous("AtrousConvolution1D", Conv1D, args, kwargs)


def AtrousConvolution2D(*args, **kwargs):
    """Keras 1's dilated 2D convolution: a ``Conv2D`` with ``dilation_rate=atrous_rate``.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')
    ...     AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2)).kernel_size
    (3, 3)
    """
    return _atrous("AtrousConvolution2D", Conv2D, args, kwargs)
