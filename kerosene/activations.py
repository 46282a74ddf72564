"""Keras-named activation functions on torch tensors.

Every function takes a tensor and returns a tensor of the same shape::

    >>> import torch
    >>> from kerosene import activations
    >>> activations.get('relu')(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])

``get(identifier)`` resolves ``None`` (linear), a Keras name or a callable;
``serialize(fn)`` returns the Keras name.  Where Keras 2 and Keras 3 differ,
Keras 2 wins (``hard_sigmoid`` is ``clip(0.2 * x + 0.5, 0, 1)``).
"""

import torch
import torch.nn.functional as F

from ._registry import Registry
from .backend import relu as _backend_relu  # symbolic-aware: a KerasTensor records a node
from ._user_warning import warn_user
from .errors import UninterpretableError

__all__ = [
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu",
    "sigmoid", "hard_sigmoid", "hard_silu", "hard_swish", "tanh", "softmax",
    "log_softmax", "softplus", "softsign", "exponential", "swish", "silu",
    "mish", "log_sigmoid", "get", "serialize", "deserialize",
]


def linear(x):
    """Identity: returns ``x`` unchanged."""
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras 2's optional ``alpha``, ``max_value`` and
    ``threshold`` (as ``K.relu``: ``x`` above ``threshold``, clipped to ``[0, max_value]``,
    ``alpha * (x - threshold)`` below)."""
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    return _backend_relu(x, alpha, max_value, threshold)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return F.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU with Keras's default slope 0.2."""
    return F.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return F.elu(x, alpha)


def selu(x):
    """Scaled exponential linear unit (Klambauer et al., 2017)."""
    return F.selu(x)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return F.celu(x, alpha)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact erf form unless ``approximate``)."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``."""
    return torch.sigmoid(x)


def hard_sigmoid(x):
    """Keras 2's piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)


def hard_silu(x):
    """``x * relu6(x + 3) / 6``."""
    return F.hardswish(x)


hard_swish = hard_silu


def tanh(x):
    """Hyperbolic tangent."""
    return torch.tanh(x)


def softmax(x, axis=-1):
    """Softmax over ``axis`` (default the last one); a 1-D tensor (no batch axis) is refused,
    as in Keras 2."""
    if x.dim() == 1:
        raise ValueError(f"softmax: `x` is 1-D (shape {tuple(x.shape)}): it needs a batch axis and at least one "
                         "more, e.g. shape (batch, classes)")
    return torch.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    """Log of the softmax over ``axis``."""
    return torch.log_softmax(x, dim=axis)


def softplus(x):
    """``log(exp(x) + 1)``."""
    return F.softplus(x)


def softsign(x):
    """``x / (abs(x) + 1)``."""
    return F.softsign(x)


def exponential(x):
    """``exp(x)``."""
    return torch.exp(x)


def swish(x):
    """``x * sigmoid(x)`` (also called SiLU)."""
    return F.silu(x)


silu = swish


def mish(x):
    """``x * tanh(softplus(x))``."""
    return F.mish(x)


def log_sigmoid(x):
    """``log(sigmoid(x))``."""
    return F.logsigmoid(x)


_REGISTRY = Registry({
    "linear": linear, "relu": relu, "relu6": relu6, "leaky_relu": leaky_relu,
    "elu": elu, "selu": selu, "celu": celu, "gelu": gelu, "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu,
    "hard_swish": hard_swish, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "softplus": softplus, "softsign": softsign,
    "exponential": exponential, "swish": swish, "silu": silu, "mish": mish,
    "log_sigmoid": log_sigmoid,
}, fold_case=True)

# torch callables that a user may pass, mapped back to Keras names.
_TORCH_ALIASES = {
    torch.relu: "relu", torch.sigmoid: "sigmoid", torch.tanh: "tanh",
    torch.exp: "exponential", F.relu: "relu", F.silu: "swish", F.gelu: "gelu",
    F.elu: "elu", F.selu: "selu", F.softplus: "softplus", F.softsign: "softsign",
    F.relu6: "relu6", F.mish: "mish",
}


def accepted_names():
    """The sorted list of activation names ``get`` accepts."""
    return sorted(_REGISTRY)


def get(identifier):
    """Resolve ``identifier`` to an activation function.

    ``None`` gives ``linear``; a string is looked up by Keras name
    (case-insensitive); a callable is returned unchanged; a Keras-style dict
    ``{"class_name": name}`` is looked up too.

    >>> get('tanh') is tanh
    True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", {}).get("name", identifier.get("class_name"))
    if isinstance(identifier, str):
        fn = _REGISTRY.find(identifier)
        if fn is not None:
            return fn
        raise ValueError(
            f"Unknown activation {identifier!r} (argument 'activation'). "
            f"Accepted names: {', '.join(accepted_names())}, or any callable.")
    if callable(identifier):
        if isinstance(identifier, torch.nn.Module) and hasattr(identifier, "get_config"):
            warn_user(f"activation={type(identifier).__name__}(...): a layer passed as another layer's "
                      "activation is called as a function there; add activation layers to the model as layers")
        return identifier
    raise UninterpretableError(
        f"Could not interpret activation {identifier!r} of type "
        f"{type(identifier).__name__}: expected None, a name "
        f"({', '.join(accepted_names())}) or a callable.")


def serialize(fn):
    """Return the Keras name of activation ``fn`` (``'linear'`` for None).

    A user function that is not registered serialises to its ``__name__``.
    """
    if fn is None:
        return "linear"
    for name, f in _REGISTRY.items():
        if f is fn:
            # Aliases resolve to their canonical name.
            return {"silu": "swish", "hard_swish": "hard_silu"}.get(name, name)
    try:
        if fn in _TORCH_ALIASES:
            return _TORCH_ALIASES[fn]
    except TypeError:  # unhashable callable
        pass
    if hasattr(fn, "get_config"):
        return {"class_name": type(fn).__name__, "config": fn.get_config()}
    return getattr(fn, "__name__", type(fn).__name__)


def deserialize(name, custom_objects=None):
    """Inverse of ``serialize``; ``custom_objects`` maps names to callables."""
    found = _REGISTRY.find(name, custom_objects)
    return found if found is not None else get(name)

