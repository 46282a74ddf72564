"""Keras 2's ``keras.utils.conv_utils``: the argument and length arithmetic of convolutions,
for custom layers written against Keras 2.

    conv_output_length(224, 7, 'same', 2)         # 112
    deconv_length(32, 2, 5, 'valid', None)         # 67
    normalize_tuple(3, 2, 'kernel_size')           # (3, 3)
"""
import numpy as np

from ..backend import normalize_data_format
from ..layers._utils import normalize_tuple

__all__ = ["normalize_tuple", "normalize_padding", "normalize_data_format", "convert_kernel",
           "conv_output_length", "conv_input_length", "deconv_length"]

_PADDINGS = ("valid", "same", "causal", "full")


class PaddingError(ValueError, AssertionError):
    """An unknown ``padding`` (Keras 2 asserts, so both ``except`` forms catch it)."""


def _check_padding(padding, allowed):
    if padding not in allowed:
        raise PaddingError(f"`padding` must be one of {', '.join(map(repr, allowed))}, got {padding!r}")


def normalize_padding(value):
    """``padding`` lower-cased and checked: 'valid', 'same', 'causal' or 'full'."""
    padding = value.lower() if isinstance(value, str) else value
    _check_padding(padding, _PADDINGS)
    return padding


def convert_kernel(kernel):
    """A kernel with its spatial axes reversed (Theano's convolution against TensorFlow's)."""
    kernel = np.asarray(kernel)
    if not 3 <= kernel.ndim <= 5:
        raise ValueError(f"convert_kernel: `kernel` must have 3 to 5 axes (spatial axes, then in and out), "
                         f"got shape {kernel.shape}")
    return np.copy(kernel[(slice(None, None, -1),) * (kernel.ndim - 2)])


def _dilated(filter_size, dilation):
    return (filter_size - 1) * dilation + 1


def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    """The length along one axis after a convolution (``None`` stays ``None``)."""
    _check_padding(padding, _PADDINGS)
    if input_length is None:
        return None
    size = _dilated(filter_size, dilation)
    length = {"same": input_length, "causal": input_length, "valid": input_length - size + 1,
              "full": input_length + size - 1}[padding]
    return (length + stride - 1) // stride


def _pad(padding, filter_size):
    return {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}[padding]


def conv_input_length(output_length, filter_size, padding, stride):
    """The input length a convolution maps to ``output_length`` (the inverse of the above)."""
    _check_padding(padding, _PADDINGS[:2] + ("full",))
    if output_length is None:
        return None
    return (output_length - 1) * stride - 2 * _pad(padding, filter_size) + filter_size


def deconv_length(dim_size, stride_size, kernel_size, padding, output_padding, dilation=1):
    """The output length of a transposed convolution along one axis (``output_padding`` None:
    the largest length whose convolution gives ``dim_size``)."""
    _check_padding(padding, _PADDINGS[:2] + ("full",))
    if dim_size is None:
        return None
    size = _dilated(kernel_size, dilation)
    if output_padding is None:
        return {"valid": dim_size * stride_size + max(size - stride_size, 0),
                "full": dim_size * stride_size - (stride_size + size - 2),
                "same": dim_size * stride_size}[padding]
    return (dim_size - 1) * stride_size + size - 2 * _pad(padding, size) + output_padding
