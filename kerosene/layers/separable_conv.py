"""Depthwise and separable convolutions: SeparableConv1D, SeparableConv2D, DepthwiseConv2D.

Keras layouts: depthwise kernel ``(*kernel, in, depth_multiplier)``, pointwise
kernel ``(*ones, in * depth_multiplier, filters)``.  The depthwise step is a
grouped torch convolution whose output channel ``c * depth_multiplier + m``
uses ``depthwise_kernel[..., c, m]``, the channel order TensorFlow gives.
"""

import functools

from .. import initializers
from ._utils import (check_positive_int, conv_output_length, get_constraint, get_regularizer,
                     weight_options_config)
from .base import Layer, normalize_shape
from .conv_base import _Conv, _kernel_from_keras, _kernel_to_keras, check_positive_tuple

__all__ = ["SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "SeparableConvolution1D",
           "SeparableConvolution2D"]


def _depthwise_from_keras(t, rank):
    # (*k, in, dm) -> (in * dm, 1, *k)
    t = t.permute(rank, rank + 1, *range(rank))
    return t.reshape(t.shape[0] * t.shape[1], 1, *t.shape[2:])


def _depthwise_to_keras(t, rank, depth_multiplier):
    # (in * dm, 1, *k) -> (*k, in, dm)
    t = t.reshape(t.shape[0] // depth_multiplier, depth_multiplier, *t.shape[2:])
    return t.permute(*range(2, 2 + rank), 0, 1)


class _SeparableConv(_Conv):
    _pointwise = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        if self.rank == 1 and isinstance(padding, str) and padding.lower() == "causal":
            raise ValueError(f"Invalid value for argument 'padding': {padding!r}. Accepted "
                             "values: 'valid', 'same'.")
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        check_positive_tuple(self.strides, strides, "strides")
        check_positive_tuple(self.dilation_rate, dilation_rate, "dilation_rate")
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = get_regularizer(depthwise_regularizer,
                                                     "depthwise_regularizer")
        self.depthwise_constraint = get_constraint(depthwise_constraint, "depthwise_constraint")
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = get_regularizer(pointwise_regularizer,
                                                     "pointwise_regularizer")
        self.pointwise_constraint = get_constraint(pointwise_constraint, "pointwise_constraint")
        self._in_channels = None

    def _out_channels(self, in_channels):
        return self.filters

    def build(self, input_shape):
        channels = input_shape[self._channel_axis()]
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name!r} expects inputs of rank {self.rank + 2}, "
                             f"got shape {input_shape}.")
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: the channel dimension of the inputs "
                             f"must be defined, got input shape {input_shape}.")
        self._in_channels = int(channels)
        dm, rank = self.depth_multiplier, self.rank
        self.depthwise_kernel = self._add_weight(
            "depthwise_kernel", self.kernel_size + (channels, dm), self.depthwise_initializer,
            to_keras=functools.partial(_depthwise_to_keras, rank=rank, depth_multiplier=dm),
            from_keras=functools.partial(_depthwise_from_keras, rank=rank),
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        if self._pointwise:
            self.pointwise_kernel = self._add_weight(
                "pointwise_kernel", (1,) * rank + (channels * dm, self.filters),
                self.pointwise_initializer,
                to_keras=functools.partial(_kernel_to_keras, rank=rank),
                from_keras=functools.partial(_kernel_from_keras, rank=rank),
                regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        if self.use_bias:
            self.bias = self._add_weight(
                "bias", (self._out_channels(channels),), self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        padding = self._torch_padding
        if padding is None:
            x = self._explicit_pad(x)
            padding = 0
        bias = None if self._pointwise else self.bias
        out = self._conv(x, self.depthwise_kernel, bias, self.strides, padding,
                         self.dilation_rate, self._in_channels)
        if self._pointwise:
            out = self._conv(out, self.pointwise_kernel, self.bias)
        if self._act is not None:
            out = self._act(out)
        return out.movedim(1, -1) if self._channels_last else out

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        spatial = input_shape[1:-1] if self._channels_last else input_shape[2:]
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        out = tuple(conv_output_length(length, self.kernel_size[i], self.padding,
                                       self.strides[i], self.dilation_rate[i])
                    for i, length in enumerate(spatial))
        filters = self._out_channels(channels)
        if self._channels_last:
            return (input_shape[0],) + out + (filters,)
        return (input_shape[0], filters) + out

    def get_config(self):
        config = Layer.get_config(self)
        config.update({"filters": self.filters, "kernel_size": self.kernel_size,
                       "strides": self.strides, "padding": self.padding,
                       "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                       "depth_multiplier": self.depth_multiplier})
        weights = ("depthwise", "pointwise", "bias") if self._pointwise else ("depthwise", "bias")
        config.update(weight_options_config(self, weights))
        return config


class SeparableConv1D(_SeparableConv):
    """Depthwise then pointwise 1-D convolution over ``(batch, steps, channels)``.

    ``SeparableConv1D(filters, kernel_size, strides=1, padding='valid'|'same',
    data_format='channels_last', dilation_rate=1, depth_multiplier=1, ...)``.

    >>> import torch
    >>> SeparableConv1D(8, 3, padding='same')(torch.zeros(2, 10, 4)).shape
    torch.Size([2, 10, 8])
    """
    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last", **kwargs):
        # Keras 2's SeparableConv1D defaults to channels_last, not to K.image_data_format().
        super().__init__(filters, kernel_size, strides, padding, data_format, **kwargs)


class SeparableConv2D(_SeparableConv):
    """Depthwise then pointwise 2-D convolution (Xception's building block).

    ``SeparableConv2D(filters, kernel_size, strides=(1, 1), padding='valid'|'same',
    data_format=None, dilation_rate=(1, 1), depth_multiplier=1, ...)``.

    >>> import torch
    >>> SeparableConv2D(16, 3, strides=2, padding='same')(torch.zeros(2, 28, 28, 3)).shape
    torch.Size([2, 14, 14, 16])
    """
    rank = 2


class DepthwiseConv2D(_SeparableConv):
    """Per-channel 2-D convolution (MobileNet): ``in * depth_multiplier`` output channels.

    ``DepthwiseConv2D(kernel_size, strides=(1, 1), padding='valid'|'same',
    depth_multiplier=1, data_format=None, activation=None, use_bias=True, ...)``.

    >>> import torch
    >>> DepthwiseConv2D(3, depth_multiplier=2)(torch.zeros(2, 8, 8, 3)).shape
    torch.Size([2, 6, 6, 6])
    """
    rank = 2
    _pointwise = False

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, dilation_rate=(1, 1),
                 **kwargs):
        depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier")
        super().__init__(depth_multiplier, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        self.filters = None

    def _out_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def get_config(self):
        config = super().get_config()
        config.pop("filters")
        return config


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
