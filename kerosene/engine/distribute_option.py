"""``compile(distribute=...)``: which data-parallel engine ``fit`` uses under torchrun.

``'auto'`` (the default) and ``'ddp'`` train with ``DistributedDataParallel``: every
process holds the whole model. ``'fsdp'`` or an :class:`FSDP` object asks for PyTorch's
fully sharded data parallel (``torch.distributed.fsdp.fully_shard``), where each process
holds a share of the parameters, gradients and optimizer state.

Example::

    option = check_distribute(FSDP(reshard_after_forward=False))
    option.kind          # 'fsdp'
"""
from __future__ import annotations

from torch.distributed.fsdp import MixedPrecisionPolicy

__all__ = ["FSDP", "check_distribute", "DISTRIBUTE_NAMES"]

DISTRIBUTE_NAMES = ("auto", "ddp", "fsdp")
_SHARD_NAMES = ("layer", "root")


class FSDP:
    """Fully sharded data parallel settings for ``compile(distribute=FSDP(...))``.

    ``reshard_after_forward``: free the gathered parameters after each forward (True, the
    memory-lean default), keep them (False), or reshard to groups of that many ranks (an
    int, as ``fully_shard`` takes it). ``mixed_precision``: ``None`` (then
    ``compile(precision='mixed_bfloat16')`` gathers bfloat16 parameters and reduces float32
    gradients) or a ``torch.distributed.fsdp.MixedPrecisionPolicy``, used as given.
    ``cpu_offload``: keep shards on the CPU between uses. ``shard``: ``'layer'`` (each
    kerosene layer with weights, or each top-level child of a plain ``nn.Module``, is one
    unit, then the root), ``'root'`` (the whole model one unit), or a function
    ``module -> bool`` marking the modules to shard.

    Example::

        model.compile('adam', 'mse', distribute=kerosene.distributed.FSDP(reshard_after_forward=False))
    """

    kind = "fsdp"

    def __init__(self, reshard_after_forward=True, mixed_precision=None, cpu_offload=False, shard="layer"):
        if isinstance(reshard_after_forward, bool):
            pass
        elif not isinstance(reshard_after_forward, int) or reshard_after_forward < 1:
            raise ValueError(f"FSDP `reshard_after_forward` must be True, False or a positive number of ranks, "
                             f"got {reshard_after_forward!r}")
        if mixed_precision is not None and not isinstance(mixed_precision, MixedPrecisionPolicy):
            raise TypeError(f"FSDP `mixed_precision` must be None or a torch.distributed.fsdp.MixedPrecisionPolicy, "
                            f"got {mixed_precision!r}")
        if not isinstance(cpu_offload, bool):
            raise TypeError(f"FSDP `cpu_offload` must be True or False, got {cpu_offload!r}")
        if not (callable(shard) or shard in _SHARD_NAMES):
            raise ValueError(f"FSDP `shard` must be one of {_SHARD_NAMES} or a function module -> bool, "
                             f"got {shard!r}")
        self.reshard_after_forward = reshard_after_forward
        self.mixed_precision = mixed_precision
        self.cpu_offload = cpu_offload
        self.shard = shard

    def __repr__(self):
        return (f"FSDP(reshard_after_forward={self.reshard_after_forward!r}, mixed_precision="
                f"{self.mixed_precision!r}, cpu_offload={self.cpu_offload!r}, shard={self.shard!r})")


class _Plain:
    """``'auto'`` or ``'ddp'``: today's DDP under a launch."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return repr(self.kind)


def check_distribute(distribute):
    """The checked ``distribute`` option: an :class:`FSDP` or a plain ``'auto'``/``'ddp'`` choice."""
    if isinstance(distribute, (FSDP, _Plain)):
        return distribute
    if isinstance(distribute, str) and distribute in DISTRIBUTE_NAMES:
        return FSDP() if distribute == "fsdp" else _Plain(distribute)
    raise ValueError(f"`distribute` must be one of {DISTRIBUTE_NAMES} or a kerosene.distributed.FSDP(...) object, "
                     f"got {distribute!r}")
