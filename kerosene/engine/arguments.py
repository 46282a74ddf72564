"""Checking and unpacking the arguments of ``fit``/``evaluate``/``predict`` before any work.

Each check raises a clear ``ValueError``/``TypeError`` naming the argument, what was
given and what is accepted.

    >>> from kerosene.engine.arguments import check_verbose
    >>> check_verbose(2)
    2
"""
from __future__ import annotations

import sys

import numpy as np
import torch

from ..utils.tree import flatten
from .data import is_array_like, to_tensor

__all__ = ["check_verbose", "check_epochs", "check_validation_split", "check_validation_freq",
           "validation_due", "unpack_validation", "class_weights_to_sample_weights", "first_batch",
           "FIT_KWARGS_IGNORED", "check_kwargs"]

FIT_KWARGS_IGNORED = ("max_queue_size", "workers", "use_multiprocessing", "nb_epoch")


def check_kwargs(method, kwargs):
    """Keras arguments kerosene accepts and ignores; anything else is a ``TypeError``."""
    for key in kwargs:
        if key not in FIT_KWARGS_IGNORED:
            raise TypeError(f"{method}() got an unexpected keyword argument {key!r}")


def check_verbose(verbose):
    if verbose == "auto":
        return 1 if _stdout_is_terminal() else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _stdout_is_terminal():
    try:
        return sys.stdout.isatty() or "ipykernel" in sys.modules
    except (AttributeError, ValueError):
        return False


def class_weights_to_sample_weights(y, class_weight, sample_weight):
    """Per-sample weights from a ``{class: weight}`` dict, checked against the classes in ``y``."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class index to weight, got {type(class_weight).__name__}")
    leaves, _ = flatten(y)
    if len(leaves) != 1:
        raise ValueError("`class_weight` is only supported for models with a single output")
    labels = to_tensor(leaves[0], "y")
    if labels.dim() >= 2 and labels.shape[-1] > 1:
        num_classes = int(labels.shape[-1])
        indices = labels.reshape(-1, num_classes).argmax(dim=-1)
    else:
        flat = labels.reshape(labels.shape[0], -1)[:, 0] if labels.dim() > 1 else labels
        indices = flat.round().long() if flat.is_floating_point() else flat.long()
        num_classes = max(int(indices.max().item()) + 1 if indices.numel() else 0, 2)
    bad = [k for k in class_weight if not isinstance(k, (int, np.integer)) or not 0 <= int(k) < num_classes]
    if bad:
        raise ValueError(
            f"`class_weight` names classes {bad} that do not exist: y has {num_classes} classes "
            f"(0 to {num_classes - 1})")
    missing = sorted(set(torch.unique(indices).tolist()) - {int(k) for k in class_weight})
    if missing:
        raise ValueError(f"`class_weight` must contain all classes in the data. The classes {missing} exist in "
                         f"the data but not in `class_weight` (given: {sorted(class_weight)})")
    table = torch.ones(num_classes, dtype=torch.float32)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    weights = table[indices]
    if sample_weight is not None:
        weights = weights * to_tensor(sample_weight, "sample_weight").to(torch.float32).reshape(-1)
    return weights


def check_validation_split(validation_split, x):
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"`validation_split` must be a float in [0, 1), got {validation_split!r}")
    if validation_split and not _is_arrays(x):
        raise ValueError(
            f"`validation_split` is only supported for arrays and tensors, not for {type(x).__name__}; "
            "pass validation_data instead")


def _is_arrays(x):
    leaves, _ = flatten(x) if isinstance(x, (list, tuple, dict)) else ([x], None)
    return bool(leaves) and all(is_array_like(v) for v in leaves)


def unpack_validation(validation_data):
    if isinstance(validation_data, (list, tuple)):
        if len(validation_data) == 2:
            return validation_data[0], validation_data[1], None
        if len(validation_data) == 3:
            return tuple(validation_data)
        raise ValueError(
            f"`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight), "
            f"got a {type(validation_data).__name__} of {len(validation_data)} items")
    if _is_arrays(validation_data):
        raise ValueError(
            f"`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight), or a generator, Sequence "
            f"or DataLoader yielding batches with targets; got {type(validation_data).__name__} arrays alone "
            "(inputs without targets)")
    return validation_data, None, None


def validation_due(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def check_validation_freq(validation_freq):
    if isinstance(validation_freq, bool) or not (
            (isinstance(validation_freq, int) and validation_freq >= 1)
            or (isinstance(validation_freq, (list, tuple, set, range)) and all(
                isinstance(v, int) for v in validation_freq))):
        raise ValueError(f"`validation_freq` must be a positive int or a collection of epochs, got {validation_freq!r}")


def check_epochs(epochs, initial_epoch):
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"`epochs` must be a non-negative integer, got {epochs!r}")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(f"`initial_epoch` must be a non-negative integer, got {initial_epoch!r}")
    if initial_epoch > epochs:
        raise ValueError(f"`initial_epoch`={initial_epoch} is past `epochs`={epochs}: epochs is the index of the "
                         f"last epoch to train (absolute, not a count), so nothing would be trained; "
                         f"pass epochs >= initial_epoch (e.g. epochs={initial_epoch + epochs})")


def first_batch(adapter):
    batch = adapter.peek()
    if batch is None:
        raise ValueError("The data is empty: no batch could be drawn from it")
    return batch
