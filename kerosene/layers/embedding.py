"""Embedding: integer indices to dense vectors."""

import torch.nn.functional as F

from .. import initializers
from ._utils import check_positive_int, get_constraint, get_regularizer, serialize_object
from .base import Layer, normalize_shape

__all__ = ["Embedding"]


class Embedding(Layer):
    """Maps integer indices in ``[0, input_dim)`` to vectors of size
    ``output_dim``: ``(batch, steps)`` -> ``(batch, steps, output_dim)``.

    ``embeddings_initializer='uniform'`` is Keras's ``RandomUniform(-0.05, 0.05)``.
    With ``mask_zero=True``, ``compute_mask`` marks index 0 as padding.
    ``input_length`` records the sequence length (and so the model's input
    shape).  The weights exist from construction.

    >>> import torch
    >>> Embedding(1000, 64, input_length=10)(torch.zeros(32, 10, dtype=torch.long)).shape
    torch.Size([32, 10, 64])
    """

    _checked_axis = None

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None,
                 sparse=False, **kwargs):
        if input_length is not None and "input_shape" not in kwargs and (
                "batch_input_shape" not in kwargs):
            length = input_length if isinstance(input_length, (list, tuple)) else (input_length,)
            kwargs["input_shape"] = tuple(length)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.output_dim = check_positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = get_regularizer(embeddings_regularizer,
                                                      "embeddings_regularizer")
        self.embeddings_constraint = get_constraint(embeddings_constraint,
                                                    "embeddings_constraint")
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self.sparse = bool(sparse)
        self.embeddings = self._add_weight(
            "embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)

    def build(self, input_shape):
        """The weights already exist; the input shape is checked against ``input_length``."""
        self._lengths(input_shape)

    def call(self, inputs):
        if inputs.is_floating_point():
            inputs = inputs.long()
        return F.embedding(inputs, self.embeddings)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return inputs != 0

    def _lengths(self, input_shape):
        """The input's sizes after the batch axis, with ``input_length`` filling unknown ones;
        a rank or a size that ``input_length`` contradicts raises a ValueError (as in Keras 2)."""
        input_shape = tuple(normalize_shape(input_shape))
        if self.input_length is None:
            return input_shape[1:]
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) else [
            self.input_length]
        sizes = input_shape[1:]
        if len(lengths) != len(sizes) or any(
                want is not None and got is not None and want != got for want, got in zip(lengths, sizes)):
            raise ValueError(f"Layer {self.name!r}: `input_length` is {self.input_length!r}, but the input has "
                             f"shape {input_shape}: it must give the size of each axis after the batch axis "
                             "(None for any)")
        return tuple(got if want is None else want for want, got in zip(lengths, sizes))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(normalize_shape(input_shape))
        return input_shape[:1] + self._lengths(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": serialize_object(self.embeddings_regularizer),
            "activity_regularizer": serialize_object(self.activity_regularizer),
            "embeddings_constraint": serialize_object(self.embeddings_constraint),
            "mask_zero": self.mask_zero, "input_length": self.input_length,
        })
        return config

