"""Zero-padding layers: ZeroPadding1D/2D/3D add rows of zeros before and after each
spatial axis (Keras 2's ``keras.layers.ZeroPadding*``)."""

import torch.nn.functional as F

from ._utils import (check_input_rank, normalize_data_format, normalize_pairs,
                     spatial_axes)
from .base import Layer, normalize_shape

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]


class _ZeroPadding(Layer):
    rank = 2
    _checked_axis = None

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = normalize_pairs(padding, self.rank, "padding", type(self).__name__)
        self.data_format = normalize_data_format(data_format)
        self._axes = spatial_axes(self.rank, self.data_format)
        # F.pad takes (before, after) amounts from the last axis backwards.
        pads = [0, 0] if self.data_format == "channels_last" else []
        for before, after in reversed(self.padding):
            pads += [before, after]
        self._pads = tuple(pads)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self.rank + 2)

    def call(self, inputs):
        return F.pad(inputs, self._pads)

    def compute_output_shape(self, input_shape):
        shape = list(normalize_shape(input_shape))
        check_input_rank(self, shape, self.rank + 2)
        for axis, (before, after) in zip(self._axes, self.padding):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps of ``(batch, steps, features)`` inputs.

    ``ZeroPadding1D(padding=1)``: ``padding`` is an int (both ends) or ``(before, after)``.

    >>> import torch
    >>> ZeroPadding1D((1, 2))(torch.ones(1, 3, 1))[0, :, 0]
    tensor([0., 1., 1., 1., 0., 0.])
    """
    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, data_format="channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]   # Keras 2's ZeroPadding1D has no data_format
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(_ZeroPadding):
    """Rows and columns of zeros around images.

    ``ZeroPadding2D(padding=(1, 1), data_format=None)``: ``padding`` is an int, a tuple
    ``(rows, cols)`` (both sides) or ``((top, bottom), (left, right))``.

    >>> import torch
    >>> ZeroPadding2D(((1, 0), (2, 3)))(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 5, 9, 3])
    """
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zeros around volumes: ``padding`` is an int, a tuple of 3 ints or a tuple of 3
    ``(before, after)`` pairs, one per spatial axis.

    >>> import torch
    >>> ZeroPadding3D(1, data_format='channels_first')(torch.ones(1, 2, 3, 3, 3)).shape
    torch.Size([1, 2, 5, 5, 5])
    """
    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)
