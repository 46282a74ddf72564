"""The backend's learning phase switches, ``K.eval``, placeholders and ``K.function``.

    >>> from kerosene.backend import graph
    >>> graph.in_train_phase(1, 0, training=0)
    0
"""
from __future__ import annotations

import functools

import contextlib

import numpy as np
import torch

from .._user_warning import warn_user
from ..symbolic import KerasTensor, apply_symbolic, as_keras_tensor, has_symbolic, is_symbolic, nodes_between, run_nodes
from .config import (LearningPhase, _torch_dtype, floatx, get_value, learning_phase, to_tensor)
from .ops import (_builtin_any)
from .arrays import (dtype, ndim, shape)


# --- learning phase --------------------------------------------------------------------
def symbolic_aware(fn):
    """``fn`` that, called on symbolic tensors (``Input()``, a layer's output), records itself in
    the graph as one node (``K.mean(a + b)`` for ``model.add_loss``) instead of computing."""
    @functools.wraps(fn)
    def aware(*args, **kwargs):
        if has_symbolic(args):
            return apply_symbolic(fn, args, kwargs, fn.__name__)
        return fn(*args, **kwargs)
    return aware


def in_train_phase(x, alt, training=None):
    """``x`` when training (``training``, else the learning phase, is 1), else ``alt``;
    either may be a callable."""
    if training is None:
        training = learning_phase()
    chosen = x if training in (1, True) else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x, alt, training=None):
    return in_train_phase(alt, x, training=training)


