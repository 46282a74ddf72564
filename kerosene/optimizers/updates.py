"""The ``_foreach`` update pieces every optimizer shares: in-place updates that take a
float or a 0-d tensor (a tensor under ``jit_compile``, so a compiled step never
recompiles when the learning rate or the step count changes), and gradient clipping.

    >>> import torch
    >>> from kerosene.optimizers.updates import add_scaled_
    >>> p = [torch.ones(2)]
    >>> add_scaled_(p, [torch.ones(2)], torch.tensor(-0.5)); p[0].tolist()
    [0.5, 0.5]
"""
import math

import torch

__all__ = ["add_scaled_", "addcdiv_", "sqrt", "clip_gradients"]


def add_scaled_(params, tensors, alpha):
    """``params += alpha * tensors`` in place; ``alpha`` a float or a 0-d tensor."""
    if isinstance(alpha, torch.Tensor):
        torch._foreach_add_(params, torch._foreach_mul(tensors, alpha))
    else:
        torch._foreach_add_(params, tensors, alpha=alpha)


def addcdiv_(params, num, den, value):
    """``params += value * num / den`` in place; ``value`` a float or a 0-d tensor."""
    if isinstance(value, torch.Tensor):
        torch._foreach_add_(params, torch._foreach_mul(torch._foreach_div(num, den), value))
    else:
        torch._foreach_addcdiv_(params, num, den, value=value)


def sqrt(value):
    """The square root of a float or of a 0-d tensor (the step count under ``jit_compile``)."""
    return value.sqrt() if isinstance(value, torch.Tensor) else math.sqrt(value)


def clip_gradients(work, clipnorm, clipvalue, global_clipnorm):
    """Clip the gradients of ``work`` ((group, params, grads, index) tuples) out of place, as Keras:
    by the global norm, then each tensor's norm, then each value."""
    if global_clipnorm:
        all_grads = [g for _, _, grads, _ in work for g in grads]
        norms = torch._foreach_norm(all_grads)
        total = torch.linalg.vector_norm(torch.stack(norms))
        clip = global_clipnorm
        scale = clip / torch.clamp_min(total, clip)  # NaN stays NaN, as Keras
        work = [(g, p, torch._foreach_mul(grads, scale), i) for g, p, grads, i in work]
    if clipnorm:
        clip = clipnorm
        new = []
        for group, params, grads, index in work:
            norms = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(norms, clip)
            torch._foreach_reciprocal_(norms)
            torch._foreach_mul_(norms, clip)
            new.append((group, params, torch._foreach_mul(grads, norms), index))
        work = new
    if clipvalue:
        v = clipvalue
        new = []
        for group, params, grads, index in work:
            grads = torch._foreach_clamp_min(grads, -v)
            torch._foreach_clamp_max_(grads, v)
            new.append((group, params, grads, index))
        work = new
    return work
