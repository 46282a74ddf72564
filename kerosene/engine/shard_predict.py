"""``predict`` under torch.distributed: each rank predicts its share, every rank gets the whole.

Arrays and tensors are split as ``evaluate`` splits them (global batch ``s`` holds rows
``s*G:(s+1)*G`` with ``G = batch_size * world``, rank ``r`` takes the ``r``-th near-equal
part); a DataLoader in dataset order (no shuffling, no ``drop_last``) deals its rows
out one by one; a ``Sequence`` deals out whole batches, batch ``i`` to rank
``i % world``. Every rank runs as many forwards as the others (FSDP's forwards are
collectives), and the outputs are gathered and put back in input order on every rank,
as ``get_weights`` gives the full weights on every rank. Generators and other loaders
are not split: each rank predicts all of its own input, as one process does.

Example::

    sharded, gather = shard_for_predict(dist, adapter)
    outputs = gather(loop.run_predict(model, sharded, callbacks))
"""
from __future__ import annotations

import numpy as np
import torch.distributed as torch_dist
from torch.utils.data import SequentialSampler

from .adapter_wrapper import WrappingAdapter
from .data import ArrayAdapter, LoaderAdapter, SequenceAdapter
from .input_casts import _CastingAdapter, cast_adapter_inputs
from .jit import batch_rows
from .shard_data import ShardedArrayAdapter, ShardedLoaderAdapter, StridedAdapter, loader_is_shardable, share_of

__all__ = ["shard_for_predict"]


def shard_for_predict(dist, adapter):
    """``(this rank's adapter, gather)``: ``gather(rank_outputs)`` gives every rank the outputs in input order."""
    world, rank = dist.world_size, dist.rank
    if world == 1:
        return adapter, _unchanged
    policy = None
    if isinstance(adapter, _CastingAdapter):   # inputs cast per batch: shard what it reads, cast as before
        adapter, policy = adapter.inner, adapter.policy
    if isinstance(adapter, ArrayAdapter):
        sharded = ShardedArrayAdapter(adapter, rank, world, evaluation=True)
        rows = [_array_rows(sharded, r, world) for r in range(world)]
        place = lambda sizes: rows  # noqa: E731
    elif isinstance(adapter, LoaderAdapter) and _loader_keeps_rows(adapter):
        sharded = ShardedLoaderAdapter.from_adapter(adapter, rank, world, evaluation=True)
        place = lambda sizes: [r + world * np.arange(sum(s)) for r, s in enumerate(sizes)]  # noqa: E731
    elif isinstance(adapter, SequenceAdapter) and adapter.steps is not None:
        sharded = StridedAdapter(adapter, rank, world, evaluation=True)
        place = lambda sizes: _strided_rows(sizes, world)  # noqa: E731
    else:
        return cast_adapter_inputs(adapter, policy), _unchanged
    recorded = _BatchSizes(dist.equal_steps(cast_adapter_inputs(sharded, policy)))

    def gather(outputs):
        every = [None] * world
        torch_dist.all_gather_object(every, (outputs, recorded.sizes))
        return _in_input_order([out for out, _ in every], place([sizes for _, sizes in every]))
    return recorded, gather


def _unchanged(outputs):
    return outputs


class _BatchSizes(WrappingAdapter):
    """The rows of each of this rank's own batches (filler batches left out), as they pass."""

    def __init__(self, inner):
        self.inner, self.sizes = inner, []

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        self.sizes = []
        for batch in self.inner.epoch_batches(epoch, start_step, positioned):
            if not getattr(self.inner, "padding", False):
                self.sizes.append(batch_rows(batch[0]))
            yield batch


def _loader_keeps_rows(adapter):
    """A DataLoader whose rows, dealt out one by one to the ranks, are all of its rows in dataset order."""
    loader = adapter.loader
    return (loader_is_shardable(loader) and isinstance(loader.sampler, SequentialSampler)
            and not loader.drop_last and adapter.steps == len(loader))


def _array_rows(sharded, rank, world):
    """The global row numbers ``rank`` predicts, in the order it predicts them."""
    batch, samples = sharded.global_batch_size, sharded.inner.samples
    parts = []
    for step in range(sharded.global_steps):
        lo = step * batch
        offset, count = share_of(min(lo + batch, samples) - lo, rank, world)
        parts.append(np.arange(lo + offset, lo + offset + count))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _strided_rows(sizes, world):
    """Global row numbers per rank when batch ``i`` went to rank ``i % world``."""
    starts, at = {}, 0
    for index in range(sum(len(s) for s in sizes)):
        rank, k = index % world, index // world
        starts[rank, k] = at
        at += sizes[rank][k]
    return [np.concatenate([np.arange(starts[r, k], starts[r, k] + n) for k, n in enumerate(s)])
            if s else np.zeros(0, dtype=np.int64) for r, s in enumerate(sizes)]


def _in_input_order(every, rows):
    """One output structure whose leaves hold every rank's rows at their input positions."""
    present = [(out, where) for out, where in zip(every, rows) if out is not None]
    first = present[0][0]
    if isinstance(first, dict):
        return {k: _in_input_order([o if o is None else o[k] for o in every], rows) for k in first}
    if isinstance(first, (list, tuple)):
        return [_in_input_order([o if o is None else o[i] for o in every], rows) for i in range(len(first))]
    total = sum(len(where) for _, where in present)
    whole = np.empty((total,) + np.shape(first)[1:], dtype=first.dtype)
    for out, where in present:
        whole[where] = out
    return whole
