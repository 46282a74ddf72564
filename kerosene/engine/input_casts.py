"""Integer and boolean inputs cast to ``K.floatx()``, where Keras 2 casts them.

Keras 2 feeds every input through a placeholder of the input's dtype, ``floatx()``
unless declared otherwise, so ``np.zeros(..., dtype=bool)`` into an LSTM or an int array
into Dense just works (an ``Embedding`` casts its float indices back). kerosene does the
same for the models whose inputs Keras defines: a Sequential whose first layer is a
kerosene layer (unless it declares an integer input dtype) and a functional model (per
``Input``, by its dtype). Raw torch modules and subclassed models keep torch's rule: the
data's own dtype. Targets are left alone: the losses cast them as they need.

    policy = float_input_policy(model)     # None: nothing to cast
    adapter = cast_adapter_inputs(adapter, policy)
"""
from __future__ import annotations

import torch

from ..backend import floatx
from ..layers.base import Layer
from .adapter_wrapper import WrappingAdapter
from .data import ArrayAdapter, DataAdapter

__all__ = ["float_input_policy", "cast_inputs", "cast_adapter_inputs"]


def _float_dtype(dtype_name):
    """The torch float dtype of a Keras dtype name, or None when it is not a float."""
    name = str(dtype_name or "float32").replace("torch.", "")
    return getattr(torch, name) if name in ("float16", "bfloat16", "float32", "float64") else None


def float_input_policy(model):
    """``(dtypes, names)``: the float dtype each input is cast to (None: left as is) and the
    input names (for dict inputs); None when no input is cast."""
    default = getattr(torch, floatx())
    graph_inputs = getattr(model, "_graph_layers", None) is not None and getattr(model, "_inputs", None)
    if graph_inputs:
        dtypes = [_float_dtype(getattr(t, "dtype", None)) for t in model._inputs]
        names = list(model.input_names)
    elif hasattr(model, "_stack"):  # Sequential
        first = model._stack[0] if len(model._stack) else None
        declared = getattr(model, "_input_dtype", None)
        is_keras = isinstance(first, Layer) or hasattr(first, "_stack")
        dtypes = [(_float_dtype(declared) if declared is not None else default) if is_keras else None]
        names = None
    else:
        return None
    return (dtypes, names) if any(d is not None for d in dtypes) else None


def _cast(leaf, dtype):
    if dtype is None or not isinstance(leaf, torch.Tensor) or leaf.is_complex():
        return leaf
    if not leaf.is_floating_point():
        return leaf.to(dtype)
    # After K.set_floatx('float64') Keras 2 feeds float32 data at float64 too; narrower
    # floats are otherwise left to autocast (mixed precision) as before.
    return leaf.to(dtype) if dtype == torch.float64 and leaf.dtype != dtype else leaf


def cast_inputs(x, policy):
    """``x`` (a tensor, a list in input order or a dict keyed by input name) with its integer
    and boolean tensors cast as ``policy`` says."""
    if policy is None:
        return x
    dtypes, names = policy
    if isinstance(x, torch.Tensor):
        return _cast(x, dtypes[0])
    if isinstance(x, (list, tuple)) and len(x) == len(dtypes):
        return type(x)(_cast(leaf, d) for leaf, d in zip(x, dtypes))
    if isinstance(x, dict) and names is not None:
        by_name = dict(zip(names, dtypes))
        return {k: _cast(v, by_name.get(k)) for k, v in x.items()}
    return x


class _CastingAdapter(WrappingAdapter, DataAdapter):
    """Another adapter's batches with the inputs cast (generators, Sequences, loaders)."""

    def __init__(self, inner, policy):
        self.inner = inner
        self.policy = policy
        self.steps, self.samples, self.counts_samples = inner.steps, inner.samples, inner.counts_samples

    def _cast_batch(self, batch):
        return None if batch is None else (cast_inputs(batch[0], self.policy),) + tuple(batch[1:])

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        for batch in self.inner.epoch_batches(epoch, start_step, positioned):
            yield self._cast_batch(batch)

    def peek(self):
        return self._cast_batch(self.inner.peek())



def cast_adapter_inputs(adapter, policy):
    """``adapter`` yielding cast inputs: arrays are cast once, other sources per batch."""
    if policy is None:
        return adapter
    if isinstance(adapter, ArrayAdapter):
        adapter.map_inputs(lambda x: cast_inputs(x, policy))
        return adapter
    return _CastingAdapter(adapter, policy)
