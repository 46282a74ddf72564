"""Each rank's share of the data under torch.distributed: sharded array, loader and strided adapters.

:func:`shard_adapter` picks the sharding for an adapter; the engine's distributed context
(``engine.distributed``) calls it for ``fit`` and ``evaluate`` alike, whether the model
trains under DDP or FSDP.

Example::

    shard = shard_adapter(ArrayAdapter(x, y, batch_size=32), rank=0, world=2, evaluation=False)
"""
from __future__ import annotations

import math

from torch.utils.data import DataLoader, DistributedSampler, IterableDataset, RandomSampler, Sampler

from .._user_warning import warn_user
from .adapter_wrapper import WrappingAdapter
from .data import ArrayAdapter, GeneratorAdapter, LoaderAdapter, SequenceAdapter
from .input_casts import _CastingAdapter, cast_adapter_inputs

__all__ = ["shard_adapter", "share_of", "ShardedArrayAdapter", "ShardedLoaderAdapter", "StridedAdapter",
           "EqualStepsAdapter", "loader_is_shardable"]


def shard_adapter(adapter, rank, world, evaluation):
    """This rank's share of ``adapter`` (the adapter itself for a per-rank generator in evaluation)."""
    if isinstance(adapter, _CastingAdapter):
        # A loader's or Sequence's inputs cast per batch (a Keras model's float inputs): shard what it reads.
        sharded = shard_adapter(adapter.inner, rank, world, evaluation)
        return adapter if sharded is adapter.inner else cast_adapter_inputs(sharded, adapter.policy)
    if isinstance(adapter, ArrayAdapter):
        return ShardedArrayAdapter(adapter, rank, world, evaluation)
    if isinstance(adapter, LoaderAdapter) and loader_is_shardable(adapter.loader):
        return ShardedLoaderAdapter.from_adapter(adapter, rank, world, evaluation)
    if isinstance(adapter, (LoaderAdapter, SequenceAdapter)) and adapter.steps is not None:
        return StridedAdapter(adapter, rank, world, evaluation)
    if not evaluation and adapter.steps is None:
        kind = "generator" if isinstance(adapter, GeneratorAdapter) else type(adapter).__name__
        raise ValueError(
            f"Under torch.distributed every rank must run the same number of steps, but this {kind} has "
            "no known length: pass steps_per_epoch=N to fit (each rank then draws N batches from its own "
            "data)")
    return adapter  # a generator per rank: each process's own data, as the user wrote it


def share_of(rows, rank, world):
    """``(offset, count)`` of ``rank``'s part when ``rows`` rows are split as evenly as possible."""
    base, extra = divmod(rows, world)
    return rank * base + min(rank, extra), base + (1 if rank < extra else 0)


# --- data ---------------------------------------------------------------------------------
class ShardedArrayAdapter(WrappingAdapter):
    """One rank's share of an :class:`ArrayAdapter`'s global batches, wrapping that adapter.

    Global batch ``s`` holds rows ``order[s*G:(s+1)*G]`` of the epoch's permutation
    (``G = batch_size * world``), exactly as one process with batch size ``G`` would
    draw them; rank ``r`` takes the ``r``-th of ``world`` near-equal parts. All ranks
    use the same seed, so the union of their batches is the single-process run. The
    tensors, seed and shuffle order stay the wrapped adapter's.

    Example::

        shard = ShardedArrayAdapter(ArrayAdapter(x, y, batch_size=16, shuffle=True), rank=1, world=2)
    """

    def __init__(self, inner, rank, world, evaluation=False):
        self.inner = inner
        self.rank, self.world, self.evaluation = rank, world, evaluation
        self.global_batch_size = inner.batch_size * world
        n, batch = inner.samples, self.global_batch_size
        global_full = math.ceil(n / batch) if n else 0
        user_limited = inner.steps < (math.ceil(n / inner.batch_size) if n else 0)
        steps = min(inner.steps, global_full) if user_limited else global_full
        remainder = n % batch
        if not evaluation and steps == global_full and remainder and remainder < world:
            # Some rank would get no row at all, yet every rank must take part in each step.
            steps -= 1
            if rank == 0:
                warn_user(f"The last {remainder} sample(s) are skipped each epoch: a final global batch "
                          f"smaller than the {world} processes cannot be shared among them")
        self.global_steps = steps
        self.steps = steps if not evaluation else sum(1 for s in range(steps) if self._share(s)[1])
        self.step_fraction = 1.0 / world

    def _share(self, step):
        lo = step * self.global_batch_size
        rows = min(lo + self.global_batch_size, self.inner.samples) - lo
        offset, count = share_of(rows, self.rank, self.world)
        return lo + offset, count, rows

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        inner = self.inner
        tensors = inner._tensors
        order = None
        if inner.shuffle:
            order = inner.permutation(epoch)
            if inner.device.type != "cpu":
                order = order.to(inner.device)
        inner.order = order
        if positioned is not None:
            positioned()
        for step in range(start_step, self.global_steps):
            start, count, rows = self._share(step)
            if count == 0:
                continue
            self.step_fraction = count / rows
            if order is None:
                parts = [t[start:start + count] for t in tensors]
            else:
                idx = order[start:start + count]
                parts = [t.index_select(0, idx) for t in tensors]
            yield inner._assemble(parts)


