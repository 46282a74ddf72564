"""Regularisation layers active only in training: AlphaDropout, GaussianNoise,
GaussianDropout (and SpatialDropout1D/2D/3D from dropout.py, as Keras 2's module held them).
All are the identity in inference."""

import math

import torch
import torch.nn.functional as F

from ._utils import check_rate, normalize_data_format
from .base import Layer, normalize_shape
from .dropout import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D  # noqa: F401 (Keras 2 exports them here)

__all__ = ["AlphaDropout", "GaussianNoise", "GaussianDropout", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D"]


class _Noise(Layer):
    _checked_axis = None
    supports_masking = True

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def _active(self, training):
        return self.training if training is None else training


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of ``stddev`` in training.

    >>> import torch
    >>> GaussianNoise(0.1).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = float(stddev)
        if self.stddev < 0:
            raise ValueError(f"Argument 'stddev' must be >= 0, got {stddev!r}.")
        self.seed = seed

    def call(self, inputs, training=None):
        if not self._active(training) or self.stddev == 0.0:
            return inputs
        return inputs + torch.randn_like(inputs) * self.stddev

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies inputs by noise of mean 1 and stddev ``sqrt(rate / (1 - rate))``.

    >>> import torch
    >>> GaussianDropout(0.2).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate(rate)
        self.seed = seed

    def call(self, inputs, training=None):
        if not self._active(training) or not 0.0 < self.rate < 1.0:
            return inputs
        std = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + torch.randn_like(inputs) * std)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_Noise):
    """Dropout that keeps the self-normalising mean and variance of SELU
    activations (Klambauer et al., 2017): dropped units take SELU's negative
    saturation value, then an affine correction restores the moments.

    >>> import torch
    >>> AlphaDropout(0.1).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs, training=None):
        if not self._active(training) or not 0.0 < self.rate < 1.0:
            return inputs
        if self.noise_shape is None:
            return F.alpha_dropout(inputs, self.rate, True)
        alpha_p = -1.6732632423543772 * 1.0507009873554805
        keep = 1.0 - self.rate
        shape = tuple(int(inputs.shape[i]) if s is None else int(s)
                      for i, s in enumerate(self.noise_shape))
        kept = torch.empty(shape, dtype=inputs.dtype, device=inputs.device).bernoulli_(keep)
        a = (keep * (1.0 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1.0 - kept)) + b

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config
