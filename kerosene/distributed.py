"""torch.distributed awareness: rank helpers for user code and the engine's DDP set-up.

Launched by ``torchrun`` (``WORLD_SIZE``/``RANK``/``LOCAL_RANK``/``MASTER_ADDR``/
``MASTER_PORT`` in the environment) or inside a process group the user initialised,
``fit`` trains data-parallel: ``batch_size`` is per process, each rank takes a disjoint
share of every global batch, gradients are averaged by ``DistributedDataParallel``,
epoch logs are reduced over all ranks, and every rank takes the same stop decision.
Outside a distributed launch every helper answers as for a single process and the
engine's set-up returns ``None``, so single-process training pays nothing.

Example, in a callback that writes a file::

    from kerosene import distributed

    class SaveNotes(kerosene.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if distributed.is_main_process():
                with open('notes.txt', 'a') as f:
                    f.write(f"{epoch} {logs['loss']}\\n")
"""
from __future__ import annotations

import atexit
import gc
import datetime
import os

import torch
import torch.distributed as torch_dist

from ._user_warning import warn_user
from .engine.distribute_option import FSDP
from .engine.distributed import DistributedContext
from .engine.fsdp import FSDPContext
from .errors import DistributedLaunchError

__all__ = ["rank", "world_size", "local_rank", "is_distributed", "is_main_process", "barrier",
           "broadcast_object", "set_ddp_options", "DistributedLaunchError", "FSDP", "setup_for_fit",
           "setup_for_eval"]

#: Seconds to wait for every process to join the group (``KEROSENE_DIST_INIT_TIMEOUT``).
DEFAULT_INIT_TIMEOUT = 300.0
#: Seconds a collective may wait for a peer once training runs (``KEROSENE_DIST_TIMEOUT``).
DEFAULT_COLLECTIVE_TIMEOUT = 1800.0
_ddp_options = {}


# --- rank helpers ------------------------------------------------------------------------
def is_distributed():
    """True inside an initialised process group of more than one process."""
    return torch_dist.is_available() and torch_dist.is_initialized() and torch_dist.get_world_size() > 1


def rank():
    """This process's global rank (0 outside torch.distributed)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_rank()
    return _env_int("RANK", 0)


def world_size():
    """The number of processes (1 outside torch.distributed)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_world_size()
    return _env_int("WORLD_SIZE", 1)


def local_rank():
    """This process's rank on its machine (``LOCAL_RANK``; 0 outside torch.distributed)."""
    return _env_int("LOCAL_RANK", 0)


def is_main_process():
    """True on rank 0: the process that writes files and prints."""
    return rank() == 0


def barrier():
    """Wait until every rank gets here (does nothing in a single process)."""
    if is_distributed():
        torch_dist.barrier()


def broadcast_object(obj, src=0):
    """Rank ``src``'s ``obj`` on every rank (``obj`` itself in a single process)."""
    if not is_distributed():
        return obj
    holder = [obj]
    torch_dist.broadcast_object_list(holder, src=src)
    return holder[0]


def set_ddp_options(**options):
    """Extra keyword arguments for ``DistributedDataParallel``, e.g. ``find_unused_parameters=True``.

    Example::

        kerosene.distributed.set_ddp_options(find_unused_parameters=True)
    """
    allowed = {"find_unused_parameters", "broadcast_buffers", "bucket_cap_mb", "gradient_as_bucket_view",
               "static_graph"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"set_ddp_options() got unknown options {unknown}; accepted: {sorted(allowed)}")
    _ddp_options.update(options)


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"Environment variable {name}={value!r} is not an integer; torchrun sets it to one") from None


