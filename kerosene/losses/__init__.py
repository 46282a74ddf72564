"""Keras losses as torch functions and ``Loss`` objects.

Every loss exists twice, as in Keras: a function returning per-sample values
(``categorical_crossentropy(y_true, y_pred)`` -> shape ``(batch,)``) and a class
whose instances reduce them (``CategoricalCrossentropy()(y_true, y_pred)`` -> a
scalar, Keras's ``sum_over_batch_size``: ``sum(loss * sample_weight) / size``).

Semantics are Keras 3's: crossentropies take probabilities unless
``from_logits=True`` (probabilities are normalised to sum 1 and clipped to
``[1e-7, 1 - 1e-7]``), targets are cast to ``y_pred``'s dtype (sparse labels to
``long``), and ``cosine_similarity`` is the negative mean cosine. Nothing here
synchronises with the device.

Example:
    >>> import torch
    >>> from kerosene import losses
    >>> y_true = torch.tensor([[0., 1.], [1., 0.]])
    >>> y_pred = torch.tensor([[0.2, 0.8], [0.6, 0.4]])
    >>> losses.categorical_crossentropy(y_true, y_pred).shape
    torch.Size([2])
    >>> loss = losses.get("categorical_crossentropy")
    >>> round(float(loss(y_true, y_pred)), 4)
    0.367
"""
from __future__ import annotations

import torch

from .._naming import to_snake_case
from .._custom_objects import get_custom_objects
from .._registry import Registry, serialize_keras2, split_config
from ..errors import UninterpretableError
from .classes import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge, Huber,
                      KLDivergence, LogCosh, Loss, LossFunctionWrapper, MeanAbsoluteError,
                      MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
                      SparseCategoricalCrossentropy, SquaredHinge)
from .functions import (KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy, categorical_crossentropy, categorical_hinge,
                        cosine_similarity, hinge, huber, kl_divergence, kld, kullback_leibler_divergence, log_cosh,
                        logcosh, mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                        mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy,
                        squared_hinge)
from .functions import cosine, cosine_proximity  # Keras 2.2's names of cosine_similarity
# the shared input handling that metrics reuse
from .functions import _as_tensor, _prepare_user, _regression  # noqa: F401

__all__ = [
    "Loss", "LossFunctionWrapper", "get", "serialize", "deserialize",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "KLDivergence", "Hinge", "SquaredHinge",
    "CategoricalHinge", "Poisson", "LogCosh", "CosineSimilarity",
    "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_crossentropy", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
    "kl_divergence", "hinge", "squared_hinge", "categorical_hinge", "poisson",
    "log_cosh", "cosine_similarity",
    "mse", "mae", "mape", "msle", "kld", "kullback_leibler_divergence", "logcosh",
    "MSE", "MAE", "MAPE", "MSLE", "KLD", "cosine_proximity", "cosine",
]



# ---------------------------------------------------------------- registry
_CLASSES = Registry({cls.__name__: cls for cls in (
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, KLDivergence, Hinge, SquaredHinge,
    CategoricalHinge, Poisson, LogCosh, CosineSimilarity)})

# Keras function names and aliases -> class
_NAMES = Registry({
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber,
    "kl_divergence": KLDivergence, "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge, "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge, "poisson": Poisson,
    "log_cosh": LogCosh, "logcosh": LogCosh,
    "cosine_similarity": CosineSimilarity, "cosine_proximity": CosineSimilarity,
}, fold_case=True)
# the per-sample function of each Keras name (metrics reuse these)
FUNCTIONS = {
    name: cls._fn for name, cls in _NAMES.items()
}


def _lookup(name, custom_objects=None):
    cls = _CLASSES.find(name, custom_objects) or _CLASSES.find(name, get_custom_objects()) or _NAMES.find(name)
    if cls is None:
        accepted = ", ".join(sorted(_NAMES)) + ", or a class name such as " \
                   "'CategoricalCrossentropy'"
        raise ValueError(f"Unknown loss: {name!r}. Accepted names: {accepted}.")
    return cls


def serialize(loss):
    """``{'class_name': ..., 'config': ...}`` for a ``Loss``.

    Example:
        >>> from kerosene import losses
        >>> losses.serialize(losses.Huber(delta=2.0))["config"]["delta"]
        2.0
    """
    return serialize_keras2(loss, lambda obj: isinstance(obj, Loss), "a kerosene Loss")


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`: registered classes and ``custom_objects`` only.

    Example:
        >>> from kerosene import losses
        >>> losses.deserialize({"class_name": "MeanSquaredError", "config": {}}).name
        'mean_squared_error'
    """
    if isinstance(config, str):
        return get(config, custom_objects)
    class_name, inner = split_config(config)
    obj = _lookup(class_name, custom_objects)
    if isinstance(obj, type) and issubclass(obj, Loss):
        inner.pop("fn", None)
        return obj.from_config(inner)
    if isinstance(obj, type):  # a custom loss class of Keras 2 code: rebuilt from its config
        return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)
    return get(obj)


def get(identifier, custom_objects=None):
    """Resolve ``identifier`` to a :class:`Loss`.

    Accepts a Keras name (``'categorical_crossentropy'``, ``'mse'``, ...), a class
    name (``'MeanSquaredError'``), a ``Loss`` instance or subclass, a
    ``{'class_name', 'config'}`` dict, or any callable ``fn(y_true, y_pred)``
    returning per-sample or scalar values (wrapped; named ``fn.__name__``).
    ``None`` gives ``None`` (an output without a loss).

    Example:
        >>> from kerosene import losses
        >>> losses.get("mse").name
        'mean_squared_error'
        >>> losses.get(lambda t, p: (t - p).abs()).name
        '<lambda>'
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        obj = _lookup(identifier, custom_objects)
        return obj() if isinstance(obj, type) else get(obj)
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, type):
        if issubclass(identifier, Loss):
            return identifier()
        if issubclass(identifier, torch.nn.Module):
            return LossFunctionWrapper(identifier(), name=to_snake_case(identifier.__name__))
        raise TypeError(f"Could not interpret loss class {identifier.__name__}: "
                        f"expected a kerosene Loss subclass.")
    if callable(identifier):
        for name, fn in FUNCTIONS.items():
            if fn is identifier:
                return _NAMES[name]()
        return LossFunctionWrapper(identifier)
    raise UninterpretableError(
        f"Could not interpret loss identifier {identifier!r} (type "
        f"{type(identifier).__name__}): expected a loss name, a Loss, or a callable "
        f"fn(y_true, y_pred)."
    )
