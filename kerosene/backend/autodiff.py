"""``K.gradients(loss, variables)``: on real tensors torch.autograd's gradients; on symbolic
tensors a graph node that ``K.function`` runs with gradients tracked (Keras 2's saliency and
grad-CAM recipe ``grads = K.gradients(loss, model.input)[0]``).

    >>> import torch
    >>> from kerosene.backend import autodiff
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> autodiff.gradients((x ** 2).sum(), [x])[0]
    tensor([2., 4.], grad_fn=<MulBackward0>)
"""
from __future__ import annotations

import torch

from ..symbolic import KerasTensor, Node, SymbolicOp, _one_symbolic, as_keras_tensor


def _grads(loss, variables):
    """Gradients of the sum of ``loss`` w.r.t. each of ``variables``; zeros for one that
    ``loss`` does not depend on."""
    targets = [v for v in variables if isinstance(v, torch.Tensor) and v.requires_grad]
    found = {}
    if targets and loss.requires_grad:
        grads = torch.autograd.grad(loss, targets, grad_outputs=torch.ones_like(loss), create_graph=True,
                                    allow_unused=True)
        found = {id(v): g for v, g in zip(targets, grads)}
    out = []
    for v in variables:
        g = found.get(id(v))
        out.append(torch.zeros_like(v, dtype=v.dtype if v.is_floating_point() else torch.float32)
                   if g is None else g)
    return out


def _dtype_name(v):
    name = str(v.dtype).replace("torch.", "")
    return name if name.startswith(("float", "bfloat")) else "float32"


class GradientOp(SymbolicOp):
    """The graph node of ``K.gradients`` on symbolic tensors: its inputs are the loss and the
    symbolic variables; ``K.function`` runs a graph holding one with gradients tracked.

        >>> from kerosene import backend as K
        >>> from kerosene.layers import Input
        >>> x = Input(shape=(3,))
        >>> K.gradients(K.sum(K.square(x)), [x])[0].shape
        (None, 3)
    """

    needs_grad = True


def gradients(loss, variables):
    """The gradients of ``loss`` (summed when not a scalar) w.r.t. each of ``variables`` (a
    tensor or a list of them): a list of tensors shaped as the variables."""
    single = not isinstance(variables, (list, tuple))
    variables = [variables] if single else list(variables)
    if not variables:
        raise ValueError("gradients: `variables` is empty; give the tensors to differentiate against")
    symbolic_loss = isinstance(loss, KerasTensor) or _one_symbolic(loss)
    symbolic_vars = [_one_symbolic(v) for v in variables]
    for v in variables:
        if not (_one_symbolic(v) or isinstance(v, torch.Tensor)):
            raise TypeError(f"gradients: each of `variables` must be a tensor (a weight, an Input or a layer's "
                            f"output), got {type(v).__name__} {v!r}")
    if not symbolic_loss:
        if any(symbolic_vars):
            raise ValueError("gradients: `loss` is a real tensor but `variables` holds symbolic tensors; compute "
                             "the loss from those symbolic tensors")
        if not isinstance(loss, torch.Tensor):
            raise TypeError(f"gradients: `loss` must be a tensor, got {type(loss).__name__}")
        return _grads(loss, variables)
    loss = as_keras_tensor(loss)
    tensors = [as_keras_tensor(v) for v, s in zip(variables, symbolic_vars) if s]

    def run(values):
        loss_value, fed = values[0], iter(values[1:])
        targets = [next(fed) if s else v for v, s in zip(variables, symbolic_vars)]
        return _grads(loss_value, targets)

    op = GradientOp(run, "gradients")
    node = Node(op, [loss] + tensors, {}, [])
    node.outputs = [KerasTensor(tuple(v.shape), _dtype_name(v), node=node, index=i, name=op.name)
                    for i, v in enumerate(as_keras_tensor(v) if s else v for v, s in zip(variables, symbolic_vars))]
    op.__dict__.setdefault("_kerosene_nodes", []).append(node)
    return list(node.outputs)
