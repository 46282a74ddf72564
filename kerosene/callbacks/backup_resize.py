"""BackupAndRestore across world sizes: write the epoch-boundary copy, and resume from it.

At every epoch end (and once before the first epoch) the callback also writes the copy of
:mod:`kerosene.saving.backup_epoch_copy`. A rerun whose world size differs from the one
that wrote the per-rank backup (DDP N -> M, FSDP N -> M, one process <-> torchrun)
resumes from it at the start of the epoch after the last completed one, with one notice
on rank 0: the interrupted epoch's progress is dropped, since the data shards differ.
Each rank's RNG stays as the script seeded it. The rerun then replaces the other world
size's files by its own backup.

Example::

    pointer = agree_on_pointer(backup)              # in restore_state, every rank
    payload = resume_from_copy(backup, refusal)     # None when there is no copy
"""
from __future__ import annotations

import copy

import torch.distributed as torch_dist

from .. import distributed
from .._user_warning import warn_user
from ..errors import BackupError
from ..saving.atomic import naming_errors
from ..saving.backup_epoch_copy import (apply_tensors, epoch_tensors, load_tensors, next_slot, read_pointer,
                                        read_run_state, remove_unreferenced, remove_world_layouts,
                                        tensor_template, write_epoch_copy)
from ..saving.backup_format import CorruptBackup, encode, from_storable, same_state, to_storable
from ..saving.sharded_weights import is_sharded
from .backup_objects import named_callbacks, optimizer_of

__all__ = ["agree_on_pointer", "write_copy", "resume_from_copy", "finish_resume"]


def _rank_world(backup):
    store = backup._store
    return (store.rank, store.world) if store is not None else (0, 1)


def agree_on_pointer(backup):
    """Rank 0 reads ``epoch.json`` and removes a half-written copy; every rank gets the record."""
    rank, _ = _rank_world(backup)
    pointer = None
    if rank == 0:
        pointer = read_pointer(backup.backup_dir)
        if backup.save_freq is not False:
            remove_unreferenced(backup.backup_dir, pointer)
    if backup._store is not None:
        holder = [pointer]
        torch_dist.broadcast_object_list(holder, src=0)
        pointer = holder[0]
    backup._epoch_pointer = pointer
    backup._epoch_copy_dir = pointer.get("dir") if pointer else None
    return pointer


def write_copy(backup, loop_state, epoch):
    """The epoch-boundary copy at ``epoch`` (step 0), on every rank at the same point."""
    model = backup.model
    rank, world = _rank_world(backup)
    stop_training = backup._any_rank(model.stop_training)
    collective = is_sharded(model)
    current = backup._epoch_copy_dir
    if collective or rank == 0:
        with naming_errors(backup.backup_dir, "BackupAndRestore writing the backup in"):
            flat, rest = epoch_tensors(model, optimizer_of(model))
            state = None
            if rank == 0:
                shared = backup._shared_state(loop_state, epoch, 0, stop_training, {"model": {}, "optimizer": rest})
                state = encode({**shared, **backup._rank_state(loop_state, 0),
                                "epoch_copy": {"world_size": world, "epoch": int(epoch)}})
            write_epoch_copy(backup.backup_dir, current, flat, state, {"world_size": world, "epoch": int(epoch)},
                             collective=collective, rank=rank)
    backup._epoch_copy_dir = next_slot(current)


def resume_from_copy(backup, refusal):
    """Load the epoch-boundary copy into the model and optimizer and return its run state.

    ``refusal``: the error message of today's refusal, raised (with a note) when there is
    no copy; None when having no backup at all is fine.
    """
    pointer = backup._epoch_pointer
    folder = backup.backup_dir
    if pointer is None:
        if refusal is None:
            return None
        raise BackupError(f"{refusal} (it holds no epoch-boundary copy, which a backup written by an "
                          "older kerosene lacks)")
    if "error" in pointer:
        raise BackupError(f"{pointer['error']}; delete {folder!r} to start the training over")
    path = f"{folder}/{pointer['dir']}"
    payload, problem = None, None
    try:
        payload = read_run_state(folder, pointer)
        backup._check_compatible(payload, path)
    except CorruptBackup as exc:
        problem = f"{exc}; delete {folder!r} to start the training over"
    except BackupError as exc:
        problem = str(exc)
    # Every rank learns whether each one could read it: all refuse alike, none waits for another.
    problems = backup._store.gather(problem) if backup._store is not None else [problem]
    failed = [(rank, text) for rank, text in enumerate(problems) if text is not None]
    if failed:
        raise BackupError(problem if problem is not None else f"rank {failed[0][0]} refused the "
                          f"epoch-boundary copy: {failed[0][1]}")
    model = backup.model
    optimizer = optimizer_of(model)
    rest = payload["optimizer"]
    template = tensor_template(model, optimizer, rest)
    try:
        loaded = load_tensors(folder, pointer, template, collective=is_sharded(model))
    except BaseException as exc:   # DCP's CheckpointException is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BackupError(f"the epoch-boundary copy {path} cannot be loaded into this model "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                          f"delete {folder!r} to start the training over") from None
    apply_tensors(model, optimizer, loaded, rest)
    rank, world = _rank_world(backup)
    epoch = payload["loop"]["epoch"]
    if rank == 0:
        wrote = pointer["world_size"]
        processes = f"{wrote} process{'es' if wrote != 1 else ''}"
        sizes = (f"was written by {processes} but this run has {world}" if wrote != world
                 else f"holds only its epoch-boundary copy ({processes})")
        warn_user(f"BackupAndRestore: the backup in {folder!r} {sizes}; resuming at the start of epoch "
                  f"{epoch + 1} (index {epoch}) with the weights, optimizer and callbacks' state of the last "
                  "completed epoch's end. Progress after it is dropped: with another world size the data "
                  "shards differ, so a mid-epoch position cannot carry over", RuntimeWarning)
    return {**payload, "epoch_copy": dict(payload["epoch_copy"])}


def finish_resume(backup, payload, loop_state):
    """``restore_position`` for a resume from the copy: callbacks again, the epoch, then this run's own backup."""
    for name, cb in named_callbacks(loop_state.callbacks, backup).items():
        saved = payload["callbacks"].get(name)
        if saved is not None and not same_state(to_storable(cb.state_dict()), saved):
            cb.load_state_dict(copy.deepcopy(from_storable(saved)))
    loop = payload["loop"]
    loop_state.load_state_dict(loop)
    if loop["stop_training"]:
        backup.model.stop_training = True
        backup.model.stop_reason = loop["stop_reason"]
        loop_state.finish()
    if backup.save_freq is False:
        return
    rank, _ = _rank_world(backup)
    if rank == 0:
        # The other world size's files go before this run writes its own (the copy stays):
        # a kill in between leaves only the copy, which the next rerun resumes from again.
        remove_world_layouts(backup.backup_dir)
    if backup._store is not None:
        distributed.barrier()
    backup._write(loop_state, loop["epoch"], 0)
