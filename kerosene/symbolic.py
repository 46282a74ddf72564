"""The symbolic graph of the functional API: KerasTensor, Node and recording a layer call.

    >>> from kerosene.layers import Input, Dense
    >>> x = Input(shape=(8,))
    >>> y = Dense(4)(x)
    >>> y.shape
    (None, 4)

Calling a layer on symbolic tensors (``Input()`` or another layer's output) records a
:class:`Node` through :func:`call_symbolic`; ``Functional`` (in ``kerosene.models``)
walks the nodes from the outputs back to the inputs. This module sits at the bottom of
the package: it imports only :mod:`kerosene._naming`.
"""
from __future__ import annotations

import operator

import torch
from torch import nn

from ._naming import layer_name, uniquify

__all__ = ["KerasTensor", "Node", "is_symbolic", "as_keras_tensor", "call_symbolic", "nodes_between",
           "run_nodes", "single_node", "SymbolicOp", "apply_symbolic", "has_symbolic", "object_list_uid",
           "constant_source"]


class Node:
    """One call of a layer on symbolic tensors: its inputs (as passed), keyword arguments
    and outputs."""

    __slots__ = ("layer", "inputs", "kwargs", "outputs")

    def __init__(self, layer, inputs, kwargs, outputs):
        self.layer, self.inputs, self.kwargs, self.outputs = layer, inputs, kwargs, outputs

    def flat_inputs(self):
        return list(self.inputs) if isinstance(self.inputs, (list, tuple)) else [self.inputs]


