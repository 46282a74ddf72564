"""Adam and AdamW, Keras 3 update rule (epsilon outside the square root)."""

import torch

from .base import Optimizer
from .checks import check_adam_moments, check_bool
from .updates import addcdiv_, sqrt

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    Update (Keras 3), at step ``t`` (1-based)::

        m = m + (1 - beta_1) * (g - m)
        v = v + (1 - beta_2) * (g**2 - v)
        v_hat = max(v_hat, v)                  # amsgrad only; used in place of v
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        p -= alpha * m / (sqrt(v) + eps)

    Args:
        learning_rate: float >= 0, default ``0.001`` (Keras 2 and 3). Alias ``lr``.
        beta_1: float in [0, 1), default ``0.9``.
        beta_2: float in [0, 1), default ``0.999``.
        epsilon: float >= 0, default ``1e-7`` (``None`` means 1e-7, as Keras 2.2).
        amsgrad: bool, default ``False``.
        name, decay, clipnorm, clipvalue, global_clipnorm, weight_decay: see
            :mod:`kerosene.optimizers.base`.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import Adam
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = Adam(learning_rate=1e-3, amsgrad=True)
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
    """

    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        owner = type(self).__name__
        hyper = {**check_adam_moments(beta_1, beta_2, epsilon, owner),
                 "amsgrad": check_bool("amsgrad", amsgrad, owner=owner)}
        super().__init__(learning_rate, hyper, name, **kwargs)

    def _init_state(self, group, param, state):
        zeros = torch.zeros_like
        state["momentum"] = zeros(param, memory_format=torch.preserve_format)
        state["velocity"] = zeros(param, memory_format=torch.preserve_format)
        if group["amsgrad"]:
            state["velocity_hat"] = zeros(param, memory_format=torch.preserve_format)

    def _update(self, group, params, grads, lr, step):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        amsgrad = group["amsgrad"]
        names = ("momentum", "velocity", "velocity_hat") if amsgrad else (
            "momentum", "velocity")
        states = self._states(group, params, names)
        m, v = states[0], states[1]
        torch._foreach_lerp_(m, grads, 1.0 - beta_1)
        torch._foreach_mul_(v, beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - beta_2)
        if amsgrad:
            torch._foreach_maximum_(states[2], v)
            v = states[2]
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, group["epsilon"])
        alpha = lr * sqrt(1.0 - beta_2 ** step) / (1.0 - beta_1 ** step)
        addcdiv_(params, m, denom, -alpha)


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3's AdamW).

    Before each Adam update, ``p *= 1 - weight_decay * lr``.

    Args:
        learning_rate: float >= 0, default ``0.001``. Alias ``lr``.
        weight_decay: float >= 0, default ``0.004`` (Keras 3).
        beta_1, beta_2, epsilon, amsgrad: as :class:`Adam` (defaults 0.9, 0.999,
            1e-7, False).

    Example:
        >>> from kerosene.optimizers import AdamW
        >>> opt = AdamW(learning_rate=1e-3, weight_decay=0.01)
        >>> opt.get_config()["weight_decay"]
        0.01
    """

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "AdamW: `weight_decay` must be a float >= 0, got None (use Adam for "
                "no weight decay)."
            )
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, name,
                         weight_decay=weight_decay, **kwargs)
