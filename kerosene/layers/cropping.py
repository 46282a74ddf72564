"""Cropping layers: Cropping1D/2D/3D drop a number of entries at the start and end of
each spatial axis (Keras 2's ``keras.layers.Cropping*``)."""

from ._utils import (check_input_rank, normalize_data_format, normalize_pairs,
                     spatial_axes)
from .base import Layer, normalize_shape

__all__ = ["Cropping1D", "Cropping2D", "Cropping3D"]


class _Cropping(Layer):
    rank = 2
    _checked_axis = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_pairs(cropping, self.rank, "cropping", type(self).__name__)
        self.data_format = normalize_data_format(data_format)
        self._axes = spatial_axes(self.rank, self.data_format)

    def _cropped(self, shape):
        """``shape`` with each spatial size reduced by its cropping (None stays None)."""
        check_input_rank(self, shape, self.rank + 2)
        shape = list(shape)
        for axis, (start, end) in zip(self._axes, self.cropping):
            if shape[axis] is None:
                continue
            if start + end > shape[axis]:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: argument 'cropping'={self.cropping} "
                    f"removes {start + end} entries from axis {axis}, which has only "
                    f"{shape[axis]} (input shape {tuple(shape)}).")
            shape[axis] -= start + end
        return tuple(shape)

    def build(self, input_shape):
        self._cropped(input_shape)

    def call(self, inputs):
        out = inputs
        for axis, (start, end) in zip(self._axes, self.cropping):
            size = out.shape[axis]
            if start + end > size:
                self._cropped(tuple(inputs.shape))   # raises the error naming the sizes
            out = out.narrow(axis, start, size - start - end)
        return out

    def compute_output_shape(self, input_shape):
        return self._cropped(normalize_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(_Cropping):
    """Drops steps at the start and end of ``(batch, steps, features)`` inputs.

    ``Cropping1D(cropping=(1, 1))``: an int (both ends) or ``(start, end)``.

    >>> import torch
    >>> Cropping1D((1, 2))(torch.arange(6.).reshape(1, 6, 1))[0, :, 0]
    tensor([1., 2., 3.])
    """
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, data_format="channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]   # Keras 2's Cropping1D has no data_format
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Crops images: ``cropping`` is an int, ``(rows, cols)`` (both sides) or
    ``((top, bottom), (left, right))``.

    ``Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)``.

    >>> import torch
    >>> Cropping2D(((2, 2), (4, 4)))(torch.zeros(2, 28, 28, 3)).shape
    torch.Size([2, 24, 20, 3])
    """
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops volumes: an int, a tuple of 3 ints or 3 ``(start, end)`` pairs.

    ``Cropping3D(cropping=((1, 1), (1, 1), (1, 1)), data_format=None)``.

    >>> import torch
    >>> Cropping3D(((1, 1), (2, 2), (0, 1)))(torch.zeros(1, 5, 6, 7, 2)).shape
    torch.Size([1, 3, 2, 6, 2])
    """
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)
