"""torch.distributed awareness: rank helpers for user code and the engine's DDP set-up.

Outside a distributed launch every helper answers as for a single process and the
engine's set-up returns ``None``, so single-process training pays nothing.
"""
from __future__ import annotations

import os

import torch.distributed as torch_dist

__all__ = ["rank", "world_size", "local_rank", "is_distributed", "is_main_process",
           "setup_for_fit", "setup_for_eval"]


def is_distributed():
    """True inside an initialised process group of more than one process."""
    return torch_dist.is_available() and torch_dist.is_initialized() and torch_dist.get_world_size() > 1


def rank():
    """This process's global rank (0 outside torch.distributed)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_rank()
    return int(os.environ.get("RANK", 0))


def world_size():
    """The number of processes (1 outside torch.distributed)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", 1))


def local_rank():
    return int(os.environ.get("LOCAL_RANK", 0))


def is_main_process():
    """True on rank 0: the process that writes files and prints."""
    return rank() == 0


def setup_for_fit(model):
    """The engine's distributed context for ``fit`` (``None`` when not distributed)."""
    return None


def setup_for_eval(model):
    return None
