"""Adadelta, Keras 3 update rule."""

import torch

from .base import Optimizer
from .checks import check_float
from .updates import add_scaled_

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of gradients and updates.

    Update (Keras 3)::

        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -sqrt(acc_d + eps) * g / sqrt(acc_g + eps)
        acc_d = rho * acc_d + (1 - rho) * delta**2
        p += lr * delta

    Args:
        learning_rate: float >= 0, default ``1.0`` (Keras 2.2; Keras 3 uses 0.001).
            Alias ``lr``.
        rho: float in [0, 1], default ``0.95``.
        epsilon: float >= 0, default ``1e-7`` (``None`` means 1e-7, as Keras 2.2).
        name, decay, clipnorm, clipvalue, global_clipnorm, weight_decay: see
            :mod:`kerosene.optimizers.base`.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import Adadelta
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = Adadelta()
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
    """

    _default_name = "adadelta"
    _state_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=1.0, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        owner = type(self).__name__
        hyper = {
            "rho": check_float("rho", rho, 0.0, 1.0, owner=owner),
            "epsilon": check_float("epsilon", 1e-7 if epsilon is None else epsilon, 0.0, owner=owner),
        }
        super().__init__(learning_rate, hyper, name, **kwargs)

    def _update(self, group, params, grads, lr, step):
        rho, eps = group["rho"], group["epsilon"]
        acc_g, acc_d = self._states(group, params, self._state_names)
        torch._foreach_mul_(acc_g, rho)
        torch._foreach_addcmul_(acc_g, grads, grads, value=1.0 - rho)
        num = torch._foreach_add(acc_d, eps)
        torch._foreach_sqrt_(num)
        den = torch._foreach_add(acc_g, eps)
        torch._foreach_sqrt_(den)
        torch._foreach_mul_(num, grads)
        torch._foreach_div_(num, den)            # num is now -delta
        torch._foreach_mul_(acc_d, rho)
        torch._foreach_addcmul_(acc_d, num, num, value=1.0 - rho)
        add_scaled_(params, num, -lr)