class KerasTensor:
    """A placeholder for data flowing through a functional model.

    ``shape`` is Keras's batch-first shape (batch ``None``). Call layers on it to
    describe a graph, then build ``Model(inputs, outputs)``. ``Input()`` gives an
    ``InputLayer``, which stands for its own output tensor.
    """

    def __init__(self, shape, dtype="float32", node=None, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.name = name

    @property
    def _keras_shape(self):
        return self.shape

    @property
    def layer(self):
        return self.node.layer if self.node is not None else None

    @property
    def _keras_history(self):
        """Keras 2's ``(layer, node_index, tensor_index)``: the layer that made this tensor, which of
        its calls, and which of that call's outputs (what model-surgery code reads)."""
        if self.node is None:
            return None
        layer = self.node.layer
        nodes = getattr(layer, "__dict__", {}).get("_kerosene_nodes", [])
        node_index = next((i for i, n in enumerate(nodes) if n is self.node), 0)
        return layer, node_index, self.index

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} dtype={self.dtype} name={self.name!r}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __bool__(self):
        return True

    def __len__(self):
        raise TypeError("A symbolic tensor has no length: it stands for a batch not yet known")

    def dim(self):
        return len(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # torch.tanh(x), F.elu(x, 1.0), ... on a symbolic tensor record one node, so Keras-named
        # activations and torch functions describe a graph as K functions do.
        return apply_symbolic(func, args, kwargs or {}, getattr(func, "__name__", "torch_op"))

    def __getitem__(self, key):
        # model.output[:, 3] (Keras 2's grad-CAM and saliency losses) records one node.
        return apply_symbolic(operator.getitem, (self, key), {}, "getitem")

    def __iter__(self):
        raise TypeError("A symbolic tensor cannot be iterated; call layers on it instead")

    # Arithmetic records a SymbolicOp node, so Keras 2 expressions such as
    # model.add_loss(K.mean(a + b)) describe what to compute from each step's tensors.
    def __add__(self, other):
        return apply_symbolic(operator.add, (self, other), {}, "add")

    def __radd__(self, other):
        return apply_symbolic(operator.add, (other, self), {}, "add")

    def __sub__(self, other):
        return apply_symbolic(operator.sub, (self, other), {}, "subtract")

    def __rsub__(self, other):
        return apply_symbolic(operator.sub, (other, self), {}, "subtract")

    def __mul__(self, other):
        return apply_symbolic(operator.mul, (self, other), {}, "multiply")

    def __rmul__(self, other):
        return apply_symbolic(operator.mul, (other, self), {}, "multiply")

    def __truediv__(self, other):
        return apply_symbolic(operator.truediv, (self, other), {}, "divide")

    def __rtruediv__(self, other):
        return apply_symbolic(operator.truediv, (other, self), {}, "divide")

    def __pow__(self, other):
        return apply_symbolic(operator.pow, (self, other), {}, "power")

    def __neg__(self):
        return apply_symbolic(operator.neg, (self,), {}, "negative")


def _one_symbolic(x):
    # An InputLayer stands for its own output; it says so with a class flag, so this
    # floor needs no import of the layers above it.
    return isinstance(x, KerasTensor) or getattr(type(x), "is_input_layer", False) is True


def is_symbolic(inputs):
    """Whether a layer is being called on symbolic tensors (a KerasTensor or an ``Input()``,
    or a list of them)."""
    if isinstance(inputs, (list, tuple)):
        return len(inputs) > 0 and all(_one_symbolic(t) for t in inputs)
    return _one_symbolic(inputs)


def as_keras_tensor(x):
    """The KerasTensor for ``x``; an ``InputLayer`` stands for its (cached) output."""
    if isinstance(x, KerasTensor):
        return x
    tensor = x.__dict__.get("_keras_output")
    if tensor is None:
        tensor = KerasTensor(x.batch_input_shape, x.dtype, name=x.name)
        tensor.node = Node(x, [], {}, [tensor])
        x.__dict__["_keras_output"] = tensor
    return tensor


def object_list_uid(object_list):
    """A string naming an object or a list of objects by identity, Keras 2's key for the
    tensors a layer was called on: the objects' ``id`` numbers joined by ``', '``."""
    items = object_list if isinstance(object_list, list) else [object_list]
    return ", ".join(str(abs(id(x))) for x in items)


def _shape_probe(shape, size=2):
    return torch.zeros(tuple(size if d is None else int(d) for d in shape))


_PROBING = [0]


def probing():
    """Whether the layer running now is being probed for its output shapes (not fed data)."""
    return _PROBING[0] > 0


def _probe(layer, inputs, kwargs, size):
    """``layer`` run on zeros shaped as ``inputs``, batch and unknown sizes ``size``, in eval mode."""
    flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    probes = []
    for t in flat:
        name = str(t.dtype)
        dtype = torch.long if name.startswith(("int", "uint")) else (
            getattr(torch, name) if name in ("float16", "bfloat16", "float64") else torch.float32)
        probes.append(_shape_probe(t.shape, size).to(dtype))
    was_training = layer.training
    # A probe is no batch of data: stateful recurrent layers (rnn.py, recurrent.py) keep the states they carry.
    carried = [(m, m.__dict__["_states"]) for m in layer.modules()
               if getattr(m, "stateful", False) is True and "_states" in m.__dict__]
    layer.eval()
    _PROBING[0] += 1
    try:
        with torch.no_grad():
            return nn.Module.__call__(layer, probes if isinstance(inputs, (list, tuple)) else probes[0], **kwargs)
    finally:
        _PROBING[0] -= 1
        layer.train(was_training)
        for m, states in carried:
            m._states = states


def _shapes_of(out, fixed=False):
    """The symbolic shapes of a probe's outputs: the first axis unknown, or as probed where
    ``fixed``: the inputs fix theirs (a stateful RNN's batch_input_shape; three fixed images
    concatenated into a batch of 3, Keras 2's style transfer; an image without its batch axis)."""
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return [(((int(o.shape[0]) if fixed else None),) + tuple(int(s) for s in o.shape[1:])
             if o.dim() else (),   # () for a reduction
             str(o.dtype).replace("torch.", "")) for o in outs]


def _infer_output_shapes(layer, inputs, kwargs):
    """Output shapes of ``layer`` for symbolic ``inputs``: a probe run on a batch of 2.

    An input with unknown sizes (``Input((None, 8))``) is probed at two sizes and each output
    axis that changes between them is unknown too; a probe of size 2 too small for the layer
    (a window of 5 over an unknown length) is made again at a larger size.
    """
    flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    unknown = any(d is None for t in flat for d in tuple(t.shape)[1:])
    try:
        out, other_size = _probe(layer, inputs, kwargs, 2), 29
    except Exception as first:
        if not unknown:
            raise
        try:
            out, other_size = _probe(layer, inputs, kwargs, 29), 47
        except Exception:
            raise first from None
    firsts = [tuple(t.shape)[0] for t in flat if len(tuple(t.shape))]
    fixed = bool(firsts) and all(d is not None for d in firsts)
    shapes = _shapes_of(out, fixed)
    if unknown:
        try:
            other = _shapes_of(_probe(layer, inputs, kwargs, other_size), fixed)
        except Exception:   # a layer that only runs at the probed size (weights built for it): as probed
            other = shapes
        if len(other) == len(shapes):
            shapes = [(tuple(None if a != b else a for a, b in zip(shape, again)) if len(shape) == len(again)
                       else shape, dtype) for (shape, dtype), (again, _) in zip(shapes, other)]
    return shapes, isinstance(out, (list, tuple))


def call_symbolic(layer, inputs, **kwargs):
    """Record ``layer(inputs)`` in the graph and return its symbolic output(s)."""
    if isinstance(inputs, (list, tuple)):
        inputs = [as_keras_tensor(t) for t in inputs]
    else:
        inputs = as_keras_tensor(inputs)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("mask",)}
    # A layer may check the call against the symbolic shapes before the probe runs and give the output
    # shapes where it knows better than the probe, which fills unknown sizes in (merge layers do).
    plan = getattr(layer, "_symbolic_call_shapes", None)
    planned = plan(inputs, kwargs) if plan is not None else None
    shapes, several = _infer_output_shapes(layer, inputs, kwargs)
    if planned is not None:
        shapes = [((shape[0],) + tuple(want[1:]), dtype) for want, (shape, dtype) in zip(planned, shapes)]
    node = Node(layer, inputs, dict(kwargs), [])
    name = layer_name(layer)
    node.outputs = [KerasTensor(shape, dtype, node=node, index=i, name=name) for i, (shape, dtype) in enumerate(shapes)]
    layer.__dict__.setdefault("_kerosene_nodes", []).append(node)
    # A call returning a list of one tensor gives that tensor, as Keras 2's layers do.
    return list(node.outputs) if several and len(node.outputs) > 1 else node.outputs[0]