class _UnpaddedShardSampler(Sampler):
    """Indices ``rank, rank + world, ...``: each sample on exactly one rank, none repeated."""

    def __init__(self, length, rank, world):
        self.length, self.rank, self.world = length, rank, world

    def __iter__(self):
        return iter(range(self.rank, self.length, self.world))

    def __len__(self):
        return len(range(self.rank, self.length, self.world))


class ShardedLoaderAdapter(LoaderAdapter):
    """A DataLoader rebuilt around a per-rank sampler.

    Training uses ``DistributedSampler`` (reshuffled per epoch from the shared seed, so
    ranks see disjoint samples and the same number of batches); evaluation uses a
    sampler that neither pads nor repeats, so reduced metrics count every sample once.

    Example::

        shard = ShardedLoaderAdapter.from_adapter(LoaderAdapter(loader, device), rank=0, world=2)
    """

    @classmethod
    def from_adapter(cls, adapter, rank, world, evaluation=False):
        loader = adapter.loader
        dataset = loader.dataset
        if evaluation:
            sampler = _UnpaddedShardSampler(len(dataset), rank, world)
        else:
            sampler = DistributedSampler(dataset, num_replicas=world, rank=rank,
                                         shuffle=isinstance(loader.sampler, RandomSampler), seed=adapter.seed)
        options = dict(batch_size=loader.batch_size, sampler=sampler, num_workers=loader.num_workers,
                       collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last,
                       timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
                       multiprocessing_context=loader.multiprocessing_context)
        if loader.num_workers > 0:
            options.update(prefetch_factor=loader.prefetch_factor, persistent_workers=loader.persistent_workers)
        sharded = cls(DataLoader(dataset, **options), adapter.device, seed=adapter.seed)
        if adapter.steps is not None and sharded.steps is not None:
            sharded.steps = min(adapter.steps, sharded.steps)
        sharded.samples = adapter.samples
        sharded.step_fraction = 1.0 / world
        return sharded

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        sampler = self.loader.sampler
        if isinstance(sampler, DistributedSampler):
            sampler.seed = self.seed  # BackupAndRestore may have restored an earlier seed
        return super().epoch_batches(epoch, start_step, positioned)


class StridedAdapter(WrappingAdapter):
    """Batch ``i`` of any indexable source goes to rank ``i % world`` (Sequences, custom batch samplers).

    Example::

        shard = StridedAdapter(SequenceAdapter(seq, device), rank=0, world=2)
    """

    def __init__(self, inner, rank, world, evaluation=False):
        self.inner, self.rank, self.world = inner, rank, world
        total = inner.steps
        if evaluation:
            self.steps = len(range(rank, total, world))
        else:
            self.steps = total // world
        self.samples = inner.samples
        self.step_fraction = 1.0 / world
        self.counts_samples = inner.counts_samples

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        taken = 0
        for index, batch in enumerate(self.inner.epoch_batches(epoch, 0, positioned)):
            if index % self.world != self.rank:
                continue
            if taken >= self.steps:
                return
            if taken >= start_step:
                yield batch
            taken += 1


class EqualStepsAdapter(WrappingAdapter):
    """A rank's evaluation or predict pass lengthened to ``steps`` steps with filler batches.

    Under FSDP every forward gathers parameters from all ranks, so every rank must run as
    many forwards as the others, even one whose share of the data is shorter. After the
    rank's own batches this yields its last batch again (or the data's first rows, when it
    had none) with ``padding`` set: the loops run the forward on it and count nothing.

    Example::

        padded = EqualStepsAdapter(ShardedArrayAdapter(adapter, rank=1, world=2, evaluation=True), steps=4)
    """

    def __init__(self, inner, steps):
        self.inner, self.steps = inner, steps
        self.padding = False

    def epoch_batches(self, epoch, start_step=0, positioned=None):
        taken, last = start_step, None
        self.padding = False
        for batch in self.inner.epoch_batches(epoch, start_step, positioned):
            taken, last = taken + 1, batch
            yield batch
        filler = last if last is not None else self.inner.peek()
        self.padding = True
        try:
            for _ in range(taken, self.steps):
                yield filler
        finally:
            self.padding = False


def loader_is_shardable(loader):
    try:
        len(loader.dataset)
    except TypeError:
        return False
    return loader.batch_size is not None and not isinstance(loader.dataset, IterableDataset)
