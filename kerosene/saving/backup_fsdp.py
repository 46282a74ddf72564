"""BackupAndRestore of a model sharded with FSDP: each rank keeps its own shards of weights and optimizer state.

Under FSDP no rank holds the whole model, so the shared backup part (rank 0's) keeps
only what is whole on every rank (buffers, plain tensors, the optimizer's step counts
and hyper-parameters) and each rank's own part holds the local shards of its DTensor
parameters and optimizer slots. A backup is resumed by the same world size (sharded
backups already require it), so each rank's shards go back where they came from,
bit for bit.

Example::

    shared, shards = split_model_state(model.state_dict())
    restore_model_shards(model, shards)          # on resume, each rank its own
"""
from __future__ import annotations

import torch

from .sharded_weights import DTensor

__all__ = ["fsdp_parts", "split_model_state", "restore_model_shards", "split_optimizer_state",
           "restore_optimizer_state"]


def _is_dtensor(value):
    return DTensor is not None and isinstance(value, DTensor)


def split_model_state(state):
    """``(whole entries on the CPU, {name: local shard})`` of a sharded model's state dict."""
    whole, shards = {}, {}
    for name, value in state.items():
        if _is_dtensor(value):
            shards[name] = value.to_local().detach().cpu().clone()
        else:
            whole[name] = value.detach().cpu().clone()
    return whole, shards


def restore_model_shards(model, shards):
    """Copy each saved local shard into this rank's shard of the parameter of that name."""
    state = model.state_dict()
    with torch.no_grad():
        for name, local in shards.items():
            target = state[name]
            if not _is_dtensor(target) or tuple(target.to_local().shape) != tuple(local.shape):
                raise ValueError(f"the backup's shard of {name!r} does not fit this rank's "
                                 f"({tuple(local.shape)} saved)")
            target.to_local().copy_(local)


def split_optimizer_state(state_dict):
    """``(the state dict with sharded slots left out, {"index/slot": local shard})``."""
    kept, shards = {}, {}
    for index, slots in state_dict["state"].items():
        kept[index] = {}
        for slot, value in slots.items():
            if _is_dtensor(value):
                shards[f"{index}/{slot}"] = value.to_local().detach().cpu().clone()
            else:
                kept[index][slot] = value.detach().cpu().clone() if isinstance(value, torch.Tensor) else value
    return {**{k: v for k, v in state_dict.items() if k != "state"}, "state": kept}, shards


def restore_optimizer_state(optimizer, state_dict, shards):
    """Load ``state_dict`` and put each rank's slot shards back as DTensors shaped like their parameters."""
    optimizer.load_state_dict(state_dict)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for key, local in shards.items():
        index, slot = key.split("/", 1)
        param = params[int(index)]
        optimizer.state[param][slot] = DTensor.from_local(
            local.to(param.device), param.device_mesh, param.placements, run_check=False,
            shape=param.shape, stride=param.stride())


def fsdp_parts(model):
    """A sharded model's backup parts: whole entries (shared) and this rank's shards (its own)."""
    whole, model_shards = split_model_state(model.state_dict())
    optimizer = getattr(model, "optimizer", None)
    optimizer_state, optimizer_shards = (split_optimizer_state(optimizer.state_dict()) if optimizer is not None
                                         else (None, {}))
    return {"model": whole, "model_shards": model_shards, "optimizer": optimizer_state,
            "optimizer_shards": optimizer_shards}