def _env_seconds(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise ValueError(f"Environment variable {name}={value!r} must be a positive number of seconds")
    return seconds


# --- process group -----------------------------------------------------------------------
def _launched_world_size():
    """WORLD_SIZE from the environment, checked, with RANK, MASTER_ADDR and MASTER_PORT."""
    size = _env_int("WORLD_SIZE", 1)
    if size < 1:
        raise ValueError(f"Environment variable WORLD_SIZE={size} must be at least 1")
    if size == 1:
        return 1
    if "RANK" not in os.environ:
        raise ValueError(
            f"WORLD_SIZE={size} is set but RANK is not: launch with torchrun (or set RANK, "
            "MASTER_ADDR and MASTER_PORT for every process), or unset WORLD_SIZE to train in one process")
    process_rank = _env_int("RANK", 0)
    if not 0 <= process_rank < size:
        raise ValueError(f"RANK={process_rank} must be in [0, WORLD_SIZE={size})")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not os.environ.get(name):
            raise ValueError(
                f"WORLD_SIZE={size} is set but {name} is not: every process needs MASTER_ADDR and "
                "MASTER_PORT naming rank 0's host and a free port (torchrun sets both)")
    _env_int("MASTER_PORT", 0)
    return size


def _init_process_group(device):
    """Join the process group the environment describes; a clear error when it cannot be formed."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    init_timeout = _env_seconds("KEROSENE_DIST_INIT_TIMEOUT", DEFAULT_INIT_TIMEOUT)
    run_timeout = _env_seconds("KEROSENE_DIST_TIMEOUT", DEFAULT_COLLECTIVE_TIMEOUT)
    where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    try:
        torch_dist.init_process_group(backend=backend, init_method="env://",
                                      timeout=datetime.timedelta(seconds=init_timeout))
    except Exception as exc:
        raise DistributedLaunchError(
            f"Could not form the torch.distributed group (WORLD_SIZE={os.environ['WORLD_SIZE']}, "
            f"RANK={os.environ['RANK']}, master {where}, backend {backend}) within "
            f"{init_timeout:g} s: {type(exc).__name__}: {_first_line(exc)}. Check that MASTER_ADDR/MASTER_PORT "
            "reach rank 0 and that every rank was started (KEROSENE_DIST_INIT_TIMEOUT sets the wait)") from exc
    try:
        torch_dist.distributed_c10d._set_pg_timeout(datetime.timedelta(seconds=run_timeout))
    except Exception:  # older torch: collectives keep the init timeout
        pass
    atexit.register(_leave_process_group)


_EXIT_BARRIER_SECONDS = 30


def _leave_process_group():
    """Destroy the group kerosene formed while Python still runs.

    Left to the interpreter's teardown, gloo's worker threads can be destroyed while still
    joinable, which aborts the process ("terminate called without an active exception") after
    fit has returned.
    """
    if torch_dist.is_initialized():
        # Garbage left by training (FSDP's hook and communication objects in reference cycles)
        # holds gloo state; collected only in the interpreter's teardown, after the group is
        # gone, it aborted the process: 3 of 50 FSDP launches beside two CPU hogs, 0 of 40
        # once collected here.
        gc.collect()
        try:
            if torch_dist.get_backend() == "gloo":
                # Leave together: a rank whose peer already closed its connections aborted in
                # teardown more often (5 of 16 FSDP launches beside two CPU hogs).
                torch_dist.monitored_barrier(timeout=datetime.timedelta(seconds=_EXIT_BARRIER_SECONDS))
        except Exception:
            pass  # a peer already gone: leave anyway
        try:
            torch_dist.destroy_process_group()
        except Exception:
            pass  # a peer already gone: nothing is left to hand back


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _distributed_device(model):
    """The model's device, with CUDA pinned to this process's LOCAL_RANK GPU."""
    state = model._compile_state
    device = state.device
    if device.type == "cuda" and torch.cuda.is_available():
        device = torch.device("cuda", local_rank() % torch.cuda.device_count())
        torch.cuda.set_device(device)
        state.device = device
    return device


def _context(model, training):
    if not torch_dist.is_available():
        if _launched_world_size() > 1:
            raise DistributedLaunchError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        return _single_process(model, training)
    if not torch_dist.is_initialized():
        if _launched_world_size() == 1:
            return _single_process(model, training)
        _init_process_group(_distributed_device(model))
    if torch_dist.get_world_size() == 1:
        return _single_process(model, training)
    option = model._compile_state.distribute
    if option.kind == "fsdp":
        return FSDPContext(_distributed_device(model), option, training=training)
    return DistributedContext(_distributed_device(model), training=training, ddp_options=dict(_ddp_options))


def _single_process(model, training):
    """No context for one process; ``distribute='fsdp'`` says once per compile that it trains unsharded."""
    state = model._compile_state
    if training and state.distribute.kind == "fsdp" and not state.fsdp_notice_given:
        state.fsdp_notice_given = True
        warn_user("distribute='fsdp' outside a torch.distributed launch: training as one process, unsharded",
                  UserWarning)
    return None


def setup_for_fit(model):
    """The engine's distributed context for ``fit`` (``None`` when not distributed)."""
    return _context(model, training=True)


def setup_for_eval(model):
    """The engine's distributed context for ``evaluate`` (``None`` when not distributed)."""
    return _context(model, training=False)
