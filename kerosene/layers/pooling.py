"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global
poolings.  ``padding='same'`` follows TensorFlow: padding goes mostly after,
max pooling ignores it and average pooling does not count it."""

import torch
import torch.nn.functional as F

from ._utils import (conv_output_length, normalize_data_format, normalize_padding,
                     normalize_tuple, same_padding)
from .base import Layer, normalize_shape

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
]

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class _Pooling(Layer):
    rank = 2
    mode = "max"
    _checked_axis = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        self.pool_size = normalize_tuple(pool_size, n, "pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, n,
                                       "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self._pool = (_MAX if self.mode == "max" else _AVG)[n]

    def _same_pads(self, x):
        pads = []
        for i in reversed(range(self.rank)):
            pads += list(same_padding(x.shape[2 + i], self.pool_size[i], self.strides[i]))
        return pads

    def call(self, inputs):
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        if self.padding == "valid":
            out = self._pool(x, self.pool_size, self.strides)
        else:
            pads = self._same_pads(x)
            if not any(pads):
                out = self._pool(x, self.pool_size, self.strides)
            elif self.mode == "max":
                out = self._pool(F.pad(x, pads, value=float("-inf")), self.pool_size,
                                 self.strides)
            else:
                # Average of the real values only: divide by the count of
                # non-padding cells in each window.
                total = self._pool(F.pad(x, pads), self.pool_size, self.strides)
                ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
                count = self._pool(F.pad(ones, pads), self.pool_size, self.strides)
                out = total / count
        return out.movedim(1, -1) if self._channels_last else out

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        spatial = input_shape[1:-1] if self._channels_last else input_shape[2:]
        out = tuple(conv_output_length(length, self.pool_size[i], self.padding,
                                       self.strides[i]) for i, length in enumerate(spatial))
        if self._channels_last:
            return (input_shape[0],) + out + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + out

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides,
                       "padding": self.padding, "data_format": self.data_format})
        return config


class _Pooling1D(_Pooling):
    # Keras 2: the 1-D poolings default to channels_last, not K.image_data_format().
    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last",
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling1D):
    """Max over windows of ``pool_size`` steps.
    ``MaxPooling1D(pool_size=2, strides=None, padding='valid', data_format='channels_last')``.

    >>> import torch
    >>> MaxPooling1D()(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 5, 3])
    """
    rank, mode = 1, "max"


class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of ``(batch, rows, cols, channels)`` inputs.

    >>> import torch
    >>> MaxPooling2D((2, 2))(torch.zeros(2, 28, 28, 3)).shape
    torch.Size([2, 14, 14, 3])
    """
    rank, mode = 2, "max"


class MaxPooling3D(_Pooling):
    """Max over 3-D windows.

    >>> import torch
    >>> MaxPooling3D()(torch.zeros(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """
    rank, mode = 3, "max"


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps.

    >>> import torch
    >>> AveragePooling1D(3, padding='same')(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 4, 3])
    """
    rank, mode = 1, "avg"


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows.

    >>> import torch
    >>> AveragePooling2D()(torch.zeros(2, 8, 8, 3)).shape
    torch.Size([2, 4, 4, 3])
    """
    rank, mode = 2, "avg"


class AveragePooling3D(_Pooling):
    """Mean over 3-D windows.

    >>> import torch
    >>> AveragePooling3D()(torch.zeros(1, 4, 4, 4, 2)).shape
    torch.Size([1, 2, 2, 2, 2])
    """
    rank, mode = 3, "avg"


class _GlobalPooling(Layer):
    rank = 2
    mode = "avg"
    _checked_axis = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        if self.data_format == "channels_last":
            self._dims = tuple(range(1, 1 + self.rank))
        else:
            self._dims = tuple(range(2, 2 + self.rank))

    def call(self, inputs):
        if self.mode == "avg":
            return inputs.mean(dim=self._dims, keepdim=self.keepdims)
        return inputs.amax(dim=self._dims, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if self.keepdims:
            return tuple(1 if i in self._dims else s for i, s in enumerate(input_shape))
        return tuple(s for i, s in enumerate(input_shape) if i not in self._dims)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class _GlobalPooling1D(_GlobalPooling):
    # Keras 2: the 1-D poolings default to channels_last, not K.image_data_format().
    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps axis: ``(batch, steps, ch)`` -> ``(batch, ch)``; with a mask
    (Keras 2), the mean over the unmasked steps, and no mask passed on.

    >>> import torch
    >>> GlobalAveragePooling1D()(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 3])
    """
    rank, mode = 1, "avg"
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = self._dims[0]
        weights = mask.to(inputs.dtype).unsqueeze(2 if steps == 1 else 1)
        total = (inputs * weights).sum(dim=steps, keepdim=self.keepdims)
        return total / weights.sum(dim=steps, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over rows and cols: ``(batch, h, w, ch)`` -> ``(batch, ch)``.

    >>> import torch
    >>> GlobalAveragePooling2D()(torch.zeros(2, 5, 5, 3)).shape
    torch.Size([2, 3])
    """
    rank, mode = 2, "avg"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes."""
    rank, mode = 3, "avg"


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the steps axis.

    >>> import torch
    >>> GlobalMaxPooling1D()(torch.zeros(2, 10, 3)).shape
    torch.Size([2, 3])
    """
    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over rows and cols.

    >>> import torch
    >>> GlobalMaxPooling2D(keepdims=True)(torch.zeros(2, 5, 5, 3)).shape
    torch.Size([2, 1, 1, 3])
    """
    rank, mode = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes."""
    rank, mode = 3, "max"


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
