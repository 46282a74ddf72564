"""``ActivityRegularization``: passes its input through and adds an L1/L2 penalty on it to the loss."""
from ..regularizers import L1L2
from .base import Layer

__all__ = ["ActivityRegularization"]


class ActivityRegularization(Layer):
    """Identity whose output adds ``l1 * sum(|x|) + l2 * sum(x ** 2)`` to the training loss
    (Keras 2's layer; masks pass through).

    >>> import torch
    >>> layer = ActivityRegularization(l1=0.5)
    >>> _ = layer(torch.tensor([[1.0, -2.0]])); float(layer.losses[0])
    1.5
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"ActivityRegularization: `{name}` must be a number >= 0, got {value!r}")
        kwargs.pop("activity_regularizer", None)   # a saved config of this layer holds its own
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
