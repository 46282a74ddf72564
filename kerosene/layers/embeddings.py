"""Keras 2's module path ``keras.layers.embeddings``: ``Embedding`` lives in ``embedding.py``,
re-exported here so ``from keras.layers.embeddings import Embedding`` code runs unchanged."""
from .embedding import Embedding  # noqa: F401

__all__ = ["Embedding"]
