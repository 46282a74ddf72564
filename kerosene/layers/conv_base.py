"""The shared base of the convolution layers (``_Conv``) and torch/Keras kernel layout converters.

Kernels are stored in torch's ``(out, in, *kernel)`` layout; channels-last
inputs are viewed as channels-first with ``movedim`` (no copy: torch's conv
kernels accept the resulting channels-last memory format).
"""

import functools

import torch.nn.functional as F

from .. import activations
from ._utils import (check_positive_int, conv_output_length, set_weight_options,
                     normalize_data_format, normalize_padding, normalize_tuple, same_padding,
                     weight_options_config)
from .base import Layer, normalize_shape


def check_positive_tuple(values, given, arg_name):
    if any(v < 1 for v in values):
        raise ValueError(f"Argument '{arg_name}' must hold positive integers, got {given!r}.")


def _kernel_to_keras(t, rank):
    # (out, in, *k) -> (*k, in, out)
    return t.permute(*range(2, 2 + rank), 1, 0)


def _kernel_from_keras(t, rank):
    # (*k, in, out) -> (out, in, *k)
    return t.permute(rank + 1, rank, *range(rank))


_CONV_FNS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class _Conv(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        n = self.rank
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size")
        self.strides = normalize_tuple(strides, n, "strides")
        allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
        self.padding = normalize_padding(padding, allowed)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate")
        if any(s > 1 for s in self.strides) and any(d > 1 for d in self.dilation_rate):
            raise ValueError(f"Layer {self.name!r}: 'strides' > 1 is not compatible with "
                             f"'dilation_rate' > 1 (got strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}).")
        self.groups = check_positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(f"Argument 'filters' ({self.filters}) must be divisible by "
                             f"'groups' ({self.groups}).")
        set_weight_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        self._act = None if self.activation is activations.linear else self.activation
        self._channels_last = self.data_format == "channels_last"
        self._set_input_check(-1 if self._channels_last else 1)
        self._conv = _CONV_FNS[n]
        # Padding handed to torch: an int tuple, 'same' (stride 1), or None
        # when explicit F.pad amounts are computed per call.
        if self.padding == "valid":
            self._torch_padding = 0
        elif self.padding == "same" and all(s == 1 for s in self.strides) and all(
                ((k - 1) * d) % 2 == 0 for k, d in zip(self.kernel_size, self.dilation_rate)):
            self._torch_padding = "same"
        else:
            self._torch_padding = None
        self.bias = None

    def _channel_axis(self):
        return -1 if self._channels_last else 1

    def build(self, input_shape):
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: the channel dimension of the inputs "
                             f"must be defined, got input shape {input_shape}.")
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name!r} expects inputs of rank {self.rank + 2}, "
                             f"got shape {input_shape}.")
        if channels % self.groups:
            raise ValueError(f"Layer {self.name!r}: input channels ({channels}) must be "
                             f"divisible by 'groups' ({self.groups}).")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self._add_weight(
            "kernel", shape, self.kernel_initializer,
            to_keras=functools.partial(_kernel_to_keras, rank=self.rank),
            from_keras=functools.partial(_kernel_from_keras, rank=self.rank),
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self._add_weight("bias", (self.filters,), self.bias_initializer,
                                         regularizer=self.bias_regularizer,
                                         constraint=self.bias_constraint)

    def _explicit_pad(self, x):
        # x is channels-first here.  F.pad takes (last_before, last_after, ...).
        pads = []
        for i in reversed(range(self.rank)):
            k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            if self.padding == "causal":
                pads += [(k - 1) * d, 0]
            else:
                pads += list(same_padding(x.shape[2 + i], k, s, d))
        return F.pad(x, pads)

    def call(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        padding = self._torch_padding
        if padding is None:
            x = self._explicit_pad(x)
            padding = 0
        out = self._conv(x, self.kernel, self.bias, self.strides, padding,
                         self.dilation_rate, self.groups)
        if self._act is not None:
            out = self._act(out)
        return out.movedim(1, -1) if self._channels_last else out

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        spatial = input_shape[1:-1] if self._channels_last else input_shape[2:]
        out = tuple(conv_output_length(length, self.kernel_size[i], self.padding,
                                       self.strides[i], self.dilation_rate[i])
                    for i, length in enumerate(spatial))
        if self._channels_last:
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size,
            "strides": self.strides, "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": self.dilation_rate,
            "groups": self.groups, **weight_options_config(self),
        })
        return config
