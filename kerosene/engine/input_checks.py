"""Checks on the data ``fit``/``evaluate`` received, made before any step runs.

Keras 2 checks the targets of its own losses against the output shapes it knows, so a
``y`` or ``sample_weight`` that cannot match is a named error at the start, not a torch
broadcasting error (or a silently broadcast loss) inside the first step. A user-defined
loss, or a model whose output shape is unknown (a raw torch module), is left alone, as
Keras 2 makes no assumption about them.

    >>> from kerosene.engine.input_checks import check_targets_given, check_target_shapes
"""
from __future__ import annotations

import torch

from ..losses.classes import SparseCategoricalCrossentropy, _Builtin
from ..utils.tree import per_output

__all__ = ["check_targets_given", "check_data_keys", "check_target_shapes"]


def check_targets_given(model, sample, method, default_step):
    """A ``ValueError`` when the first batch has no targets but the compiled loss needs them.

    ``default_step`` is the base class's ``train_step``/``test_step``: a model that overrides
    its step may compute a loss without targets, so it is left alone.
    """
    check_data_keys(model, sample[0], sample[1])
    step_name = default_step.__name__
    if sample[1] is not None or getattr(type(model), step_name) is not default_step:
        return
    if any(loss is not None for loss in model._compile_state.losses or []):
        raise ValueError(
            f"{method}() needs targets: `y` is None and `x` holds no targets, but the compiled loss compares "
            "predictions with targets. Pass `y` (or batches of (x, y)); predict(x) gives the outputs alone")


def _keys_error(argument, what, expected, given, missing):
    given = sorted(str(k) for k in given)
    if not set(given) & set(expected):
        problem = f"none of its keys {given} names a model {what}"
    else:
        problem = f"it lacks {missing}"
    return ValueError(f"`{argument}` is a dict but {problem}; expected keys {list(expected)} (one per {what}), "
                      f"got {given}")


def check_data_keys(model, x, y=None):
    """A ``ValueError`` naming the keys given and expected when a dict ``x`` lacks a model input,
    or a dict ``y`` lacks an output that has a loss. Extra keys are ignored, as in Keras 2.

    A raw torch module (or a Sequential whose input shape is not known yet) names no inputs, so
    its dict inputs are not checked.
    """
    if isinstance(x, dict):
        names = getattr(model, "_input_keys", None) or _names(model, "input_names")
        if names:
            missing = [k for k in names if k not in x]
            if missing:
                raise _keys_error("x", "input", names, x, missing)
    state = getattr(model, "_compile_state", None)
    if isinstance(y, dict) and state is not None and state.output_names:
        names, losses = state.output_names, state.losses or []
        needed = [n for i, n in enumerate(names) if i >= len(losses) or losses[i] is not None]
        missing = [n for n in needed if n not in y]
        if missing:
            raise _keys_error("y", "output", names, y, missing)


def _names(model, attribute):
    try:
        names = getattr(model, attribute, None)
    except (AttributeError, ValueError):  # a model not built yet has no names to check against
        return None
    return list(names) if names else None


def _output_shapes(model, count):
    """Each output's shape with the batch axis (None where unknown), or None for a model whose
    output shapes are not known before it runs."""
    try:
        outputs = model.outputs
        shapes = [getattr(t, "shape", None) for t in outputs]
        inputs = [getattr(t, "shape", None) for t in model.inputs]
    except (AttributeError, TypeError, ValueError, NotImplementedError):
        # a raw torch module, or a Sequential of torch modules: no symbolic outputs
        return None
    if any(s is None or None in tuple(s)[1:] for s in inputs):
        return None  # an input axis of any length: the symbolic output shapes stand in a size for it
    if len(shapes) != count or any(s is None for s in shapes):
        return None
    return [tuple(s) for s in shapes]


def _argument(base, i, names):
    if names is None:
        return f"`{base}`"
    return f"`{base}[{names[i]!r}]`"


def check_target_shapes(model, sample):
    """A ``ValueError`` when a target or sample weight of the first batch cannot match its output.

    Only outputs trained with a built-in loss are checked, against the output shape the model
    declares (not when an input axis is of any length): a sparse crossentropy expects one class
    index per sample (``(N,)`` or ``(N, 1)``) or per time step (``(N, T)`` or ``(N, T, 1)``),
    every other built-in loss the output's own shape (``(N,)`` counts as ``(N, 1)``). Sample
    weights are checked against the targets by ``targets.check_sample_weights``.
    """
    _, y, sample_weight = sample
    state = getattr(model, "_compile_state", None)
    if y is None or state is None or not state.losses:
        return
    names = state.output_names
    count = len(state.losses)
    try:
        ys = [y] if names is None else per_output(y, names)
    except (KeyError, TypeError):
        return  # a structure check_data_keys or the step reports
    shapes = _output_shapes(model, count)
    for i, loss in enumerate(state.losses):
        target = ys[i] if i < len(ys) else None
        if not isinstance(target, torch.Tensor):
            continue
        target_shape = tuple(target.shape)
        if target.dim() == 1:
            target_shape += (1,)
        if shapes is not None and isinstance(loss, _Builtin):
            _check_target(loss, shapes[i], target_shape, tuple(target.shape), _argument("y", i, names),
                          _output_label(model, names, i))


def _output_label(model, names, i):
    if names is not None:
        return repr(names[i])
    name = model._single_output_name() if hasattr(model, "_single_output_name") else None
    return repr(name) if name else "the model's output"


def _check_target(loss, output_shape, target_shape, given_shape, argument, output):
    expected = tuple(output_shape[1:])
    if len(expected) == 0:
        return  # a 1-D output: (N,) targets are fine, and Keras 2's rule does not fit
    per_sample = target_shape[1:]
    accepted = [expected]
    if isinstance(loss, SparseCategoricalCrossentropy):
        # one class index per sample (or per time step): (N, T, 1) as Keras 2 asks, or (N, T)
        accepted = [expected[:-1] + (1,), expected[:-1]] if len(expected) > 1 else [(1,)]
        expected = accepted[0]
    if not any(len(per_sample) == len(a) and all(e is None or g == e for e, g in zip(a, per_sample))
               for a in accepted):
        kind = "class indices of shape" if isinstance(loss, SparseCategoricalCrossentropy) else "shape"
        raise ValueError(
            f"Error when checking target: {argument} holds targets of shape {_show(given_shape[1:])} per sample, "
            f"but output {output} with loss {loss.name!r} expects {kind} {_show(expected)} per sample "
            f"(output shape {_show(output_shape)})")


def _show(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
