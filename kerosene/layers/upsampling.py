"""Upsampling layers: UpSampling1D/2D/3D repeat each entry of the spatial axes ``size``
times (Keras 2's ``keras.layers.UpSampling*``); UpSampling2D can also interpolate
bilinearly."""

import torch.nn.functional as F

from ._utils import (check_input_rank, check_positive_int, normalize_data_format,
                     normalize_tuple, spatial_axes)
from .base import Layer, normalize_shape

__all__ = ["UpSampling1D", "UpSampling2D", "UpSampling3D"]

_INTERPOLATIONS = ("nearest", "bilinear")


class _UpSampling(Layer):
    rank = 2
    _checked_axis = None

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, self.rank, "size")
        if any(s < 1 for s in self.size):
            raise ValueError(f"{type(self).__name__}: argument 'size' must hold positive "
                             f"integers, got {size!r}.")
        self.data_format = normalize_data_format(data_format)
        self._axes = spatial_axes(self.rank, self.data_format)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self.rank + 2)

    def _repeat(self, x):
        # One copy for all axes: give each spatial axis a new axis of length size after
        # it, broadcast, and merge the pairs.
        shape = list(x.shape)
        viewed, expanded = list(shape), list(shape)
        for axis, factor in sorted(zip(self._axes, self.size), reverse=True):
            viewed.insert(axis + 1, 1)
            expanded.insert(axis + 1, factor)
            shape[axis] *= factor
        return x.reshape(viewed).expand(expanded).reshape(shape)

    def call(self, inputs):
        return self._repeat(inputs)

    def compute_output_shape(self, input_shape):
        shape = list(normalize_shape(input_shape))
        check_input_rank(self, shape, self.rank + 2)
        for axis, factor in zip(self._axes, self.size):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times: ``(batch, steps, features)`` ->
    ``(batch, steps * size, features)``.

    >>> import torch
    >>> UpSampling1D(2)(torch.tensor([[[1.], [2.]]]))[0, :, 0]
    tensor([1., 1., 2., 2.])
    """
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(check_positive_int(size, "size"), data_format="channels_last",
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]   # Keras 2's UpSampling1D has no data_format
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Repeats rows ``size[0]`` times and columns ``size[1]`` times, or with
    ``interpolation='bilinear'`` resizes to that many times the size bilinearly (pixel
    centres aligned, as Keras 3 and ``torch.nn.functional.interpolate`` do).

    ``UpSampling2D(size=(2, 2), data_format=None, interpolation='nearest')``.

    >>> import torch
    >>> UpSampling2D((2, 3))(torch.zeros(1, 4, 4, 3)).shape
    torch.Size([1, 8, 12, 3])
    >>> UpSampling2D(interpolation='bilinear', data_format='channels_first')(
    ...     torch.tensor([[[[0., 4.]]]]))[0, 0, 0]
    tensor([0., 1., 3., 4.])
    """
    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"UpSampling2D: invalid value for argument 'interpolation': "
                             f"{interpolation!r}. Accepted values: 'nearest', 'bilinear'.")
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return self._repeat(inputs)
        channels_last = self.data_format == "channels_last"
        x = inputs.movedim(-1, 1) if channels_last else inputs
        size = [x.shape[2] * self.size[0], x.shape[3] * self.size[1]]
        out = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return out.movedim(1, -1) if channels_last else out

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Repeats the three spatial axes ``size[0]``, ``size[1]`` and ``size[2]`` times.

    ``UpSampling3D(size=(2, 2, 2), data_format=None)``.

    >>> import torch
    >>> UpSampling3D((1, 2, 3))(torch.zeros(1, 2, 2, 2, 4)).shape
    torch.Size([1, 2, 4, 6, 4])
    """
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)
