"""Adapters from user data to batches of tensors.

Every kind of input ``fit`` accepts (numpy arrays, torch tensors, lists/dicts of them,
``Dataset``/``DataLoader``, Python generators, Keras ``Sequence`` objects) becomes an
adapter that yields ``(x, y, sample_weight)`` batches. Arrays are converted to tensors
once per ``fit`` and batches are sliced from them, never rebuilt from numpy per step.
The shuffle order of epoch ``k`` is derived from a seed and ``k`` alone, so it does
not depend on what ran before (a resumed run sees the same order).
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from ..utils.tree import flatten, map_leaves
from .data_resume import fast_forward, restore_sequence, sequence_state, warn_generator_resume

__all__ = [
    "DataAdapter", "ArrayAdapter", "LoaderAdapter", "GeneratorAdapter", "SequenceAdapter",
    "make_adapter", "to_tensor", "num_samples", "split_tail", "is_array_like",
]


def is_array_like(x):
    return isinstance(x, (np.ndarray, torch.Tensor)) or _is_sparse(x) or (
        hasattr(x, "__array__") and hasattr(x, "shape") and not isinstance(x, (list, dict, tuple)))


def to_tensor(x, name="x"):
    """Convert an array-like to a tensor without copying when possible."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (int, float, bool, np.number)) for v in x):
        x = np.asarray(x)
    if isinstance(x, (int, float)):
        x = np.asarray(x)
    if _is_sparse(x):
        x = x.toarray()  # scipy sparse: dense rows, as Keras 2 feeds them on a dense backend
    try:
        array = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"`{name}` could not be converted to an array: {type(x).__name__} ({exc})") from None
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(
            f"`{name}` holds {'Python objects' if array.dtype == object else 'strings/bytes'} (dtype={array.dtype}, "
            f"shape {array.shape}); accepted: numeric numpy arrays, torch tensors, or lists/dicts of them")
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array).copy()
    return torch.from_numpy(array)


def _is_sparse(x):
    return type(x).__module__.startswith("scipy.sparse") and hasattr(x, "toarray")


def num_samples(tensors, names):
    """The common first dimension of a list of tensors; a clear error when they differ."""
    sizes = {}
    for tensor, name in zip(tensors, names):
        if tensor.dim() == 0:
            raise ValueError(f"`{name}` is a scalar; expected an array with one row per sample")
        sizes.setdefault(int(tensor.shape[0]), []).append(name)
    if len(sizes) > 1:
        detail = ", ".join(f"{'/'.join(n)} has {s} samples" for s, n in sizes.items())
        raise ValueError(
            f"Data cardinality is ambiguous: {detail}. Make sure x, y and sample_weight "
            "all have the same number of samples (first dimension).")
    return next(iter(sizes)) if sizes else 0


def split_tail(structure, fraction):
    """Split arrays into (first, last) parts, the last holding ``fraction`` of the rows (Keras's validation_split)."""
    leaves, rebuild = flatten(structure)
    n = int(leaves[0].shape[0])
    split_at = int(n * (1.0 - fraction))
    return rebuild([leaf[:split_at] for leaf in leaves]), rebuild([leaf[split_at:] for leaf in leaves])


