"""Keras 2's symbolic training loss: ``model.total_loss`` over placeholders for the targets
and sample weights (``model.targets``, ``model.sample_weights``), for callbacks that take its
gradients with ``K.gradients`` and run them with ``K.function``::

    grads = K.gradients(model.total_loss, model.trainable_weights)
    f = K.function(model._feed_inputs + model._feed_targets + model._feed_sample_weights, grads)
    f([x, y, np.ones(len(y))])

The loss is the one ``fit`` minimises (``compute_loss``: the compiled losses, their weights,
the sample weights and the regularization penalties), built once per ``compile``.
"""
from __future__ import annotations

from ..backend.graph import placeholder
from ..errors import NotCompiledError
from ..symbolic import apply_symbolic

__all__ = ["SymbolicLoss", "symbolic_loss", "NotCompiledAttributeError"]


class NotCompiledAttributeError(NotCompiledError, AttributeError):
    """An uncompiled model has no ``total_loss``: an AttributeError, as in Keras 2, so that
    ``hasattr(model, 'total_loss')`` is False. Example::

        hasattr(Sequential([Dense(1, input_shape=(4,))]), 'total_loss')   # False
    """


class SymbolicLoss:
    """The placeholders and the loss tensor of one compiled model.

    Example::

        graph = symbolic_loss(model)
        graph.targets, graph.sample_weights, graph.total_loss
    """

    def __init__(self, model):
        outputs = list(model.outputs)
        self.targets = [placeholder(ndim=len(o.shape), dtype=o.dtype, name=f"{_name(o, i)}_target")
                        for i, o in enumerate(outputs)]
        self.sample_weights = [placeholder(ndim=1, name=f"{_name(o, i)}_sample_weights")
                               for i, o in enumerate(outputs)]
        single = len(outputs) == 1

        def loss(values):
            preds, ys, weights = values
            if single:
                return model.compute_loss(None, ys[0], preds[0], weights[0])
            return model.compute_loss(None, list(ys), list(preds), list(weights))

        self.total_loss = apply_symbolic(lambda *values: loss(values), [outputs, self.targets, self.sample_weights],
                                         {}, "total_loss")


def _name(output, index):
    node = getattr(output, "node", None)
    layer = getattr(node, "layer", None)
    return getattr(layer, "name", None) or f"output_{index}"


def symbolic_loss(model):
    """The model's :class:`SymbolicLoss`, made at the first request after each ``compile``."""
    state = getattr(model, "_compile_state", None)
    if state is None:
        raise NotCompiledAttributeError("total_loss, targets and sample_weights exist once the model is compiled: "
                               "call model.compile(optimizer=..., loss=...) first")
    graph = getattr(state, "symbolic_loss", None)
    if graph is None:
        graph = state.symbolic_loss = SymbolicLoss(model)
    return graph
