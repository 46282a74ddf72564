"""BackupAndRestore's epoch-boundary copy: the state at the last epoch end, readable by any world size.

The per-rank backup (:mod:`.backup_sharded`, or ``latest.backup`` for one process) resumes
bit for bit, but only with the world size that wrote it. Beside it, at every epoch end,
the run keeps one copy that does not depend on the world size:

- ``epoch-a.dcp`` or ``epoch-b.dcp``: a ``torch.distributed.checkpoint`` directory with
  the model's state dict (``model/<name>``) and the optimizer's tensors
  (``optimizer/<index>/<slot>``). Under FSDP every rank writes its own shards; under
  DDP and in one process rank 0 alone writes them (every rank holds them all). DCP
  reshards on load, so any world size (one process included) reads it;
- ``run.backup`` inside it (rank 0): the rest, in the backup format: the optimizer's
  non-tensor state, schedulers, loop position (step 0), rank 0's callbacks' state;
- ``epoch.json`` (rank 0), written last: which of the two directories is complete.

A write goes into the directory ``epoch.json`` does not name; the pointer moves once it
is complete, then the older directory is removed: a kill at any moment leaves the old
copy or the new one.

Example::

    flat, rest = epoch_tensors(model, optimizer)
    name = write_epoch_copy(folder, current, flat, encode(state), record, collective=False, rank=0)
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import warnings

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.api import CheckpointException

from .atomic import atomic_write
from .backup_sharded import COMMIT
from .backup_store import LATEST, PREVIOUS
from .backup_format import CorruptBackup, decode
from .backup_fsdp import restore_optimizer_state
from .sharded_weights import DTensor

__all__ = ["POINTER", "SLOTS", "epoch_tensors", "tensor_template", "apply_tensors", "read_pointer",
           "write_epoch_copy", "read_run_state", "load_tensors", "remove_unreferenced", "remove_epoch_copy",
           "remove_world_layouts"]

POINTER = "epoch.json"
SLOTS = ("epoch-a.dcp", "epoch-b.dcp")
RUN_STATE = "run.backup"
_MODEL, _OPTIMIZER = "model/", "optimizer/"
_PART = re.compile(r"^(shared|rank-\d+)\.\d+\.backup$")


@contextlib.contextmanager
def _quiet():
    """torch warns that a ``no_dist`` save or load assumes one process: that is the intent here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled, unavailable or uninitialized")
        yield


def _is_dtensor(value):
    return DTensor is not None and isinstance(value, DTensor)


# --- the tensors and what is left ----------------------------------------------------
def epoch_tensors(model, optimizer):
    """``(flat {key: tensor}, optimizer state without its tensors + their shapes)``; no copies made."""
    flat = {_MODEL + name: value for name, value in model.state_dict().items()}
    rest = None
    if optimizer is not None:
        state_dict = optimizer.state_dict()
        kept, shapes = {}, {}
        for index, slots in state_dict["state"].items():
            kept[index] = {}
            for slot, value in slots.items():
                if isinstance(value, torch.Tensor):
                    key = f"{index}/{slot}"
                    flat[_OPTIMIZER + key] = value
                    shapes[key] = [list(value.shape), str(value.dtype).replace("torch.", "")]
                else:
                    kept[index][slot] = value
        rest = {"state_dict": {**{k: v for k, v in state_dict.items() if k != "state"}, "state": kept},
                "tensors": shapes}
    return flat, rest


def tensor_template(model, optimizer, rest):
    """What DCP loads into: this model's state dict and, per saved optimizer slot, a tensor
    sharded as its parameter is when this run's parameter is a shard and the slot has its shape."""
    template = {_MODEL + name: value for name, value in model.state_dict().items()}
    if optimizer is not None and rest is not None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for key, (shape, dtype) in rest["tensors"].items():
            param = params[int(key.split("/", 1)[0])]
            dtype = getattr(torch, dtype)
            if _is_dtensor(param) and list(param.shape) == shape:
                template[_OPTIMIZER + key] = torch.zeros_like(param, dtype=dtype)
            else:
                template[_OPTIMIZER + key] = torch.zeros(shape, dtype=dtype)
    return template


