"""What each output is trained against and how its samples are weighted (Keras 2's forms).

``compile(target_tensors=...)`` fixes the targets of every step (a tensor per output; a
``K.placeholder`` only stands for the ``y`` each call is given). ``sample_weight`` is
one array for all outputs, a list in output order (``None`` for none) or a dict keyed
by output name (keys that name no output are ignored with a warning, as
Keras 2.2 ignores them)::

    targets = normalize_target_tensors([K.variable(y)], ['dense'])
    output_weights([None, w], ['a', 'b'], 2)   # [None, w]

``compile(sample_weight_mode=...)`` (``None`` or ``'temporal'``; one for all outputs, a
list or a dict by output name) says how each output's weights are shaped: ``(samples,)``
or, with ``'temporal'``, ``(samples, timesteps)`` for a 3-D output. Arrays given to fit,
evaluate and the ``*_on_batch`` methods are checked against it before any step::

    sample_weight_modes({'a': None, 'b': 'temporal'}, ['a', 'b'])   # [None, 'temporal']
"""
from __future__ import annotations

import torch

from .._user_warning import warn_user

__all__ = ["normalize_target_tensors", "fixed_targets", "targets_per_output", "output_weights",
           "sample_weight_modes", "check_sample_weights", "masked_weights"]

SAMPLE_WEIGHT_MODES = (None, "temporal")


def _is_placeholder(value):
    return hasattr(value, "node") and not isinstance(value, torch.Tensor)


