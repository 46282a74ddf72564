"""Give a plain ``torch.optim.Optimizer`` the Keras surface kerosene relies on.

``adapt(opt)`` swaps the instance's class, in place, for a cached subclass that adds
``learning_rate``/``lr`` (a float on every param group), ``iterations`` and
``build(params)`` (a check, since a torch optimizer is bound at creation). The
optimizer otherwise behaves exactly as before: same update rule, same state dict.
"""

import numbers

import torch

from .._user_warning import warn_user
from ..backend import BoundHyperparameter  # so K.set_value(opt.lr, v) can write back
from .base import Optimizer
from .checks import check_float

__all__ = ["adapt", "KerasSurface"]

_CACHE = {}


class KerasSurface:
    """Mixin added to adapted torch optimizers (see :func:`adapt`).

    Example:
        >>> import torch
        >>> from kerosene import optimizers
        >>> model = torch.nn.Linear(2, 1)
        >>> opt = optimizers.get(torch.optim.SGD(model.parameters(), lr=0.1))
        >>> opt.lr = 0.05
        >>> opt.param_groups[0]["lr"]
        0.05
    """

    _kerosene_adapted = True

    @property
    def learning_rate(self):
        return BoundHyperparameter(self.param_groups[0]["lr"], self, "learning_rate")

    @learning_rate.setter
    def learning_rate(self, value):
        value = check_float("learning_rate", value, low=0.0,
                            owner=type(self).__name__)
        for group in self.param_groups:
            current = group["lr"]
            if isinstance(current, torch.Tensor):
                current.fill_(value)  # a tensor lr (e.g. capturable) stays a tensor
            else:
                group["lr"] = value
        if "lr" in self.defaults and not isinstance(self.defaults["lr"], torch.Tensor):
            self.defaults["lr"] = value

    lr = learning_rate

    @property
    def built(self):
        return True

    @property
    def iterations(self):
        """Steps taken, read from torch's per-parameter ``step`` state (0 if none)."""
        best = 0
        for state in self.state.values():
            step = state.get("step") if isinstance(state, dict) else None
            if step is not None:
                step = int(step.item() if isinstance(step, torch.Tensor) else step)
                best = max(best, step)
        return best

    def build(self, params):
        """Check ``params`` against the optimizer's own; it is already bound."""
        mine = {id(p) for g in self.param_groups for p in g["params"]}
        given = [p for p in params if isinstance(p, torch.Tensor)]
        trainable = [p for p in given if p.requires_grad]
        if given and not any(id(p) in mine for p in given):
            raise ValueError(
                f"The torch optimizer {type(self).__name__} passed to compile() holds "
                f"none of the model's parameters: create it from "
                f"`model.parameters()` after the model is built."
            )
        missing = sum(1 for p in trainable if id(p) not in mine)
        if missing:
            warn_user(
                f"The torch optimizer {type(self).__name__} does not update "
                f"{missing} of the model's {len(trainable)} trainable parameters."
            )

    def __reduce_ex__(self, protocol):
        # the cached subclass is not importable: pickle as the torch class and
        # adapt again on load (deepcopy and torch.save of the object work)
        base = _original_class(type(self))
        return _restore, (base, self.__getstate__())

    def get_config(self):
        config = {"name": type(self).__name__}
        config.update({k: v for k, v in self.defaults.items()
                       if isinstance(v, (numbers.Number, bool, str, tuple, type(None)))})
        return config


def adapt(optimizer):
    """Give ``optimizer`` (a ``torch.optim.Optimizer``) the Keras surface in place.

    Returns the same object. Kerosene optimizers and already-adapted ones are
    returned unchanged.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"expected a torch.optim.Optimizer, got "
                        f"{type(optimizer).__name__}.")
    cls = type(optimizer)
    if getattr(cls, "_kerosene_adapted", False) or isinstance(optimizer, Optimizer):
        return optimizer
    sub = _CACHE.get(cls)
    if sub is None:
        sub = type(cls.__name__, (KerasSurface, cls), {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        })
        _CACHE[cls] = sub
    optimizer.__class__ = sub
    return optimizer


def _original_class(cls):
    for base in cls.__mro__[1:]:
        if base is not KerasSurface and not getattr(base, "_kerosene_adapted", False):
            return base
    raise TypeError(cls)


def _restore(base, state):
    obj = base.__new__(base)
    obj.__setstate__(state)
    return adapt(obj)
