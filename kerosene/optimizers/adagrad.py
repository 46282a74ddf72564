"""Adagrad, Keras 3 update rule."""

import torch

from .base import Optimizer
from .checks import check_float
from .updates import addcdiv_

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: per-parameter learning rates from the sum of squared gradients.

    Update (Keras 3)::

        acc += g**2                       # acc starts at initial_accumulator_value
        p -= lr * g / sqrt(acc + eps)

    Args:
        learning_rate: float >= 0, default ``0.01`` (Keras 2.2; Keras 3 uses 0.001).
            Alias ``lr``.
        initial_accumulator_value: float >= 0, default ``0.0`` (Keras 2.2's accumulators
            start at zero; Keras 3 uses 0.1).
        epsilon: float >= 0, default ``1e-7`` (``None`` means 1e-7, as Keras 2.2).
        name, decay, clipnorm, clipvalue, global_clipnorm, weight_decay: see
            :mod:`kerosene.optimizers.base`.

    Example:
        >>> import torch
        >>> from kerosene.optimizers import Adagrad
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = Adagrad()
        >>> opt.build(model.parameters())
        >>> model(torch.randn(8, 4)).pow(2).mean().backward()
        >>> opt.step()
    """

    _default_name = "adagrad"

    def __init__(self, learning_rate=0.01, initial_accumulator_value=0.0,
                 epsilon=1e-7, name=None, **kwargs):
        owner = type(self).__name__
        hyper = {
            "initial_accumulator_value": check_float(
                "initial_accumulator_value", initial_accumulator_value, 0.0,
                owner=owner),
            "epsilon": check_float("epsilon", 1e-7 if epsilon is None else epsilon, 0.0, owner=owner),
        }
        super().__init__(learning_rate, hyper, name, **kwargs)

    def _init_state(self, group, param, state):
        state["accumulator"] = torch.full_like(
            param, group["initial_accumulator_value"],
            memory_format=torch.preserve_format)

    def _update(self, group, params, grads, lr, step):
        (acc,) = self._states(group, params, ("accumulator",))
        torch._foreach_addcmul_(acc, grads, grads)
        denom = torch._foreach_add(acc, group["epsilon"])
        torch._foreach_sqrt_(denom)
        addcdiv_(params, grads, denom, -lr)