# --- evaluation: K.eval, placeholders and K.function -----------------------------------
def eval(x):
    """The value of a tensor (or of ``optimizer.lr``) as numpy."""
    if isinstance(x, KerasTensor):
        raise ValueError(f"eval: `x` is a symbolic tensor ({x!r}) with no value of its own; "
                         "feed its inputs through K.function(inputs, [x]) instead")
    return np.asarray(get_value(x))


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A symbolic tensor to feed through ``K.function``; ``shape`` includes the batch
    axis (``None`` for any size), or give ``ndim`` alone."""
    if sparse:
        raise ValueError("placeholder: `sparse=True` is not supported: torch layers take dense "
                         "tensors (pass a scipy sparse matrix to fit/predict instead)")
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder: give `shape` (a tuple, None for unknown sizes) or `ndim`")
        shape = (None,) * int(ndim)
    dtype = floatx() if dtype is None else str(_torch_dtype(dtype)).replace("torch.", "")
    return KerasTensor(tuple(None if d is None else int(d) for d in shape), dtype, name=name or "placeholder")


def is_placeholder(x):
    """Whether ``x`` is a symbolic tensor fed from outside (a placeholder or an Input)."""
    return isinstance(x, KerasTensor) and (x.node is None or not x.node.inputs)


class GraphFunction:
    """A callable from input arrays to output arrays over a graph of layer calls, made by
    ``K.function(inputs, outputs)``; Keras 2's recipe for a layer's intermediate output::

        >>> from kerosene.layers import Input, Dense
        >>> x = Input(shape=(3,))
        >>> hidden = Dense(2, kernel_initializer='ones')(x)
        >>> out = Dense(1)(hidden)
        >>> get_hidden = function([x], [hidden])
        >>> get_hidden([np.ones((1, 3))])[0]
        array([[3., 3.]], dtype=float32)

    ``K.learning_phase()`` among the inputs is fed 0 (test) or 1 (train) with each call;
    otherwise layers run in test mode. Gradients are tracked only when the graph holds a
    ``K.gradients`` node (then the fed float inputs are differentiated against).
    """

    def __init__(self, inputs, outputs, name=None):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"function: `inputs` must be a list or tuple of symbolic tensors, got "
                            f"{type(inputs).__name__}")
        self._single = not isinstance(outputs, (list, tuple))
        self.inputs = [x if isinstance(x, LearningPhase) else self._symbolic(x, "inputs") for x in inputs]
        self.outputs = [o if isinstance(o, torch.Tensor) else self._symbolic(o, "outputs")
                        for o in ([outputs] if self._single else outputs)]
        self.name = name
        fed = [x for x in self.inputs if not isinstance(x, LearningPhase)]
        self._nodes = nodes_between(fed, [o for o in self.outputs if isinstance(o, KerasTensor)],
                                    "function", "the function's inputs")
        self._layers = list({id(n.layer): n.layer for n in self._nodes}.values())
        self._needs_grad = _builtin_any(getattr(n.layer, "needs_grad", False) is True for n in self._nodes)

    @staticmethod
    def _symbolic(x, argname):
        if not is_symbolic(x) or isinstance(x, (list, tuple)):
            raise TypeError(f"function: each of `{argname}` must be a symbolic tensor (an Input, a "
                            f"placeholder or a layer's output), got {type(x).__name__} {x!r}")
        return as_keras_tensor(x)

    def _device(self):
        for layer in self._layers:
            for tensor in layer.parameters():
                return tensor.device
        return None

    def _feed(self, tensor, value):
        value = to_tensor(value, _torch_dtype(tensor.dtype))
        expected = tensor.shape
        if value.dim() != len(expected) or _builtin_any(e is not None and e != g
                                                        for e, g in zip(expected, value.shape)):
            raise ValueError(f"function: the value fed for {tensor.name!r} has shape {tuple(value.shape)}, "
                             f"the tensor expects {expected}")
        return value

    def __call__(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(self.inputs):
            got = f"a {type(inputs).__name__} of {len(inputs)}" if isinstance(inputs, (list, tuple)) \
                else type(inputs).__name__
            raise ValueError(f"function: call it with a list of {len(self.inputs)} value(s), one per input, "
                             f"got {got}")
        device, values, training = self._device(), {}, False
        for tensor, value in zip(self.inputs, inputs):
            if isinstance(tensor, LearningPhase):
                training = bool(int(np.asarray(value)))
            else:
                fed = self._feed(tensor, value)
                fed = fed if device is None else fed.to(device)
                if self._needs_grad and fed.is_floating_point():
                    fed = fed.detach().requires_grad_(True)
                values[id(tensor)] = fed
        modes = [(m, m.training) for layer in self._layers for m in layer.modules()]
        try:
            for layer in self._layers:
                layer.train(training)
            with torch.enable_grad() if self._needs_grad else torch.no_grad():
                run_nodes(self._nodes, values)
        finally:
            for module, mode in modes:
                module.training = mode
        results = [(o if isinstance(o, torch.Tensor) else values[id(o)]).detach().cpu().numpy()
                   for o in self.outputs]
        return results[0] if self._single else results


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """``GraphFunction(inputs, outputs)``: a callable over numpy arrays (see GraphFunction)."""
    if kwargs:
        raise TypeError(f"function: unexpected keyword arguments {sorted(kwargs)}; accepted are "
                        "inputs, outputs, updates, name")
    if updates:
        raise ValueError("function: `updates` are not supported: torch runs K.update/K.update_add "
                         "at once when they are called, so there is nothing to run later")
    return GraphFunction(inputs, outputs, name=name)


@contextlib.contextmanager
def name_scope(name):
    """A context for grouping names (Keras 2's ``K.name_scope``); torch has no graph names,
    so it only yields ``name``."""
    yield name


def get_session():
    raise RuntimeError("get_session: kerosene runs on PyTorch, which has no TensorFlow session; read "
                       "values with K.eval / K.get_value and run graphs with K.function")


def set_session(session):
    """Keras 2 scripts set a TensorFlow session to configure the GPU (memory growth, devices); on
    PyTorch there is none to set, so the call is ignored with a warning and the script goes on."""
    warn_user("set_session: kerosene runs on PyTorch, which has no TensorFlow session; the session's settings "
              "are ignored (choose devices with compile(device=...) or CUDA_VISIBLE_DEVICES)", RuntimeWarning)
