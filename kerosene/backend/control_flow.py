"""The backend's loops: ``K.rnn`` over the time axis, and ``K.map_fn``/``K.foldl``/``K.foldr``
over the first axis, run as Python loops on torch tensors.

    >>> import torch
    >>> from kerosene.backend import control_flow
    >>> step = lambda x, states: (x + states[0], [x + states[0]])
    >>> last, outputs, states = control_flow.rnn(step, torch.ones(2, 3, 1), [torch.zeros(2, 1)])
    >>> last[:, 0], outputs.shape
    (tensor([3., 3.]), torch.Size([2, 3, 1]))
"""
from __future__ import annotations

import torch

from ..symbolic import apply_symbolic, has_symbolic
from .ops import _t


def _mask_like(mask_t, like):
    return mask_t.reshape(mask_t.shape[0], *([1] * (like.dim() - 1)))


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    """Runs ``step_function(inputs[:, t], states + constants) -> (output, new_states)`` over
    the time axis 1 of ``inputs`` and returns ``(last_output, outputs, new_states)``;
    ``outputs`` is (samples, time, ...) in the order the steps ran (reversed when
    ``go_backwards``). Where ``mask`` (samples, time) is 0 a sample keeps its previous output
    (zeros before the first) and states. ``unroll`` and ``input_length`` change nothing here:
    the loop is always a Python loop. On symbolic tensors it records one graph node."""
    if has_symbolic((inputs, initial_states, mask, constants)):
        def flat(inputs_, states_, mask_, constants_):
            last, outputs, states = rnn(step_function, inputs_, states_, go_backwards, mask_, constants_)
            return [last, outputs] + list(states)

        states_in = [initial_states] if isinstance(initial_states, torch.Tensor) else list(initial_states)
        outs = apply_symbolic(flat, (inputs, states_in, mask, list(constants or [])), {}, "rnn")
        return outs[0], outs[1], list(outs[2:])
    if not callable(step_function):
        raise TypeError(f"rnn: `step_function` must be callable, got {type(step_function).__name__}")
    inputs = _t(inputs)
    if inputs.dim() < 3:
        raise ValueError(f"rnn: `inputs` must be at least 3-D (samples, time, ...), got shape {tuple(inputs.shape)}")
    if isinstance(initial_states, torch.Tensor):
        initial_states = [initial_states]
    if not isinstance(initial_states, (list, tuple)):
        raise TypeError(f"rnn: `initial_states` must be a list of tensors, got {type(initial_states).__name__}")
    constants = list(constants or [])
    steps = inputs.shape[1]
    if mask is not None:
        mask = _t(mask)
        if mask.dim() == 3 and mask.shape[2] == 1:
            mask = mask[:, :, 0]
        if mask.dim() != 2 or tuple(mask.shape) != tuple(inputs.shape[:2]):
            raise ValueError(f"rnn: `mask` must have shape (samples, time) = {tuple(inputs.shape[:2])}, got "
                             f"{tuple(mask.shape)}")
        mask = mask.bool()
    states = list(initial_states)
    outputs, previous = [], None
    for t in (reversed(range(steps)) if go_backwards else range(steps)):
        output, new_states = step_function(inputs[:, t], states + constants)
        new_states = [new_states] if isinstance(new_states, torch.Tensor) else list(new_states)
        if len(new_states) != len(states):
            raise ValueError(f"rnn: `step_function` returned {len(new_states)} states for the "
                             f"{len(states)} initial_states")
        if mask is not None:
            keep = mask[:, t]
            previous = torch.zeros_like(output) if previous is None else previous
            output = torch.where(_mask_like(keep, output), output, previous)
            new_states = [torch.where(_mask_like(keep, new), new, old) for new, old in zip(new_states, states)]
        states, previous = new_states, output
        outputs.append(output)
    if not outputs:
        raise ValueError("rnn: `inputs` has no time steps (axis 1 has size 0)")
    stacked = torch.stack(outputs, dim=1)
    return stacked[:, -1], stacked, states


def _items(elems, fn_name):
    if isinstance(elems, (list, tuple)):
        return [_t(e) for e in elems]
    elems = _t(elems)
    if elems.dim() == 0:
        raise ValueError(f"{fn_name}: `elems` must have a first axis to loop over, got a scalar")
    return list(elems.unbind(0))


def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` applied to each entry of ``elems`` along its first axis, the results stacked."""
    results = [_t(fn(e)) for e in _items(elems, "map_fn")]
    if not results:
        raise ValueError("map_fn: `elems` is empty")
    out = torch.stack(results)
    return out if dtype is None else out.to(getattr(torch, str(dtype).replace("torch.", "")))


def _fold(fn, items, initializer, fn_name):
    if initializer is None:
        if not items:
            raise ValueError(f"{fn_name}: `elems` is empty and no `initializer` is given")
        acc, items = items[0], items[1:]
    else:
        acc = initializer
    for item in items:
        acc = fn(acc, item)
    return acc


def foldl(fn, elems, initializer=None, name=None):
    """``fn(acc, x)`` folded over ``elems`` from the first entry (``initializer`` None: the
    first entry starts the accumulator)."""
    return _fold(fn, _items(elems, "foldl"), initializer, "foldl")


def foldr(fn, elems, initializer=None, name=None):
    """``fn(acc, x)`` folded over ``elems`` from the last entry."""
    return _fold(fn, _items(elems, "foldr")[::-1], initializer, "foldr")
