"""BatchNormalization and LayerNormalization with Keras's conventions."""

import torch
import torch.nn.functional as F

from .. import initializers
from ._utils import get_constraint, get_regularizer, serialize_object
from .base import Layer, normalize_shape

__all__ = ["BatchNormalization", "LayerNormalization"]


def _single_axis(axis, name):
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ValueError(f"Layer {name!r}: BatchNormalization supports a single 'axis', "
                             f"got {axis!r}.")
        axis = axis[0]
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"Argument 'axis' must be an int, got {axis!r}.")
    return axis


def _is_false(training):
    # training=False or 0 (Keras 2 accepts both); a tensor or None decides at run time.
    return training is not None and not isinstance(training, torch.Tensor) and not training


class BatchNormalization(Layer):
    """Normalises each feature on ``axis`` (default -1, the channels of
    channels-last data) with batch statistics in training and moving
    statistics in inference.

    Keras conventions: ``moving = moving * momentum + batch * (1 - momentum)``
    (``momentum=0.99``), ``epsilon=1e-3``, and the moving variance tracks the
    *biased* batch variance, as Keras 3 does (torch would use the unbiased
    one).  A layer with ``trainable=False`` runs in inference mode.  Keras
    weights: ``gamma, beta, moving_mean, moving_variance``.

    >>> import torch
    >>> bn = BatchNormalization()
    >>> bn(torch.randn(8, 4)).shape
    torch.Size([8, 4])
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        for key in ("renorm", "renorm_clipping", "renorm_momentum", "fused",
                    "virtual_batch_size", "adjustment"):
            value = kwargs.pop(key, None)
            if value:
                raise ValueError(f"BatchNormalization argument {key!r} is not supported "
                                 f"(got {value!r}).")
        super().__init__(**kwargs)
        self.axis = _single_axis(axis, self.name)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = get_regularizer(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = get_regularizer(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = get_constraint(beta_constraint, "beta_constraint")
        self.gamma_constraint = get_constraint(gamma_constraint, "gamma_constraint")
        self._set_input_check(self.axis)
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"Layer {self.name!r}: invalid 'axis' {self.axis} for input "
                             f"of rank {rank} (shape {input_shape}).")
        self._axis = self.axis % rank
        dim = input_shape[self._axis]
        if dim is None:
            raise ValueError(f"Layer {self.name!r}: axis {self.axis} of the input must be "
                             f"defined, got input shape {input_shape}.")
        if self.scale:
            self.gamma = self._add_weight("gamma", (dim,), self.gamma_initializer,
                                          regularizer=self.gamma_regularizer,
                                          constraint=self.gamma_constraint)
        if self.center:
            self.beta = self._add_weight("beta", (dim,), self.beta_initializer,
                                         regularizer=self.beta_regularizer,
                                         constraint=self.beta_constraint)
        self.moving_mean = self._add_weight("moving_mean", (dim,),
                                            self.moving_mean_initializer, False, buffer=True)
        self.moving_variance = self._add_weight("moving_variance", (dim,),
                                                self.moving_variance_initializer, False,
                                                buffer=True)

    def call(self, inputs, training=None):
        if training is None:
            training = self.training
        axis = self._axis
        x = inputs if axis == 1 else inputs.movedim(axis, 1)
        if training and self._trainable:
            out, mean, invstd = torch.native_batch_norm(
                x, self.gamma, self.beta, None, None, True, 0.0, self.epsilon)
            with torch.no_grad():
                # invstd = 1/sqrt(var + eps), var the biased batch variance.
                var = invstd.double().pow(-2).sub(self.epsilon).clamp_(min=0.0)
                weight = 1.0 - self.momentum
                self.moving_mean.lerp_(mean.to(self.moving_mean.dtype), weight)
                self.moving_variance.lerp_(var.to(self.moving_variance.dtype), weight)
        else:
            out = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma,
                               self.beta, False, 0.0, self.epsilon)
        return out if axis == 1 else out.movedim(1, axis)

    @property
    def updates(self):
        """The moving statistics (Keras 2's update ops); none when every symbolic call of
        the layer passed ``training=False`` (those calls never update them)."""
        nodes = self.__dict__.get("_kerosene_nodes") or []
        if nodes and all(_is_false(n.kwargs.get("training")) for n in nodes):
            return []
        return super().updates

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer":
                initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": serialize_object(self.beta_regularizer),
            "gamma_regularizer": serialize_object(self.gamma_regularizer),
            "beta_constraint": serialize_object(self.beta_constraint),
            "gamma_constraint": serialize_object(self.gamma_constraint),
        })
        return config


class LayerNormalization(Layer):
    """Normalises each sample over ``axis`` (default -1; an int or a list),
    then scales by ``gamma`` and shifts by ``beta`` (shaped like those axes).
    ``epsilon=1e-3`` as in Keras.

    >>> import torch
    >>> LayerNormalization()(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    supports_masking = True

    _checked_axis = None

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"Argument 'axis' must be an int or a list of ints, got {axis!r}.")
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = get_regularizer(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = get_regularizer(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = get_constraint(beta_constraint, "beta_constraint")
        self.gamma_constraint = get_constraint(gamma_constraint, "gamma_constraint")
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        rank = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"Layer {self.name!r}: invalid 'axis' {a} for input of "
                                 f"rank {rank} (shape {input_shape}).")
        self._axes = sorted(a % rank for a in axes)
        shape = tuple(input_shape[a] for a in self._axes)
        if any(s is None for s in shape):
            raise ValueError(f"Layer {self.name!r}: the normalised axes must be defined, "
                             f"got input shape {input_shape}.")
        # Trailing contiguous axes use the fused F.layer_norm kernel.
        self._fused = (self._axes == list(range(rank - len(self._axes), rank))
                       and not self.rms_scaling)
        self._param_view = tuple(input_shape[i] if i in self._axes else 1
                                 for i in range(1, rank))
        if self.scale:
            self.gamma = self._add_weight("gamma", shape, self.gamma_initializer,
                                          regularizer=self.gamma_regularizer,
                                          constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self._add_weight("beta", shape, self.beta_initializer,
                                         regularizer=self.beta_regularizer,
                                         constraint=self.beta_constraint)
        self._normalized_shape = shape

    def call(self, inputs):
        if self._fused:
            return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta,
                                self.epsilon)
        if self.rms_scaling:
            var = inputs.square().mean(dim=self._axes, keepdim=True)
            out = inputs * torch.rsqrt(var + self.epsilon)
        else:
            var, mean = torch.var_mean(inputs, dim=self._axes, keepdim=True, correction=0)
            out = (inputs - mean) * torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma.reshape(self._param_view)
        if self.beta is not None:
            out = out + self.beta.reshape(self._param_view)
        return out

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": serialize_object(self.beta_regularizer),
            "gamma_regularizer": serialize_object(self.gamma_regularizer),
            "beta_constraint": serialize_object(self.beta_constraint),
            "gamma_constraint": serialize_object(self.gamma_constraint),
        })
        return config
