"""In-memory data as batches: arrays and tensors (and lists/dicts of them), converted once.

The base :class:`DataAdapter` every source implements lives here too, with the conversions
the other adapters share. Arrays are converted to tensors once per ``fit`` and batches are
sliced from them, never rebuilt from numpy per step. The shuffle order of epoch ``k`` is
derived from a seed and ``k`` alone, so it does not depend on what ran before (a resumed
run sees the same order)::

    adapter = ArrayAdapter(np.zeros((100, 4)), np.zeros((100, 1)), batch_size=32)
    x, y, sw = next(iter(adapter.epoch_batches(0)))
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..backend.config import floatx
from ..utils.tree import flatten

__all__ = ["DataAdapter", "ArrayAdapter", "to_tensor", "num_samples", "split_tail", "is_array_like"]

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
    if array.dtype == np.float64 and floatx() != "float64":
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
        # A y list holding None for the outputs without a loss keeps their places (see
        # engine.targets.targets_per_output), so it is rebuilt even with one array in it.
        self._single = self._nx == 1 and self._ny <= 1 and not (isinstance(y, (list, tuple)) and len(y) > 1)
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
