"""Keras-named optimizers built on ``torch.optim.Optimizer``.

Each optimizer can be created before the model's parameters exist and bound later
with ``opt.build(params)`` (``Model.compile`` does this). Update rules are Keras 3's,
vectorised with ``torch._foreach_*``; defaults are Keras 2.2's where the versions
differ (``Adadelta`` lr 1.0, ``Adagrad`` 0.01, ``Adamax``/``Nadam`` 0.002).

Example:
    >>> from kerosene import optimizers
    >>> opt = optimizers.get("rmsprop")
    >>> opt.learning_rate
    0.001
    >>> optimizers.serialize(optimizers.SGD(lr=0.1))["class_name"]
    'SGD'
"""

import torch

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD
from .torch_adapter import adapt
from .._registry import Registry, serialize_checked

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax",
    "Nadam", "get", "serialize", "deserialize", "adapt",
    "sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamax", "nadam",
]

# Keras 2's lower-case aliases are the classes themselves.
sgd, rmsprop, adam, adagrad, adadelta, adamax, nadam = SGD, RMSprop, Adam, Adagrad, Adadelta, Adamax, Nadam

_BY_NAME = Registry({
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": Nadam,
}, fold_case=True)
_ACCEPTED = ", ".join(repr(n) for n in _BY_NAME)


def _lookup(name, custom_objects=None):
    cls = _BY_NAME.find(name, custom_objects)
    if cls is None:
        raise ValueError(
            f"Unknown optimizer: {name!r}. Accepted names (case-insensitive): "
            f"{_ACCEPTED}."
        )
    return cls


def serialize(optimizer):
    """``{'class_name': ..., 'config': ...}`` for a kerosene optimizer.

    Example:
        >>> from kerosene import optimizers
        >>> optimizers.serialize(optimizers.Adam())["config"]["learning_rate"]
        0.001
    """
    return serialize_checked(optimizer, lambda obj: hasattr(obj, "get_config"), "a kerosene optimizer")


def deserialize(config, custom_objects=None):
    """Inverse of :func:`serialize`; only registered classes and ``custom_objects``.

    Example:
        >>> from kerosene import optimizers
        >>> optimizers.deserialize({"class_name": "SGD", "config": {"lr": 0.1}}).lr
        0.1
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"deserialize() expects a dict with 'class_name' and 'config', got "
            f"{config!r}."
        )
    class_name = config["class_name"]
    if not isinstance(class_name, str):
        raise TypeError(f"optimizer 'class_name' must be a str, got {class_name!r}.")
    cls = _lookup(class_name, custom_objects)
    if class_name.lower() in _BY_NAME:
        config["class_name"] = class_name.lower()  # Keras 2 normalises the given dict in place
    inner = config.get("config") or {}
    if hasattr(cls, "from_config"):
        return cls.from_config(inner)
    return cls(**inner)


def get(identifier, custom_objects=None):
    """Resolve ``identifier`` to an optimizer usable by ``compile``.

    Accepts a Keras name (``'sgd'``, ``'rmsprop'``, ``'adam'``, ``'adamw'``,
    ``'adagrad'``, ``'adadelta'``, ``'adamax'``, ``'nadam'``, any case; created with
    kerosene's defaults), a kerosene optimizer (returned as is), a plain
    ``torch.optim.Optimizer`` (gains ``learning_rate``/``lr``/``build`` in place), or
    a ``{'class_name': ..., 'config': ...}`` dict.

    Example:
        >>> from kerosene import optimizers
        >>> type(optimizers.get("Adam")).__name__
        'Adam'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer):
        return adapt(identifier)
    if isinstance(identifier, str):
        return _lookup(identifier, custom_objects)()
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(
        f"Could not interpret optimizer identifier {identifier!r} (type "
        f"{type(identifier).__name__}): expected a name ({_ACCEPTED}), a kerosene "
        f"optimizer, a torch.optim.Optimizer instance or a config dict."
    )