def nodes_between(inputs, outputs, owner="Model()", among="the model's inputs"):
    """The layer calls that lead from ``inputs`` to ``outputs``, each after the calls it reads.

    A path from an output back to an ``Input()`` that is not among ``inputs`` is a
    ValueError naming both (``owner`` and ``among`` word the message for the caller).
    """
    input_ids = {id(t) for t in inputs}
    order, done = [], set()

    def visit(tensor):
        if id(tensor) in input_ids:
            return
        node = tensor.node
        if node is not None and isinstance(node.layer, _Constant):
            if id(node) not in done:
                done.add(id(node))
                order.append(node)
            return
        if node is None or not node.inputs:
            raise ValueError(
                f"{owner}: output {outputs[0].name!r} depends on input {tensor.name!r}, which is "
                f"not among {among} {[t.name for t in inputs]}")
        if id(node) in done:
            return
        for parent in node.flat_inputs():
            visit(parent)
        done.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    return order


def run_nodes(nodes, values):
    """Run ``nodes`` in order on real tensors; ``values`` maps ``id(KerasTensor)`` to its
    value, holds the inputs on entry and gains every computed tensor."""
    for node in nodes:
        if isinstance(node.inputs, (list, tuple)):
            arg = [values[id(t)] for t in node.inputs]
        else:
            arg = values[id(node.inputs)]
        out = node.layer(arg, **node.kwargs)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        for t, value in zip(node.outputs, outs):
            values[id(t)] = value
    return values


def single_node(layer):
    """The one call of ``layer`` on symbolic tensors (what ``layer.input``/``layer.output``
    refer to); AttributeError when it has none or several, as in Keras 2."""
    nodes = layer.__dict__.get("_kerosene_nodes") or []
    if len(nodes) != 1:
        # nn.Module.__getattr__ replaces this message with its own; the type is what counts.
        raise AttributeError(f"Layer has {len(nodes)} symbolic calls, so its input/output is not one tensor")
    return nodes[0]


class SymbolicOp(nn.Module):
    """A function applied to symbolic tensors, recorded as one node (``K.mean(a + b)``);
    ``forward`` gets the values of those tensors, in order.

        >>> from kerosene.layers import Input
        >>> a = Input(shape=(3,))
        >>> (a * 2).shape
        (None, 3)
    """

    def __init__(self, fn, name):
        super().__init__()
        self.fn = fn
        self.name = uniquify(name)

    def forward(self, values):
        return self.fn(values)


class _Constant(SymbolicOp):
    """A graph node without inputs that gives one fixed tensor."""

    def __init__(self, value, name):
        super().__init__(lambda values: value, name)


def constant_source(value, name="constant"):
    """A symbolic tensor standing for the fixed tensor ``value`` (batch axis included), which
    the graph gives wherever it is read (Keras 2's ``Input(tensor=K.variable(...))``)."""
    tensor = KerasTensor(tuple(value.shape), str(value.dtype).replace("torch.", ""), name=name)
    op = _Constant(value, name)
    tensor.node = Node(op, [], {}, [tensor])
    op.__dict__["_kerosene_nodes"] = [tensor.node]
    return tensor


def has_symbolic(args):
    """Whether a symbolic tensor is among ``args`` (or in a list or tuple among them)."""
    return any(_one_symbolic(a) or isinstance(a, (list, tuple)) and any(_one_symbolic(b) for b in a)
               for a in args)


def apply_symbolic(fn, args, kwargs, name):
    """``fn(*args, **kwargs)`` with symbolic tensors among ``args`` (or in a list among them):
    recorded as a :class:`SymbolicOp` node; its symbolic output stands for the result."""
    slots, tensors = [], []
    for i, arg in enumerate(args):
        if _one_symbolic(arg):
            slots.append((i, None))
            tensors.append(as_keras_tensor(arg))
        elif isinstance(arg, (list, tuple)):
            for j, item in enumerate(arg):
                if _one_symbolic(item):
                    slots.append((i, j))
                    tensors.append(as_keras_tensor(item))

    def apply(values):
        nested = {i for i, j in slots if j is not None}
        filled = [list(a) if i in nested else a for i, a in enumerate(args)]
        for (i, j), value in zip(slots, values):
            if j is None:
                filled[i] = value
            else:
                filled[i][j] = value
        return fn(*filled, **kwargs)

    return call_symbolic(SymbolicOp(apply, name), tensors)