def normalize_target_tensors(spec, names):
    """compile(target_tensors=...) as one entry per output (a tensor, a placeholder or None),
    or None when not given."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        unknown = sorted(str(k) for k in spec if k not in names)
        if unknown:
            raise ValueError(f"`target_tensors` names unknown outputs {unknown}; outputs: {names}")
        entries = [spec.get(name) for name in names]
    elif isinstance(spec, list):
        if len(spec) != len(names):
            raise ValueError(f"When passing a list as `target_tensors`, it should have one entry per model output. "
                             f"The model has {len(names)} outputs, but you passed target_tensors={spec!r:.200}")
        entries = list(spec)
    elif isinstance(spec, torch.Tensor) or _is_placeholder(spec):
        if len(names) != 1:
            raise ValueError(f"The model has {len(names)} outputs, but you passed a single tensor as "
                             "`target_tensors`. Expected a list or a dict of tensors.")
        entries = [spec]
    else:
        raise TypeError(f"`target_tensors` must be a tensor, a list of them (one per output) or a dict keyed by "
                        f"output name, got {type(spec).__name__}")
    for i, entry in enumerate(entries):
        if entry is not None and not isinstance(entry, torch.Tensor) and not _is_placeholder(entry):
            raise TypeError(f"`target_tensors` entry {i} must be a tensor (K.variable, K.constant, a torch tensor) "
                            f"or a K.placeholder, got {type(entry).__name__}")
    return entries


def fixed_targets(state, y):
    """``y``, or the fixed tensors compile(target_tensors=...) gave (then ``y`` must be None)."""
    targets = state.target_tensors
    if targets is None or not any(isinstance(t, torch.Tensor) for t in targets):
        return y  # none given, or placeholders: the targets come from y as usual
    if y is not None:
        raise ValueError("`y` must be None: compile(target_tensors=...) fixed this model's targets (each step "
                         "uses those tensors); compile again without target_tensors to train on y")
    if not all(isinstance(t, torch.Tensor) for t in targets):
        raise ValueError("compile(target_tensors=...) mixes fixed tensors with placeholders/None; give a tensor "
                         "for every output, or placeholders and pass y")
    return targets[0] if state.output_names is None else list(targets)


def targets_per_output(state, y):
    """``y`` with one entry per output, where Keras 2's form lists only the outputs that have a loss.

    In Keras 2 a model whose outputs do not all have a loss is given targets for those that
    do: a list of them in output order, or one array when only one output has a loss. They
    are spread here into one entry per output (None for an output without a loss), and a
    dict keyed by output name becomes that list too (keys naming no output are ignored, as in
    Keras 2; :func:`~.input_checks.check_data_keys` reports the missing ones first). Any
    other form is returned as given.
    """
    names = None if state is None else state.output_names
    if not names or y is None:
        return y
    if isinstance(y, dict):  # in output order, so that a dict of one array stays with its output
        return [y.get(name) for name in names]
    with_loss = [i for i, loss in enumerate(state.losses or []) if loss is not None]
    if len(with_loss) in (0, len(names)):
        return y
    if isinstance(y, (list, tuple)):
        if len(y) != len(with_loss):
            return y  # one entry per output, or a length the data checks report
        entries = list(y)
    elif hasattr(y, "shape") and len(with_loss) == 1:
        entries = [y]
    else:
        return y
    full = [None] * len(names)
    for i, entry in zip(with_loss, entries):
        full[i] = entry
    return full


def output_weights(sample_weight, output_names, count):
    """One sample-weight tensor (or None) per output, from one tensor for all, a list in output
    order or a dict keyed by output name."""
    if isinstance(sample_weight, dict):
        unknown = sorted(str(k) for k in sample_weight if k not in (output_names or ()))
        if unknown:
            # Keras 2.2 ignores such keys (its own tests key weights by placeholders); say so, as a
            # misspelt output name would otherwise silently train unweighted.
            warn_user(f"`sample_weight` names unknown outputs {unknown}, which are ignored; outputs: "
                      f"{output_names}", UserWarning)
        return [sample_weight.get(name) for name in output_names or [None]]
    if isinstance(sample_weight, (list, tuple)):
        if len(sample_weight) != count:
            raise ValueError(f"`sample_weight` has {len(sample_weight)} entries but the model has {count} outputs")
        return list(sample_weight)
    return [sample_weight] * count


def sample_weight_modes(spec, names):
    """compile(sample_weight_mode=...) as one mode per output (``None`` or ``'temporal'``)."""
    if isinstance(spec, dict):
        unknown = sorted(str(k) for k in spec if k not in names)
        if unknown:
            raise ValueError(f"`sample_weight_mode` names unknown outputs {unknown}; outputs: {names}")
        missing = [n for n in names if n not in spec]
        if missing:
            raise ValueError(f"`sample_weight_mode` is a dict without an entry for the outputs {missing} (give "
                             f"None for those); outputs: {names}")
        modes = [spec[n] for n in names]
    elif isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"`sample_weight_mode` has {len(spec)} entries but the model has {len(names)} outputs "
                             f"{names}; give one mode per output")
        modes = list(spec)
    else:
        modes = [spec] * len(names)
    for mode in modes:
        if mode not in SAMPLE_WEIGHT_MODES:
            raise ValueError(f"`sample_weight_mode` must be None or 'temporal' (per output), got {mode!r}")
    return modes


def _rank_and_shape(value):
    shape = getattr(value, "shape", None)
    return (len(shape), tuple(int(d) for d in shape)) if shape is not None else (None, None)


def check_sample_weights(state, y, sample_weight):
    """Keras 2's checks of the weight arrays against the targets and ``sample_weight_mode``:
    'temporal' needs a target of rank 3 or more and 2-D weights; weights never have a higher
    rank than their target, and their shape is the start of its shape (sample counts aside)."""
    modes = getattr(state, "sample_weight_modes", None)
    if state is None or modes is None or y is None:
        return
    names = state.output_names
    try:
        ys = [y] if names is None else [y.get(n) for n in names] if isinstance(y, dict) else list(y)
    except TypeError:
        return
    if isinstance(sample_weight, dict):
        sws = [sample_weight.get(n) for n in names or []] or [None]
    elif isinstance(sample_weight, list):
        sws = sample_weight
    else:
        sws = [sample_weight] * len(ys)
    for i, (target, weights, mode) in enumerate(zip(ys, sws, modes)):
        where = f" of output {names[i]!r}" if names else ""
        y_rank, y_shape = _rank_and_shape(target)
        w_rank, w_shape = _rank_and_shape(weights)
        if y_rank is None:
            continue
        if mode == "temporal" and y_rank < 3:
            raise ValueError(f"sample_weight_mode='temporal'{where} needs targets of rank 3 or more (samples, "
                             f"timesteps, ...), got targets of shape {y_shape}; use None for per-sample weights")
        if w_rank is None:
            continue
        if mode == "temporal" and w_rank != 2:
            raise ValueError(f"sample_weight{where} has shape {w_shape}; with sample_weight_mode='temporal' give a "
                             "2-D array (samples, timesteps)")
        if w_rank > 1 and not (w_rank == 2 and w_shape[1] == 1) and y_rank < 3:
            raise ValueError(f"sample_weight{where} has shape {w_shape} for targets of shape {y_shape}; give a "
                             "1-D array (samples,), or 2-D (samples, timesteps) weights with "
                             "compile(sample_weight_mode='temporal') and 3-D targets")
        # the samples axis is left to the data's own cardinality check, which names every array
        if w_rank > y_rank or (w_shape[1:] != (1,) and y_shape[1:w_rank] != w_shape[1:]):
            raise ValueError(f"sample_weight{where} has shape {w_shape}, which does not fit targets of shape "
                             f"{y_shape}: its shape must be the start of theirs")
def masked_weights(sample_weight, y_pred):
    """The sample weights of one output with the mask its model attached to ``y_pred`` applied
    (Keras 2's weighted_masked_objective): masked steps weigh 0 and the rest ``1 / mean(mask)``,
    so the loss is the mean over the unmasked steps. ``sample_weight`` as given without a mask."""
    mask = getattr(y_pred, "_keras_mask", None) if isinstance(y_pred, torch.Tensor) else None
    if mask is None:
        return sample_weight
    mask = mask.to(torch.float32)
    weights = mask / mask.mean().clamp_min(torch.finfo(torch.float32).tiny)
    if sample_weight is None:
        return weights
    sw = torch.as_tensor(sample_weight, dtype=torch.float32, device=mask.device)
    if sw.dim() > mask.dim() and sw.shape[-1] == 1:
        sw = sw.squeeze(-1)
    while 0 < sw.dim() < mask.dim():
        sw = sw.unsqueeze(-1)
    return weights * sw
