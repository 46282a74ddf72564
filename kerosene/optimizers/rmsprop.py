"""RMSprop, Keras 3 update rule (epsilon inside the square root)."""

import torch

from .base import Optimizer
from .checks import check_bool, check_float
from .updates import addcdiv_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of its history.

    Update (Keras 3)::

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g            # centered only
        d = v - a**2 + eps  if centered else  v + eps
        inc = lr * g / sqrt(d)
        m = momentum * m + inc; p -= m         # momentum > 0
        p -= inc                               # otherwise

    Note the epsilon sits inside the square root, unlike ``torch.optim.RMSprop``.

    Args:
        learning_rate: float >= 0, default ``0.001`` (Keras 2 and 3). Alias ``lr``.
        rho: float in [0, 1], default ``0.9``.
        momentum: float in [0, 1], default ``0.0``.
        epsilon: float >= 0, default ``1e-7`` (``None`` means 1e-7, as Keras 2.2).
        centered: bool, default ``False``.
        name, decay, clipnorm, clipvalue, global_clipnorm, weight_decay: see
            :mod:`kerosene.optimizers.base`.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import RMSprop
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = RMSprop(learning_rate=1e-3)
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
        >>> opt.lr = 1e-4            # Keras 2 style; same as opt.learning_rate
    """

    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        owner = type(self).__name__
        hyper = {
            "rho": check_float("rho", rho, 0.0, 1.0, owner=owner),
            "momentum": check_float("momentum", momentum, 0.0, 1.0, owner=owner),
            "epsilon": check_float("epsilon", 1e-7 if epsilon is None else epsilon, 0.0, owner=owner),
            "centered": check_bool("centered", centered, owner=owner),
        }
        super().__init__(learning_rate, hyper, name, **kwargs)

    def _init_state(self, group, param, state):
        zeros = torch.zeros_like
        state["velocity"] = zeros(param, memory_format=torch.preserve_format)
        if group["momentum"] > 0:
            state["momentum"] = zeros(param, memory_format=torch.preserve_format)
        if group["centered"]:
            state["average_gradient"] = zeros(param, memory_format=torch.preserve_format)

    def _update(self, group, params, grads, lr, step):
        rho = group["rho"]
        momentum = group["momentum"]
        centered = group["centered"]
        names = ("velocity",)
        if momentum > 0:
            names += ("momentum",)
        if centered:
            names += ("average_gradient",)
        states = self._states(group, params, names)
        velocities = states[0]
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1.0 - rho)
        if centered:
            averages = states[-1]
            torch._foreach_mul_(averages, rho)
            torch._foreach_add_(averages, grads, alpha=1.0 - rho)
            denom = torch._foreach_addcmul(velocities, averages, averages, value=-1.0)
            torch._foreach_add_(denom, group["epsilon"])
        else:
            denom = torch._foreach_add(velocities, group["epsilon"])
        torch._foreach_sqrt_(denom)
        if momentum > 0:
            bufs = states[1]
            torch._foreach_mul_(bufs, momentum)
            addcdiv_(bufs, grads, denom, lr)
            torch._foreach_sub_(params, bufs)
        else:
            addcdiv_(params, grads, denom, -lr)
