"""Transposed convolution layers: Conv2DTranspose, Conv3DTranspose.

The Keras kernel layout is ``(*kernel, filters, in)``; torch's
``conv_transpose`` wants ``(in, filters, *kernel)``.  The output length follows
Keras 2's deconv rule (``output_padding`` included) and the values follow
TensorFlow's: the full transposed convolution is cropped by the 'same' padding
the matching forward convolution would have added before each axis.
"""

import functools

import torch.nn.functional as F

from ._utils import normalize_tuple
from .base import normalize_shape
from .conv_base import _Conv, check_positive_tuple

__all__ = ["Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose", "Deconvolution2D",
           "Deconv2D", "Deconvolution3D", "Deconv3D"]


def deconv_length(length, stride, kernel, padding, output_padding, dilation=1):
    """Keras 2's output length of a transposed convolution along one axis."""
    if length is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def _kernel_to_keras(t, rank):
    # (in, out, *k) -> (*k, out, in)
    return t.permute(*range(2, 2 + rank), 1, 0)


def _kernel_from_keras(t, rank):
    # (*k, out, in) -> (in, out, *k)
    return t.permute(rank + 1, rank, *range(rank))


_CONV_T_FNS = {2: F.conv_transpose2d, 3: F.conv_transpose3d}


class _ConvTranspose(_Conv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        check_positive_tuple(self.strides, strides, "strides")
        check_positive_tuple(self.dilation_rate, dilation_rate, "dilation_rate")
        if output_padding is not None:
            output_padding = normalize_tuple(output_padding, self.rank, "output_padding")
            for stride, out_pad in zip(self.strides, output_padding):
                if not 0 <= out_pad < stride:
                    raise ValueError(f"Argument 'output_padding' ({output_padding}) must be "
                                     f"at least 0 and smaller than 'strides' ({self.strides}) "
                                     "on every axis.")
        self.output_padding = output_padding
        self._conv_t = _CONV_T_FNS[self.rank]

    def build(self, input_shape):
        channels = input_shape[self._channel_axis()]
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name!r} expects inputs of rank {self.rank + 2}, "
                             f"got shape {input_shape}.")
        if channels is None:
            raise ValueError(f"Layer {self.name!r}: the channel dimension of the inputs "
                             f"must be defined, got input shape {input_shape}.")
        self.kernel = self._add_weight(
            "kernel", self.kernel_size + (self.filters, channels), self.kernel_initializer,
            to_keras=functools.partial(_kernel_to_keras, rank=self.rank),
            from_keras=functools.partial(_kernel_from_keras, rank=self.rank),
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self._add_weight("bias", (self.filters,), self.bias_initializer,
                                         regularizer=self.bias_regularizer,
                                         constraint=self.bias_constraint)

    def _out_lengths(self, spatial):
        op = self.output_padding or (None,) * self.rank
        return tuple(deconv_length(n, self.strides[i], self.kernel_size[i], self.padding,
                                   op[i], self.dilation_rate[i])
                     for i, n in enumerate(spatial))

    def call(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        spatial = tuple(x.shape[2:])
        out = self._conv_t(x, self.kernel, None, self.strides, 0, 0, 1, self.dilation_rate)
        # Crop (or zero-extend) the full result to Keras 2's length, starting at the
        # 'same' padding TensorFlow's forward convolution puts before each axis.
        pads = []
        for i, m in reversed(list(enumerate(self._out_lengths(spatial)))):
            before = 0
            if self.padding == "same":
                dilated = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
                total = max((spatial[i] - 1) * self.strides[i] + dilated - m, 0)
                before = total // 2
            pads += [-before, m + before - out.shape[2 + i]]
        if any(pads):
            out = F.pad(out, pads)
        if self.bias is not None:  # after the padding: zero-extended positions get it too
            out = out + self.bias.view(-1, *(1,) * self.rank)
        if self._act is not None:
            out = self._act(out)
        return out.movedim(1, -1) if self._channels_last else out

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        spatial = input_shape[1:-1] if self._channels_last else input_shape[2:]
        out = self._out_lengths(spatial)
        if self._channels_last:
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        config["output_padding"] = self.output_padding
        return config


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"), as in GAN generators and U-Nets.

    ``Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding='valid'|'same',
    output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None, ...)``;
    Keras kernel shape ``(kh, kw, filters, in)``.

    >>> import torch
    >>> Conv2DTranspose(8, 3, strides=2, padding='same')(torch.zeros(2, 7, 7, 4)).shape
    torch.Size([2, 14, 14, 8])
    """
    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution; Keras kernel shape ``(kd, kh, kw, filters, in)``.

    Like Keras 2, it takes no ``dilation_rate``.

    >>> import torch
    >>> Conv3DTranspose(2, 3, strides=2)(torch.zeros(1, 4, 4, 4, 1)).shape
    torch.Size([1, 9, 9, 9, 2])
    """
    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("dilation_rate")
        return config


Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
