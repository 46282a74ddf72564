"""Logs that stay on the device until a callback reads them.

The training step returns a dict of scalar tensors. The engine never turns them into
Python numbers on its own: :class:`BatchLogs` does that the first time a callback reads
a value, in one transfer for the whole dict, and :class:`EpochAggregator` keeps the
batch tensors and reduces them once, at the end of the epoch.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .._log_keys import AliasedLogs, resolve_log_key

__all__ = ["BatchLogs", "EpochAggregator", "AliasedLogs", "resolve_log_key", "to_floats"]


def to_floats(tensors, kind=float):
    """Turn a dict of scalar tensors (or numbers) into a dict of ``kind`` values, one sync.

    ``kind=np.float64`` gives numpy scalars, which are Python floats too (Keras 2's batch
    logs held numpy scalars, so ``logs['loss'][()]`` works).
    """
    keys = [k for k, v in tensors.items() if isinstance(v, torch.Tensor)]
    out = dict(tensors)
    if keys and tensors[keys[0]].device.type == "cpu":
        # On the CPU there is no transfer to batch: .item() per value is the cheapest read.
        for key in keys:
            out[key] = kind(tensors[key].item())
    elif keys:
        stacked = torch.stack([tensors[k].detach().reshape(()).to(torch.float64) for k in keys])
        for key, value in zip(keys, stacked.tolist()):
            out[key] = kind(value)
    return out


class BatchLogs(AliasedLogs):
    """A batch's logs: a dict whose tensor values become floats when first read.

    Keys (``batch``, ``size``, ``loss``, metric names) are there from the start, so
    ``'loss' in logs`` and ``logs.keys()`` cost nothing; reading any value converts all
    of them at once.

    Example::

        logs = BatchLogs({'loss': torch.tensor(0.5)}, batch=0, size=32)
        logs.get('loss')   # 0.5, a numpy float64 (also a Python float)
    """

    __slots__ = ("_lazy",)

    def __init__(self, values, batch, size):
        super().__init__(values)
        dict.__setitem__(self, "batch", batch)
        dict.__setitem__(self, "size", size)
        self._lazy = True

    def _materialize(self):
        self._lazy = False
        for key, value in to_floats(dict(dict.items(self)), np.float64).items():
            dict.__setitem__(self, key, value)

    def __getitem__(self, key):
        if self._lazy:
            self._materialize()
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        if self._lazy:
            self._materialize()
        return AliasedLogs.get(self, key, default)

    def items(self):
        if self._lazy:
            self._materialize()
        return dict.items(self)

    def values(self):
        if self._lazy:
            self._materialize()
        return dict.values(self)

    def __iter__(self):
        # Overriding __iter__ also routes dict(logs) and {**logs} through __getitem__.
        return iter(dict.keys(self))

    def copy(self):
        if self._lazy:
            self._materialize()
        return dict(dict.items(self))

    def pop(self, key, *default):
        if self._lazy:
            self._materialize()
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        if self._lazy:
            self._materialize()
        return dict.setdefault(self, key, default)

    def __eq__(self, other):
        if self._lazy:
            self._materialize()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self):
        if self._lazy:
            self._materialize()
        return dict.__repr__(self)

    def __reduce__(self):
        return (dict, (self.copy(),))


class EpochAggregator:
    """Size-weighted means of batch values over an epoch, reduced without per-step syncs
    (the last value for ``last_value_keys``, the running values of stateful metrics).

    ``update`` only appends the step's tensors; ``result`` (and the progress bar's
    ``running``) reduce what has accumulated in one stacked operation.

    Example::

        agg = EpochAggregator()
        agg.update({'loss': torch.tensor(1.0)}, 32)
        agg.update({'loss': torch.tensor(3.0)}, 32)
        agg.result()   # {'loss': 2.0}
    """

    def __init__(self, last_value_keys=()):
        # stateful metrics log a running value: the epoch's is the last batch's, not a mean
        self.last_value_keys = frozenset(last_value_keys)
        self.reset()

    def reset(self):
        self._pending = []
        self._pending_sizes = []
        self._totals = {}
        self._seen = 0

    def update(self, values, size):
        self._pending.append(values)
        self._pending_sizes.append(size)

    @property
    def steps(self):
        return len(self._pending)

    def state_dict(self):
        """The epoch's values so far, unreduced, so a resumed epoch reduces to the same bits."""
        def cpu(value):
            return value.detach().cpu().clone() if isinstance(value, torch.Tensor) else float(value)
        return {
            "pending": [{k: cpu(v) for k, v in values.items()} for values in self._pending],
            "pending_sizes": [float(size) for size in self._pending_sizes],
            "totals": {k: (cpu(total), float(seen)) for k, (total, seen) in self._totals.items()},
        }

    def load_state_dict(self, state, device=None):
        """Restore :meth:`state_dict`'s values, moving tensors to ``device`` (the loop's)."""
        def place(value):
            return value.to(device) if isinstance(value, torch.Tensor) and device is not None else value
        self.reset()
        self._pending = [{k: place(v) for k, v in values.items()} for values in state["pending"]]
        self._pending_sizes = list(state["pending_sizes"])
        self._totals = {k: (place(total), seen) for k, (total, seen) in state["totals"].items()}

    def sums(self):
        """``{key: (size-weighted sum, total size)}`` of the epoch so far (pending batches folded in)."""
        self._fold()
        return dict(self._totals)

    def set_sums(self, sums):
        """Replace the epoch's sums, e.g. with the sums over every rank under torch.distributed."""
        self._pending, self._pending_sizes = [], []
        self._totals = dict(sums)

    def _fold(self):
        if not self._pending:
            return
        keys = dict.fromkeys(key for values in self._pending for key in values)
        for key in keys:
            if key in self.last_value_keys:
                last = next(values[key] for values in reversed(self._pending) if key in values)
                last = last.detach().reshape(()).to(torch.float64) if isinstance(last, torch.Tensor) else \
                    torch.tensor(float(last), dtype=torch.float64)
                self._totals[key] = (last, 1.0)
                continue
            numbers, weights = [], []
            for values, size in zip(self._pending, self._pending_sizes):
                if key in values:
                    value = values[key]
                    numbers.append(value.detach().reshape(()).to(torch.float64)
                                   if isinstance(value, torch.Tensor) else torch.tensor(float(value), dtype=torch.float64))
                    weights.append(float(size))
            device = numbers[0].device
            numbers = torch.stack([n.to(device) for n in numbers])
            weights_t = torch.tensor(weights, dtype=torch.float64, device=device)
            total, seen = self._totals.get(key, (None, 0.0))
            part = (numbers * weights_t).sum()
            self._totals[key] = (part if total is None else total + part, seen + sum(weights))
        self._pending = []
        self._pending_sizes = []

    def result(self):
        """The size-weighted mean of every key seen this epoch, as Python floats."""
        self._fold()
        if not self._totals:
            return {}
        keys = list(self._totals)
        sums = torch.stack([self._totals[k][0].cpu() for k in keys]).tolist()
        return {k: (s / self._totals[k][1] if self._totals[k][1] else math.nan) for k, s in zip(keys, sums)}

    running = result
