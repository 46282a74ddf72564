"""``predict`` under torch.distributed: each rank predicts its share, every rank gets the whole.

Arrays and tensors are split as ``evaluate`` splits them (global batch ``s`` holds rows
``s*G:(s+1)*G`` with ``G = batch_size * world``, rank ``r`` takes the ``r``-th near-equal
part), every rank runs as many forwards as the others (FSDP's forwards are collectives),
and the outputs are gathered and put back in input order on every rank, as
``get_weights`` gives the full weights on every rank. Other data (generators, Sequences,
DataLoaders) is not split: each rank predicts all of its own input, as one process does.

Example::

    sharded, gather = shard_for_predict(dist, adapter)
    outputs = gather(loop.run_predict(model, sharded, callbacks))
"""
from __future__ import annotations

import numpy as np
import torch.distributed as torch_dist

from .data import ArrayAdapter
from .shard_data import ShardedArrayAdapter, share_of

__all__ = ["shard_for_predict"]


def shard_for_predict(dist, adapter):
    """``(this rank's adapter, gather)``: ``gather(rank_outputs)`` gives every rank the outputs in input order."""
    if dist.world_size == 1 or not isinstance(adapter, ArrayAdapter):
        return adapter, _unchanged
    sharded = ShardedArrayAdapter(adapter, dist.rank, dist.world_size, evaluation=True)
    rows = [_rank_rows(sharded, r, dist.world_size) for r in range(dist.world_size)]
    padded = dist.equal_steps(sharded)

    def gather(outputs):
        every = [None] * dist.world_size
        torch_dist.all_gather_object(every, outputs)
        return _in_input_order(every, rows)
    return padded, gather


def _unchanged(outputs):
    return outputs


def _rank_rows(sharded, rank, world):
    """The global row numbers ``rank`` predicts, in the order it predicts them."""
    batch, samples = sharded.global_batch_size, sharded.inner.samples
    parts = []
    for step in range(sharded.global_steps):
        lo = step * batch
        offset, count = share_of(min(lo + batch, samples) - lo, rank, world)
        parts.append(np.arange(lo + offset, lo + offset + count))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


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