def apply_tensors(model, optimizer, loaded, rest):
    """Load the model's entries and the optimizer's state (tensors back in their slots)."""
    model.load_state_dict({k[len(_MODEL):]: v for k, v in loaded.items() if k.startswith(_MODEL)})
    if optimizer is None or rest is None:
        return
    state_dict = rest["state_dict"]
    state = {index: dict(slots) for index, slots in state_dict["state"].items()}
    shards = {}
    for key in rest["tensors"]:
        value = loaded[_OPTIMIZER + key]
        index, slot = key.split("/", 1)
        index = int(index)
        if _is_dtensor(value):
            shards[f"{index}/{slot}"] = value.to_local()
        else:
            state.setdefault(index, {})[slot] = value
    restore_optimizer_state(optimizer, {**state_dict, "state": state}, shards)


# --- the files -----------------------------------------------------------------------
def read_pointer(folder):
    """``epoch.json``'s record ``{'dir', 'world_size', 'epoch'}``; None when absent; ``{'error'}`` when unreadable."""
    path = os.path.join(folder, POINTER)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            record = json.load(handle)
        if record["dir"] not in SLOTS:
            raise ValueError(f"unknown directory {record['dir']!r}")
        return {"dir": record["dir"], "world_size": int(record["world_size"]), "epoch": int(record["epoch"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"error": f"the epoch-boundary record {path} is unreadable ({type(exc).__name__}: {exc})"}


def next_slot(current):
    """The directory the next copy goes into: the one ``epoch.json`` does not name."""
    return SLOTS[1] if current == SLOTS[0] else SLOTS[0]


def write_epoch_copy(folder, current, flat, state_bytes, record, collective, rank):
    """Write a copy into the free directory and (rank 0) move the pointer to it; returns its name.

    ``collective``: every rank saves its shards (FSDP); otherwise only rank 0 calls this
    with everything. ``state_bytes`` and ``record`` are rank 0's.
    """
    name = next_slot(current)
    target = os.path.join(folder, name)
    os.makedirs(folder, exist_ok=True)
    try:
        with _quiet():
            dcp.save(flat, checkpoint_id=target, no_dist=not collective)
    except CheckpointException as exc:   # a BaseException: give the OS error a rank met (disk full...)
        raise _first_os_error(exc) from None
    if rank == 0:
        # Past dcp.save on rank 0 (the coordinator) every rank's shards and the metadata are on disk.
        with atomic_write(os.path.join(target, RUN_STATE), "wb") as handle:
            handle.write(state_bytes)
        with atomic_write(os.path.join(folder, POINTER), "w") as handle:
            handle.write(json.dumps({**record, "dir": name}))
        shutil.rmtree(os.path.join(folder, current or next_slot(name)), ignore_errors=True)
    return name


def _first_os_error(exc):
    for failure in exc.failures.values():
        error = failure[0] if isinstance(failure, tuple) else failure
        if isinstance(error, OSError):
            return error
    return RuntimeError(f"writing the epoch-boundary copy failed: {str(exc).strip().splitlines()[-1]}")


def read_run_state(folder, pointer):
    """The decoded ``run.backup`` of the copy ``pointer`` names (CorruptBackup when damaged or missing)."""
    path = os.path.join(folder, pointer["dir"], RUN_STATE)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise CorruptBackup(f"the epoch-boundary copy {path} cannot be read ({exc})") from None
    return decode(data, path)


def load_tensors(folder, pointer, template, collective):
    """Fill ``template`` from the copy's DCP directory (resharded to this run); returns it."""
    with _quiet():
        dcp.load(template, checkpoint_id=os.path.join(folder, pointer["dir"]), no_dist=not collective)
    return template


def remove_unreferenced(folder, pointer):
    """Rank 0: the directory a killed write left half written (the one ``epoch.json`` does not name)."""
    current = pointer["dir"] if pointer and "dir" in pointer else None
    for name in SLOTS:
        if name != current:
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def remove_epoch_copy(folder):
    """Rank 0: the pointer first (a copy without it is never read), then both directories."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(folder, POINTER))
    for name in SLOTS:
        shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def remove_world_layouts(folder):
    """Rank 0: the per-world-size backup of either layout, the commit first (parts without one are
    never read) and ``previous.backup`` before ``latest.backup`` (never an older one left alone)."""
    parts = sorted(name for name in os.listdir(folder) if _PART.match(name)) if os.path.isdir(folder) else []
    for name in [COMMIT, *parts, PREVIOUS, LATEST]:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, name))
