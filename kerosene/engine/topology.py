"""Keras 2's ``keras.engine.topology``: the graph's building blocks under their old import path.

    from kerosene.engine.topology import Layer, InputSpec, get_source_inputs
    inputs = get_source_inputs(y)   # the Input()s that y is computed from
"""
from ..layers import Input, InputLayer, InputSpec, Layer
from ..models import Model
from ..symbolic import Node, as_keras_tensor, is_symbolic

Network = Model  # Keras 2's graph container; Model(inputs, outputs) builds the same graph

__all__ = ["Layer", "InputSpec", "Input", "InputLayer", "Node", "Network", "get_source_inputs"]


def get_source_inputs(tensor):
    """The ``Input()`` layers a symbolic tensor is computed from, in first-use order.

    Example::

        a, b = Input(shape=(3,)), Input(shape=(3,))
        get_source_inputs(Concatenate()([a, b]))   # [a, b]
    """
    if not is_symbolic(tensor) or isinstance(tensor, (list, tuple)):
        raise TypeError(f"get_source_inputs: `tensor` must be one symbolic tensor (from Input() or a layer "
                        f"called on one), got {type(tensor).__name__}")
    sources, seen = [], set()
    stack = [as_keras_tensor(tensor)]
    while stack:
        current = stack.pop()
        node = current.node
        if node is None or not node.inputs:
            layer = node.layer if node is not None else current
            if id(layer) not in seen:
                seen.add(id(layer))
                sources.append(layer)
            continue
        stack.extend(reversed([as_keras_tensor(t) for t in node.flat_inputs()]))
    return sources
