"""``model.add_loss``: losses added to the compiled loss, Keras 2's way.

A symbolic expression of a functional model's tensors (``K.mean(a + b)``) is recorded when
it is added: its nodes join the model's graph, so every forward pass computes it from that
pass's own tensors, and the training and test steps add it to the loss. A callable taking
no argument is called each step instead (tf.keras's form, for any model)::

    a = Input((3,)); h = Dense(4)(a); out = Dense(1)(h)
    model = Model(a, out)
    model.add_loss(K.mean(K.square(h)) * 0.01)
    model.compile('sgd', 'mse')        # the loss is mse + 0.01 * mean(h ** 2)
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..symbolic import call_symbolic, is_symbolic, nodes_between

__all__ = ["AddedLoss", "add_model_loss"]


class AddedLoss(nn.Module):
    """One added loss: the value of a symbolic expression in the last forward pass, or a
    callable's value. The engine sums it with the layers' penalties (``regularization_loss``).

        >>> import torch
        >>> AddedLoss(lambda: torch.tensor(2.0)).regularization_loss()
        tensor(2.)
    """

    def __init__(self, function=None, constant=None):
        super().__init__()
        self.name = "added_loss"
        self.function = function
        self.constant = constant
        self.value = None

    def forward(self, value):
        """A graph node's call: keep the expression's value of this pass."""
        self.value = value
        return value

    def regularization_loss(self):
        if self.constant is not None:
            return torch.tensor(self.constant)
        value = self.function() if self.function is not None else self.value
        if value is None:
            return 0.0
        value = torch.as_tensor(value)
        return value if value.dim() == 0 else value.sum()


def add_model_loss(model, losses):
    """Record ``losses`` (a symbolic tensor, a zero-argument callable, or a list of them) on
    ``model``; see the module docstring."""
    items = losses if isinstance(losses, (list, tuple)) else [losses]
    made = []
    for loss in items:
        if is_symbolic(loss):
            made.append(_symbolic_loss(model, loss))
        elif callable(loss) and not isinstance(loss, nn.Module):
            made.append(AddedLoss(loss))
        elif isinstance(loss, (int, float, np.integer, np.floating)) and not isinstance(loss, bool):
            made.append(AddedLoss(constant=float(loss)))    # Keras 2 adds a constant as is
        else:
            raise TypeError(f"add_loss: `losses` must be symbolic tensors of the model (K.mean(layer_output)), "
                            f"callables taking no argument or numbers, got {type(loss).__name__}: a tensor "
                            "computed now would not change with the weights")
    held = model.__dict__.get("_modules", {}).get("_added_losses")
    if held is None:
        model._added_losses = held = nn.ModuleList()
    held.extend(made)


def _symbolic_loss(model, tensor):
    if not (hasattr(model, "_nodes") and hasattr(model, "_inputs")):
        raise TypeError(f"add_loss: model {getattr(model, 'name', '?')!r} is not a functional model, so a symbolic "
                        "expression cannot be computed from its tensors; pass a callable taking no argument")
    keeper = AddedLoss()
    captured = call_symbolic(keeper, tensor)
    nodes = nodes_between(model._inputs, [captured], owner=f"add_loss on model {model.name!r}")
    known = {id(node) for node in model._nodes}
    # the expression's own nodes run after the model's (all they read is computed by then)
    model._nodes.extend(node for node in nodes if id(node) not in known)
    return keeper
