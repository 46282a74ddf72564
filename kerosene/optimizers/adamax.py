"""Adamax, Keras 3 update rule."""

import torch

from .base import Optimizer
from .checks import check_adam_moments
from .updates import addcdiv_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Update (Keras 3), at step ``t`` (1-based)::

        m = m + (1 - beta_1) * (g - m)
        u = max(beta_2 * u, |g|)
        p -= lr * m / ((1 - beta_1**t) * (u + eps))

    Args:
        learning_rate: float >= 0, default ``0.002`` (Keras 2.2; Keras 3 uses 0.001).
            Alias ``lr``.
        beta_1: float in [0, 1), default ``0.9``.
        beta_2: float in [0, 1), default ``0.999``.
        epsilon: float >= 0, default ``1e-7`` (``None`` means 1e-7, as Keras 2.2).
        name, decay, clipnorm, clipvalue, global_clipnorm, weight_decay: see
            :mod:`kerosene.optimizers.base`.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import Adamax
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = Adamax()
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
    """

    _default_name = "adamax"
    _state_names = ("momentum", "norm")

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        owner = type(self).__name__
        hyper = check_adam_moments(beta_1, beta_2, epsilon, owner)
        super().__init__(learning_rate, hyper, name, **kwargs)

    def _update(self, group, params, grads, lr, step):
        beta_1 = group["beta_1"]
        m, u = self._states(group, params, self._state_names)
        torch._foreach_lerp_(m, grads, 1.0 - beta_1)
        torch._foreach_mul_(u, group["beta_2"])
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denom = torch._foreach_add(u, group["epsilon"])
        addcdiv_(params, m, denom, -lr / (1.0 - beta_1 ** step))
