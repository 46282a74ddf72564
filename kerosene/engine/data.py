"""Adapters from user data to batches of tensors.

Every kind of input ``fit`` accepts (numpy arrays, torch tensors, lists/dicts of them,
``Dataset``/``DataLoader``, Python generators, Keras ``Sequence`` objects) becomes an
adapter that yields ``(x, y, sample_weight)`` batches. In-memory arrays are
:mod:`.data_arrays`' job (with the base class and the conversions every adapter shares);
this module holds the streaming sources and :func:`make_adapter`, which picks one. The
order of epoch ``k`` is derived from a seed and ``k`` alone, so it does not depend on
what ran before (a resumed run sees the same order).
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from .._user_warning import warn_user
from ..utils.tree import map_leaves
from .data_arrays import ArrayAdapter, DataAdapter, is_array_like, num_samples, split_tail, to_tensor
from .data_resume import fast_forward, restore_sequence, sequence_state, warn_generator_resume

__all__ = [
    "DataAdapter", "ArrayAdapter", "LoaderAdapter", "GeneratorAdapter", "SequenceAdapter",
    "make_adapter", "to_tensor", "num_samples", "split_tail", "is_array_like",
]


def _batch_tuple(batch, source):
    """Normalise what a loader or generator yields into ``(x, y, sample_weight)``."""
    if isinstance(batch, dict) and ("x" in batch or "inputs" in batch):
        return batch.get("x", batch.get("inputs")), batch.get("y", batch.get("targets")), batch.get("sample_weight")
    if isinstance(batch, (list, tuple)):
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        if len(batch) == 1:
            return batch[0], None, None
        raise ValueError(
            f"{source} yielded a tuple of {len(batch)} items; expected (x, y) or (x, y, sample_weight)")
    return batch, None, None


def _to_device(value, device):
    def move(leaf):
        if isinstance(leaf, np.ndarray):
            leaf = to_tensor(leaf)
        if isinstance(leaf, torch.Tensor) and leaf.device != device:
            return leaf.to(device, non_blocking=True)
        return leaf
    return map_leaves(move, value)


class LoaderAdapter(DataAdapter):
    """Batches from a ``torch.utils.data.DataLoader`` (or a ``Dataset`` wrapped in one).

    A shuffling loader made here draws its order from a generator reseeded from the
    seed and the epoch, so the order of epoch ``k`` is reproducible.
    """

    def __init__(self, loader, device, steps=None, seed=0):
        self.loader = loader
        self.device = device
        self.seed = int(seed)
        try:
            full = len(loader)
        except TypeError:
            full = None
        self.steps = steps if steps is not None else full
        try:
            self.samples = len(loader.dataset) if steps is None else None
        except TypeError:
            self.samples = None

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        generator = getattr(self.loader, "generator", None)
        if isinstance(generator, torch.Generator):
            generator.manual_seed((self.seed * 1_000_003 + int(epoch)) % (2 ** 63))
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        iterator = iter(self.loader)
        step = fast_forward(self.loader, iterator, start_step) if start_step else 0
        for _ in range(step, start_step):   # a loader that can't skip by index: read and drop the done batches
            if next(iterator, None) is None:
                return
        step = start_step
        if positioned is not None:
            positioned()
        for batch in iterator:
            if self.steps is not None and step >= self.steps:
                break
            step += 1
            x, y, sw = _batch_tuple(batch, "The DataLoader")
            yield _to_device(x, self.device), _to_device(y, self.device), _to_device(sw, self.device)


class GeneratorAdapter(DataAdapter):
    """Batches from a Python generator or iterator (Keras's ``fit_generator`` style)."""

    counts_samples = True

    def __init__(self, generator, device, steps=None):
        self.iterator = iter(generator)
        self.device = device
        self.steps = steps
        self.samples = None
        self._peeked = []
        self.consumed = 0      # batches trained on so far (a resume reads and drops as many)
        self._skip = 0

    def peek(self):
        if not self._peeked:
            try:
                self._peeked.append(next(self.iterator))
            except StopIteration:
                return None
        x, y, sw = _batch_tuple(self._peeked[0], "The generator")
        return _to_device(x, self.device), _to_device(y, self.device), _to_device(sw, self.device)

    def _next(self):
        batch = self._peeked.pop() if self._peeked else next(self.iterator)
        self.consumed += 1
        return batch

    def state_dict(self):
        return {"consumed": self.consumed}

    def load_state_dict(self, state):
        self._skip = int(state.get("consumed", 0)) - self.consumed
        if self._skip > 0:
            warn_generator_resume(self._skip)

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        step = start_step
        skip, self._skip = max(self._skip, 0), 0
        for skipped in range(skip):
            try:
                self._next()
            except StopIteration:
                raise ValueError(
                    f"The generator ran out after {skipped} batch(es) while the resumed run was dropping the {skip} "
                    f"the interrupted run had used (to resume at step {start_step} of steps_per_epoch="
                    f"{self.steps}, epoch {epoch + 1}); pass a generator that yields at least as many batches as "
                    "the first run read") from None
        if positioned is not None:
            positioned()
        while self.steps is None or step < self.steps:
            try:
                batch = self._next()
            except StopIteration:
                if self.steps is not None and step < self.steps:
                    raise ValueError(
                        f"The generator ran out after {step} of steps_per_epoch={self.steps} steps (epoch "
                        f"{epoch + 1}); make it loop forever or lower steps_per_epoch") from None
                return
            x, y, sw = _batch_tuple(batch, "The generator")
            step += 1
            yield _to_device(x, self.device), _to_device(y, self.device), _to_device(sw, self.device)


class SequenceAdapter(DataAdapter):
    """Batches from a Keras-style ``Sequence`` (``__len__`` and ``__getitem__``)."""

    def __init__(self, sequence, device, steps=None, shuffle=False, seed=0):
        self.sequence = sequence
        self.device = device
        self.shuffle = shuffle
        self.seed = int(seed)
        full = len(sequence)
        if steps is not None and steps > full:
            # Keras 2's enqueuer cycles through the Sequence; kerosene's epoch ends with it
            warn_user(f"{steps} steps asked of a Sequence of {full} batches: each epoch runs {full} steps "
                      "(Keras 2 would go round the Sequence again)")
        self.steps = full if steps is None else min(int(steps), full)
        self.samples = None
        self.epochs_ended = 0

    def peek(self):
        if not len(self.sequence):
            return None
        x, y, sw = _batch_tuple(self.sequence[0], "The Sequence")
        return _to_device(x, self.device), _to_device(y, self.device), _to_device(sw, self.device)

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        order = list(range(len(self.sequence)))
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed((self.seed * 1_000_003 + int(epoch)) % (2 ** 63))
            order = torch.randperm(len(order), generator=generator).tolist()
        if positioned is not None:
            positioned()
        for step in range(start_step, self.steps):
            x, y, sw = _batch_tuple(self.sequence[order[step]], "The Sequence")
            yield _to_device(x, self.device), _to_device(y, self.device), _to_device(sw, self.device)

    def on_epoch_end(self):
        hook = getattr(self.sequence, "on_epoch_end", None)
        if callable(hook):
            hook()
        self.epochs_ended += 1

    def state_dict(self):
        return sequence_state(self.sequence, self.epochs_ended)

    def load_state_dict(self, state):
        self.epochs_ended = restore_sequence(self.sequence, state, self.epochs_ended)


def _whole_steps(steps):
    """``steps`` as a whole number of batches. A fraction counts up (Keras 2's generator loops run
    ``while steps_done < steps``: ``len(x) / 32`` steps cover every sample)."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, float, np.integer, np.floating)) or \
            not math.isfinite(steps) or steps <= 0:
        raise ValueError(f"`steps` must be a positive number of batches or None, got {steps!r}")
    return int(math.ceil(steps))


def make_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False, seed=0,
                 device=None, steps=None, role="x"):
    """Pick the adapter for what the user passed as ``x``."""
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                                   or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    steps = _whole_steps(steps)
    if isinstance(x, torch.utils.data.DataLoader):
        _no_y(y, sample_weight, "a DataLoader")
        return LoaderAdapter(x, device, steps=steps, seed=seed)
    if isinstance(x, torch.utils.data.Dataset) and not is_array_like(x):
        _no_y(y, sample_weight, "a Dataset")
        generator = torch.Generator()
        loader = torch.utils.data.DataLoader(
            x, batch_size=batch_size or 32, shuffle=bool(shuffle), generator=generator,
            pin_memory=device is not None and device.type == "cuda")
        return LoaderAdapter(loader, device, steps=steps, seed=seed)
    if _looks_like_sequence(x):
        _no_y(y, sample_weight, "a Sequence")
        return SequenceAdapter(x, device, steps=steps, shuffle=bool(shuffle), seed=seed)
    if inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__")):
        _no_y(y, sample_weight, "a generator")
        return GeneratorAdapter(x, device, steps=steps)
    if x is None:
        raise ValueError(f"`{role}` is required: pass arrays, tensors, a Dataset, a DataLoader or a generator")
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle, seed=seed,
                        device=device, steps=steps)


def _looks_like_sequence(x):
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict, str)):
        return False
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and type(x).__name__ != "dict" and (
        hasattr(x, "on_epoch_end") or any(c.__name__ == "Sequence" for c in type(x).__mro__))


def _no_y(y, sample_weight, kind):
    if y is not None:
        raise ValueError(f"`y` must be None when `x` is {kind} (the targets come from it); got {type(y).__name__}")
    if sample_weight is not None:
        raise ValueError(f"`sample_weight` must be None when `x` is {kind}; pass weights as a third element")
