"""The run's objects a backup holds besides the model: callbacks by name, torch LR
schedulers they hold, rank-local buffers, and a shuffling DataLoader pinned to its own
generator.

Example::

    named = named_callbacks(callback_list, owner=backup)   # {'EarlyStopping': ..., 'CSVLogger': ...}
    schedulers(named)                                      # {'MyCallback.scheduler': <StepLR>}
"""
from __future__ import annotations

import copy

import torch

from .._user_warning import warn_user
from ..saving.backup_format import from_storable
from ..utils.tree import map_tensors

__all__ = ["to_cpu", "buffers", "optimizer_of", "named_callbacks", "restore_callbacks", "schedulers",
           "pin_loader_order"]


def to_cpu(value):
    return map_tensors(lambda t: t.detach().cpu().clone(), value)


def buffers(model):
    """The model's state entries that are buffers (rank-local statistics under DDP), on the CPU."""
    parameters = {name for name, _ in model.named_parameters()}
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k not in parameters}


def optimizer_of(model):
    return getattr(model, "optimizer", None)


def named_callbacks(callback_list, owner):
    """Every callback but ``owner``, keyed by class name (``EarlyStopping``, ``EarlyStopping#1``...)."""
    named, seen = {}, {}
    for cb in (callback_list or []):
        if cb is owner:
            continue
        name = type(cb).__name__
        count = seen.get(name, 0)
        seen[name] = count + 1
        named[name if count == 0 else f"{name}#{count}"] = cb
    return named


def restore_callbacks(callbacks, saved, path):
    absent = [name for name in saved if name not in callbacks]
    new = [name for name in callbacks if name not in saved]
    if absent or new:
        warn_user(
            f"The callbacks differ from those of the run that wrote {path}: "
            f"{'missing now: ' + ', '.join(absent) if absent else ''}"
            f"{'; ' if absent and new else ''}{'new now: ' + ', '.join(new) if new else ''}; "
            "the new ones start fresh", RuntimeWarning)
    for name, cb in callbacks.items():
        if name in saved:
            cb.load_state_dict(copy.deepcopy(from_storable(saved[name])))


def schedulers(callbacks):
    """Torch LR schedulers held as attributes of callbacks, keyed ``Callback.attribute``."""
    kinds = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    found = {}
    for name, cb in callbacks.items():
        for attr, value in vars(cb).items():
            if isinstance(value, kinds):
                found[f"{name}.{attr}"] = value
    return found


def pin_loader_order(adapter):
    """Give a shuffling DataLoader that draws from the global RNG a generator of its own.

    Its order then follows the fit seed and the epoch (the adapter reseeds the
    generator each epoch), not the global RNG a restore moves; done on every run with
    a BackupAndRestore, interrupted or not, so both see the same order.
    """
    loader = getattr(adapter, "loader", None)
    if not isinstance(loader, torch.utils.data.DataLoader) or loader.generator is not None:
        return
    sampler = loader.sampler
    if isinstance(sampler, torch.utils.data.RandomSampler) and sampler.generator is None:
        generator = torch.Generator()
        sampler.generator = generator
        loader.generator = generator