class DataAdapter:
    """One source of ``(x, y, sample_weight)`` batches."""

    #: Number of batches per epoch (None when unknown).
    steps = None
    #: Number of samples (None when unknown).
    samples = None
    #: Whether batch sizes are sample counts (False for generators: size 1 per step).
    counts_samples = True

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        """The epoch's batches from ``start_step``; ``positioned()``, when given, is called once the
        source stands at ``start_step``, before that batch is read (a resume restores its RNG there)."""
        raise NotImplementedError

    def peek(self):
        """A first batch (a few rows may do), without disturbing the epochs to come."""
        return next(iter(self.epoch_batches(0)), None)

    def on_epoch_end(self):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class ArrayAdapter(DataAdapter):
    """Batches sliced from in-memory arrays or tensors, converted once.

    Example::

        adapter = ArrayAdapter(np.zeros((100, 4)), np.zeros((100, 1)), batch_size=32)
        for x, y, sw in adapter.epoch_batches(0):
            ...
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, seed=0,
                 device=None, steps=None):
        x_leaves, self._rebuild_x = flatten(x)
        y_leaves, self._rebuild_y = flatten(y)
        names = [f"x[{i}]" if len(x_leaves) > 1 else "x" for i in range(len(x_leaves))]
        names += [f"y[{i}]" if len(y_leaves) > 1 else "y" for i in range(len(y_leaves))]
        tensors = [to_tensor(leaf, name) for leaf, name in zip(x_leaves + y_leaves, names)]
        if isinstance(sample_weight, tuple):
            raise TypeError("`sample_weight` must be an array, a list (one per output, None for none) or a dict "
                            "keyed by output name, got a tuple")
        # Several outputs: a list or dict, one array (or None) per output, as in Keras 2.
        sw_leaves, self._rebuild_sw = flatten(sample_weight)
        for i, leaf in enumerate(sw_leaves):
            sw = to_tensor(leaf, "sample_weight").to(torch.float32)
            if sw.dim() > 1:
                sw = sw.reshape(sw.shape[0], -1)[:, 0] if sw.shape[-1] == 1 else sw
            tensors.append(sw)
            names.append(f"sample_weight[{i}]" if len(sw_leaves) > 1 else "sample_weight")
        self.samples = num_samples(tensors, names)
        self._given = x_leaves + y_leaves  # the user's arrays, for keras_arrays()
        self._given_sw = sample_weight
        if device is not None and device.type != "cpu":
            if device.type == "cuda":
                tensors = [t.pin_memory() if not t.is_cuda else t for t in tensors]
            tensors = [t.to(device, non_blocking=True) for t in tensors]
        self._tensors = tensors
        self._nx = len(x_leaves)
        self._ny = len(y_leaves)
        self._has_sw = bool(sw_leaves)
        self._nsw = len(sw_leaves)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.device = tensors[0].device if tensors else torch.device("cpu")
        full = max(1, math.ceil(self.samples / self.batch_size)) if self.samples else 0
        self.steps = full if steps is None else min(int(steps), full) if steps else full
        self._single = self._nx == 1 and self._ny <= 1
        self.order = None

    def map_inputs(self, fn):
        """Replace the input tensors once by ``fn(x)`` (same structure and rows)."""
        self._tensors[:self._nx] = flatten(fn(self._rebuild_x(self._tensors[:self._nx])))[0]

    def keras_arrays(self):
        """Keras 2's ``callback.validation_data``: the inputs and targets as given (numpy),
        then one sample-weight array per target (ones when none was given)."""
        def as_numpy(value):
            if isinstance(value, torch.Tensor):
                return value.detach().cpu().numpy()
            return value if isinstance(value, np.ndarray) else np.asarray(value)
        ones = np.ones(self.samples, dtype=np.float32)
        given = self._given_sw
        if isinstance(given, dict):
            given = list(given.values())
        weights = ([ones if w is None else as_numpy(w) for w in given] if isinstance(given, list) and self._ny > 1
                   else [ones if given is None else as_numpy(given)] * self._ny)
        return [as_numpy(a) for a in self._given] + weights

    def permutation(self, epoch):
        """The shuffle order of ``epoch``: a function of the seed and the epoch alone."""
        generator = torch.Generator()
        generator.manual_seed((self.seed * 1_000_003 + int(epoch)) % (2 ** 63))
        return torch.randperm(self.samples, generator=generator)

    def _assemble(self, parts):
        nx, ny = self._nx, self._ny
        if self._single:
            x = parts[0]
            y = parts[1] if ny else None
        else:
            x = self._rebuild_x(parts[:nx])
            y = self._rebuild_y(parts[nx:nx + ny]) if ny else None
        if not self._nsw:
            sw = None
        elif self._nsw == 1 and ny <= 1:
            sw = parts[-1]
        else:
            sw = self._rebuild_sw(parts[nx + ny:])
        return x, y, sw

    def peek(self):
        if not self.samples:
            return None
        return self._assemble([t[:2] for t in self._tensors])

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        tensors, bs, n = self._tensors, self.batch_size, self.samples
        order = None
        if self.shuffle:
            order = self.permutation(epoch)
            if self.device.type != "cpu":
                order = order.to(self.device, non_blocking=True)  # a blocking copy would sync each epoch
        self.order = order
        assemble = self._assemble
        if positioned is not None:
            positioned()
        for step in range(start_step, self.steps):
            lo = step * bs
            hi = min(lo + bs, n)
            if order is None:
                parts = [t[lo:hi] for t in tensors]
            else:
                idx = order[lo:hi]
                parts = [t.index_select(0, idx) for t in tensors]
            yield assemble(parts)


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


def _batch_size_of(x):
    leaves, _ = flatten(x)
    return int(leaves[0].shape[0]) if leaves and hasattr(leaves[0], "shape") and len(leaves[0].shape) else 1


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
        self.consumed += 1
        if self._peeked:
            return self._peeked.pop()
        return next(self.iterator)

    def state_dict(self):
        return {"consumed": self.consumed}

    def load_state_dict(self, state):
        self._skip = int(state.get("consumed", 0)) - self.consumed
        if self._skip > 0:
            warn_generator_resume(self._skip)

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        step = start_step
        skip, self._skip = max(self._skip, 0), 0
        for _ in range(skip):
            self._next()
        if positioned is not None:
            positioned()
        while self.steps is None or step < self.steps:
            try:
                batch = self._next()
            except StopIteration:
                if self.steps is not None and step < self.steps:
                    raise ValueError(
                        f"The generator ran out of data after {step} steps but steps_per_epoch="
                        f"{self.steps}; make it loop forever or lower steps_per_epoch") from None
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


def make_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False, seed=0,
                 device=None, steps=None, role="x"):
    """Pick the adapter for what the user passed as ``x``."""
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                                   or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1):
        raise ValueError(f"`steps` must be a positive integer or None, got {steps!r}")
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
