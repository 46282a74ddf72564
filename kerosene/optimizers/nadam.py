"""Nadam, Keras 3 update rule (with its momentum-cache schedule)."""

import torch

from .base import Optimizer
from .checks import check_adam_moments
from .updates import addcdiv_, sqrt

__all__ = ["Nadam"]


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum.

    Update (Keras 3), at step ``t`` (1-based), with the momentum schedule
    ``mu_t = beta_1 * (1 - 0.5 * 0.96**t)`` and its running product
    ``P_t = mu_1 * ... * mu_t``::

        m = m + (1 - beta_1) * (g - m)
        v = v + (1 - beta_2) * (g**2 - v)
        m_hat = mu_{t+1} * m / (1 - P_t * mu_{t+1}) + (1 - mu_t) * g / (1 - P_t)
        v_hat = v / (1 - beta_2**t)
        p -= lr * m_hat / (sqrt(v_hat) + eps)

    ``P_t`` is kept per parameter group (key ``u_product``) so it is saved in
    ``state_dict()`` (as a float); under ``jit_compile`` the group holds it as a
    0-d tensor that the compiled step updates in place, so it never recompiles.

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
        >>> from kerosene.optimizers import Nadam
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = Nadam()
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
    """

    _default_name = "nadam"
    _state_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        owner = type(self).__name__
        hyper = check_adam_moments(beta_1, beta_2, epsilon, owner)
        super().__init__(learning_rate, hyper, name, **kwargs)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        self.param_groups[-1].setdefault("u_product", 1.0)

    def use_tensor_hyperparameters(self):
        """As the base class, and each group's ``u_product`` becomes a 0-d tensor."""
        if not super().use_tensor_hyperparameters():
            return False
        self._tensor_u_products()
        return True

    def sync_hyperparameters(self):
        """As the base class; a ``u_product`` written back as a float (a load) becomes a tensor again."""
        super().sync_hyperparameters()
        self._tensor_u_products()

    def _tensor_u_products(self):
        device = self._step_tensor.device
        for group in self.param_groups:
            value = group.get("u_product", 1.0)
            if not isinstance(value, torch.Tensor):
                group["u_product"] = torch.tensor(float(value), dtype=torch.float64, device=device)

    def state_dict(self):
        """As the base class, with ``u_product`` a float (a copy: later steps do not change it)."""
        sd = super().state_dict()
        for group in sd["param_groups"]:
            if isinstance(group.get("u_product"), torch.Tensor):
                group["u_product"] = float(group["u_product"])
        return sd

    def _update(self, group, params, grads, lr, step):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        if isinstance(step, torch.Tensor):   # jit_compile: every factor a tensor, P_t updated in place
            t = step.to(torch.float64)
            mu_t = beta_1 * (1.0 - 0.5 * 0.96 ** t)
            mu_next = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
            u_product = group["u_product"]
            if not isinstance(u_product, torch.Tensor):   # stepped directly after a load
                u_product = group["u_product"] = torch.tensor(float(u_product), dtype=torch.float64,
                                                              device=t.device)
            u_product = u_product.mul_(mu_t)
            step = t
        else:
            mu_t = beta_1 * (1.0 - 0.5 * 0.96 ** step)
            mu_next = beta_1 * (1.0 - 0.5 * 0.96 ** (step + 1))
            u_product = group.get("u_product", 1.0) * mu_t
            group["u_product"] = u_product
        u_product_next = u_product * mu_next
        m, v = self._states(group, params, self._state_names)
        torch._foreach_lerp_(m, grads, 1.0 - beta_1)
        torch._foreach_mul_(v, beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - beta_2)
        denom = torch._foreach_sqrt(v)
        torch._foreach_mul_(denom, 1.0 / sqrt(1.0 - beta_2 ** step))
        torch._foreach_add_(denom, group["epsilon"])
        addcdiv_(params, m, denom, -lr * mu_next / (1.0 - u_product_next))
        addcdiv_(params, grads, denom, -lr * (1.0 - mu_t) / (1.0 - u_product))
