"""``save_weights('ckpt.dcp')``: a sharded checkpoint directory through ``torch.distributed.checkpoint``.

For models too large to gather on one rank: every rank writes its own shards (FSDP) or
its share of the replicated tensors (DDP, one process) into one directory, which holds
the model's torch state dict (torch's orientation, like ``.pt``). It can be loaded into
any world size, one process included: ``load_weights`` reshards as it reads.

Atomic: the ranks write into ``.<name>.partial`` beside the target; once every rank's
part and the metadata are written, rank 0 moves it to ``<name>`` (an older checkpoint
there is moved aside first and removed after), so a reader finds a complete checkpoint
or none. Every rank must call ``save_weights``/``load_weights`` (they are collectives);
the target must be on a filesystem all ranks share.

Example::

    model.save_weights('ckpt.dcp')      # on every rank under torchrun
    model.load_weights('ckpt.dcp')      # in a run of any world size
"""
from __future__ import annotations

import contextlib
import os
import shutil
import warnings

import torch
import torch.distributed as torch_dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.api import CheckpointException

from .errors import file_error
from .formats import DCP_SUFFIX

__all__ = ["save_dcp_weights", "load_dcp_weights"]


def _distributed():
    return torch_dist.is_available() and torch_dist.is_initialized()


@contextlib.contextmanager
def _one_process_quiet():
    """torch warns on every one-process save and load that it assumes one process: that is the intent here."""
    with warnings.catch_warnings():
        if not _distributed():
            warnings.filterwarnings("ignore", message="torch.distributed is disabled, unavailable or uninitialized")
        yield


def _barrier():
    if _distributed():
        torch_dist.barrier()


def _rank():
    return torch_dist.get_rank() if _distributed() else 0


def _agree(ok, what, path):
    """Every rank learns whether each one succeeded; a rank that did not has already raised."""
    if not _distributed():
        return
    flag = torch.tensor([1.0 if ok else 0.0])
    torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MIN)
    if ok and flag.item() < 1.0:
        raise RuntimeError(f"{what} {path!r} failed on another rank (its error is in that rank's output)")


def save_dcp_weights(model, path):
    """Write ``model.state_dict()`` as a DCP directory at ``path``, atomically (see the module docstring)."""
    folder = os.path.dirname(os.path.abspath(path))
    partial = os.path.join(folder, "." + os.path.basename(path) + ".partial")
    old = os.path.join(folder, "." + os.path.basename(path) + ".old")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"save_weights: {path!r} exists and is not a directory; a {DCP_SUFFIX} checkpoint is a "
                         "directory, so remove the file or choose another path")
    ok = False
    try:
        if _rank() == 0:
            for stale in (partial, old):   # a killed earlier write
                shutil.rmtree(stale, ignore_errors=True)
        _barrier()
        with _one_process_quiet():
            dcp.save(model.state_dict(), checkpoint_id=partial, no_dist=not _distributed())
        ok = True
    finally:
        _agree(ok, "save_weights", path)
    if _rank() == 0:
        if os.path.isdir(path):
            os.rename(path, old)
        os.rename(partial, path)
        shutil.rmtree(old, ignore_errors=True)
    _barrier()


def load_dcp_weights(model, path):
    """Load a DCP directory written by :func:`save_dcp_weights` into ``model`` (any world size)."""
    if not os.path.isdir(path) or not os.path.exists(os.path.join(path, ".metadata")):
        raise file_error(path, f"this is not a complete {DCP_SUFFIX} checkpoint directory (no .metadata in it)")
    state = model.state_dict()
    try:
        # A checkpoint that does not fit fails while planning, before any tensor is read.
        with _one_process_quiet():
            dcp.load(state, checkpoint_id=path, no_dist=not _distributed())
    except (Exception, CheckpointException) as err:  # CheckpointException is a BaseException
        raise file_error(path, "its tensors do not fit this model (other layers or shapes)", err) from None
    model.load_state_dict(state)
