"""Dropout and its spatial forms (SpatialDropout1D/2D/3D, whole channels at once): a fraction
of the inputs set to 0 in training, the rest scaled up; the identity in inference.
Keras 2 exports them from ``keras.layers.core`` (and the spatial ones from ``noise``).

    >>> import torch
    >>> Dropout(0.5).eval()(torch.ones(2, 3)).sum().item()
    6.0
"""
import torch
import torch.nn.functional as F

from ._utils import check_rate, normalize_data_format
from .base import Layer, normalize_shape

__all__ = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]


def _noise_mask_shape(inputs, noise_shape):
    return tuple(int(inputs.shape[i]) if s is None else int(s)
                 for i, s in enumerate(noise_shape))


class Dropout(Layer):
    """Sets a fraction ``rate`` of inputs to 0 during training and scales the
    rest by ``1 / (1 - rate)``; identity in inference.  ``noise_shape`` (with
    None for "same as input") shares the mask along axes of size 1.

    >>> import torch
    >>> layer = Dropout(0.5).eval()
    >>> layer(torch.ones(2, 3)).sum().item()
    6.0
    """

    supports_masking = True

    _checked_axis = None

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs, training=None):
        if training is None:
            training = self.training
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, True)
        if self.rate >= 1.0:
            return torch.zeros_like(inputs)
        keep = 1.0 - self.rate
        mask = torch.empty(_noise_mask_shape(inputs, self.noise_shape),
                           device=inputs.device, dtype=inputs.dtype).bernoulli_(keep)
        return inputs * mask / keep

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class _SpatialDropout(Dropout):
    rank = 1

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        kwargs.pop("noise_shape", None)
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs, training=None):
        if training is None:
            training = self.training
        if not training or self.rate == 0.0:
            return inputs
        if self.data_format == "channels_last":
            shape = (inputs.shape[0],) + (1,) * self.rank + (inputs.shape[-1],)
        else:
            shape = (inputs.shape[0], inputs.shape[1]) + (1,) * self.rank
        if self.rate >= 1.0:
            return torch.zeros_like(inputs)
        keep = 1.0 - self.rate
        mask = torch.empty(shape, dtype=inputs.dtype, device=inputs.device).bernoulli_(keep)
        return inputs * mask / keep

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape", None)
        config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of ``(batch, steps, channels)`` inputs.

    >>> import torch
    >>> SpatialDropout1D(0.5).eval()(torch.ones(1, 3, 2)).sum().item()
    6.0
    """
    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format", None)
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of 2-D inputs (``data_format`` aware).

    >>> import torch
    >>> SpatialDropout2D(0.5).eval()(torch.ones(1, 2, 2, 3)).shape
    torch.Size([1, 2, 2, 3])
    """
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of 3-D inputs."""
    rank = 3
