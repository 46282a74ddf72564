"""Weights of a model sharded with FSDP (its parameters are DTensor shards), for weights and files.

Every rank runs the same code: a shard becomes a full tensor by an all-gather of that one
parameter (:func:`full_parameters`, layer by layer), and full values go back into the
shards by a scatter. A file is written by rank 0 alone, the other ranks taking part in
each gather and dropping what they gathered (:func:`rank_zero_writes`).

Example::

    with full_parameters(layer):             # each DTensor parameter replaced by its full tensor
        arrays = layer.keras_weights()
    with full_parameters(layer, write_back=True):
        layer.set_keras_weights(arrays)      # scattered back into the shards on exit
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

try:
    import torch.distributed as torch_dist
    from torch.distributed.fsdp import FSDPModule
    from torch.distributed.tensor import DTensor, distribute_tensor
except ImportError:  # a torch built without torch.distributed, or older than 2.6's public FSDP2 and DTensor
    torch_dist, FSDPModule, DTensor, distribute_tensor = None, None, None, None

__all__ = ["full_parameters", "is_sharded", "full_tree", "rank_zero_writes", "unsharded_class"]


def unsharded_class(cls):
    """The user's class of a module ``fully_shard`` re-classed (``FSDPDense`` -> ``Dense``); others as given."""
    if FSDPModule is None or not issubclass(cls, FSDPModule) or cls is FSDPModule:
        return cls
    return next((base for base in cls.__bases__ if not issubclass(base, FSDPModule)), cls)


def _sharded_slots(module):
    if DTensor is None:
        return []
    return [(owner, name, p) for owner in module.modules() for name, p in owner._parameters.items()
            if isinstance(p, DTensor)]


def is_sharded(module):
    """True when some parameter of ``module`` is a DTensor shard."""
    return bool(_sharded_slots(module))


@contextlib.contextmanager
def full_parameters(module, write_back=False):
    """Each DTensor parameter of ``module`` replaced by its full tensor while the block runs.

    With ``write_back``, the full tensors' values (as the block left them) are scattered
    back into the shards when the block ends without an error. A parameter shared by two
    modules is gathered once.
    """
    slots = _sharded_slots(module)
    if not slots:
        yield
        return
    full = {}
    for owner, name, p in slots:
        if id(p) not in full:
            full[id(p)] = nn.Parameter(p.detach().full_tensor(), requires_grad=p.requires_grad)
        owner._parameters[name] = full[id(p)]
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        for owner, name, p in slots:
            owner._parameters[name] = p
        if write_back and not failed:
            done = set()
            with torch.no_grad():
                for _, _, p in slots:
                    if id(p) not in done:
                        done.add(id(p))
                        p.copy_(distribute_tensor(full[id(p)].detach(), p.device_mesh, p.placements))


def full_tree(tree):
    """``tree`` (dicts, lists, tuples) with each DTensor replaced by its full tensor (every rank alike)."""
    if DTensor is not None and isinstance(tree, DTensor):
        return tree.full_tensor()
    if isinstance(tree, dict):
        return {key: full_tree(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(full_tree(value) for value in tree)
    return tree


@contextlib.contextmanager
def rank_zero_writes(model):
    """Yields whether this process writes the file: always unsharded; rank 0 alone for a sharded model.

    Under sharding every rank must run the block (its gathers are collectives); when it
    ends, the ranks agree on the outcome, so a failed write on rank 0 is an error on
    every rank rather than a rank waiting on a file that never comes.
    """
    if not is_sharded(model):
        yield True
        return
    writes = torch_dist.get_rank() == 0
    ok = False
    try:
        yield writes
        ok = True
    finally:
        flag = torch.tensor([1.0 if ok else 0.0])
        torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MIN)
        if ok and flag.item() < 1.0:
            raise RuntimeError("saving the sharded model failed on another rank (its error is in that rank's output)")
