"""SGD with optional (Nesterov) momentum, Keras 3 update rule."""

import torch

from .base import Optimizer
from .checks import check_bool, check_float
from .updates import add_scaled_

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum.

    Update (Keras): with ``momentum == 0``, ``p -= lr * g``; otherwise
    ``m = momentum * m - lr * g`` and ``p += m``, or with ``nesterov=True``
    ``p += momentum * m - lr * g`` (using the new ``m``).

    Args:
        learning_rate: float >= 0, default ``0.01`` (Keras 2 and 3). Alias ``lr``.
        momentum: float in [0, 1], default ``0.0``.
        nesterov: bool, default ``False``.
        name, decay, clipnorm, clipvalue, global_clipnorm, weight_decay: see
            :mod:`kerosene.optimizers.base`.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import SGD
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
    """

    _default_name = "SGD"
    _state_names = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None,
                 **kwargs):
        owner = type(self).__name__
        hyper = {
            "momentum": check_float("momentum", momentum, 0.0, 1.0, owner=owner),
            "nesterov": check_bool("nesterov", nesterov, owner=owner),
        }
        super().__init__(learning_rate, hyper, name, **kwargs)

    def _update(self, group, params, grads, lr, step):
        momentum = group["momentum"]
        if momentum == 0:
            add_scaled_(params, grads, -lr)
            return
        (bufs,) = self._states(group, params, self._state_names)
        torch._foreach_mul_(bufs, momentum)
        add_scaled_(bufs, grads, -lr)
        if group["nesterov"]:
            torch._foreach_add_(params, bufs, alpha=momentum)
            add_scaled_(params, grads, -lr)
        else:
            torch._foreach_add_(params, bufs)
