"""Convolution layers: Conv1D, Conv2D, Conv3D (channels-last by default).

Kernels are stored in torch's ``(out, in, *kernel)`` layout; channels-last
inputs are viewed as channels-first with ``movedim`` (no copy: torch's conv
kernels accept the resulting channels-last memory format).
"""

from .conv_base import _Conv
# Keras 2 also exports these from keras.layers.convolutional (pooling included).
from .conv_transpose import (Conv2DTranspose, Conv3DTranspose, Convolution2DTranspose, Deconv2D,
                             Deconv3D, Deconvolution2D, Deconvolution3D)
from .separable_conv import (DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
                             SeparableConvolution1D, SeparableConvolution2D)
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D,
                      AvgPool2D, AvgPool3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D,
                      GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D, MaxPool2D,
                      MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D)
from .zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D
from .upsampling import UpSampling1D, UpSampling2D, UpSampling3D
from .cropping import Cropping1D, Cropping2D, Cropping3D

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
           "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose", "Deconv2D", "Deconv3D",
           "Deconvolution2D", "Deconvolution3D", "DepthwiseConv2D", "SeparableConv1D",
           "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
           "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPool3D",
           "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D",
           "UpSampling3D", "Cropping1D", "Cropping2D", "Cropping3D"]


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` inputs.

    ``Conv1D(filters, kernel_size, strides=1, padding='valid'|'same'|'causal',
    data_format='channels_last', dilation_rate=1, groups=1, activation=None, ...)``;
    Keras kernel shape ``(kernel_size, in, filters)``.

    >>> import torch
    >>> Conv1D(8, 3, padding='causal')(torch.zeros(2, 10, 4)).shape
    torch.Size([2, 10, 8])
    """
    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last", **kwargs):
        # Keras 2's Conv1D defaults to channels_last, not to K.image_data_format().
        super().__init__(filters, kernel_size, strides, padding, data_format, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over ``(batch, rows, cols, channels)`` inputs.

    ``Conv2D(filters, kernel_size, strides=(1, 1), padding='valid'|'same',
    data_format='channels_last', dilation_rate=(1, 1), groups=1, ...)``;
    Keras kernel shape ``(kh, kw, in, filters)``.

    >>> import torch
    >>> Conv2D(16, 3, strides=2, padding='same')(torch.zeros(2, 28, 28, 1)).shape
    torch.Size([2, 14, 14, 16])
    """
    rank = 2


class Conv3D(_Conv):
    """3-D convolution over ``(batch, d1, d2, d3, channels)`` inputs.

    >>> import torch
    >>> Conv3D(2, 3)(torch.zeros(1, 5, 5, 5, 1)).shape
    torch.Size([1, 3, 3, 3, 2])
    """
    rank = 3


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
