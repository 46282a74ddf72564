"""BackupAndRestore's files under torch.distributed: one shared part, one part per rank, a commit.

Every backup is a *generation* ``G`` made of:

- ``shared.G.backup`` (rank 0): what is identical on every rank under DDP: weights,
  optimizer and scheduler state, the loop position and the data-order seed;
- ``rank-R.G.backup`` (each rank ``R``): what belongs to that rank: its RNG states,
  its partial epoch sums, its data adapter, its callbacks' state and its buffers
  (BatchNormalization statistics differ between ranks);
- ``commit.json`` (rank 0), naming the last generation whose parts are all on disk.

Each part is written through :func:`kerosene.saving.atomic.atomic_write` and carries
its generation, rank and world size. The commit moves to ``G`` only after a barrier
that every rank reaches once its part is on disk, so a kill at any moment leaves the
previously committed generation whole: parts of an uncommitted generation are never
read. The files of generation ``G - 1`` are kept until ``G + 1`` is being written
(``G - 2`` as well with ``double_checkpoint``, to fall back on when ``G`` is corrupt).

``backup_dir`` must be a folder every rank can read (a shared filesystem when the
ranks run on several machines).

Example::

    store = ShardedBackupStore('/tmp/run1_backup', rank=0, world=2)
    store.write(shared_bytes, rank_bytes, generation=3)   # on every rank, collectively
"""
from __future__ import annotations

import contextlib
import json
import os
import re

import torch.distributed as torch_dist

from .atomic import atomic_write
from .backup_format import CorruptBackup, decode

__all__ = ["ShardedBackupStore", "COMMIT", "shared_name", "rank_name"]

COMMIT = "commit.json"
_PART = re.compile(r"^(shared|rank-(\d+))\.(\d+)\.backup$")


def shared_name(generation):
    return f"shared.{generation}.backup"


def rank_name(rank, generation):
    return f"rank-{rank}.{generation}.backup"


class ShardedBackupStore:
    """Where a distributed run's backup parts live, and the collective steps to write them.

    Example::

        store = ShardedBackupStore(folder, rank=1, world=2, keep_previous=True)
        store.committed()   # {'generation': 7, 'world_size': 2} or None, the same on every rank
    """

    def __init__(self, folder, rank, world, keep_previous=False):
        self.folder, self.rank, self.world = folder, rank, world
        self.keep_previous = keep_previous

    def path(self, name):
        return os.path.join(self.folder, name)

    # --- writing ---------------------------------------------------------------------
    def write(self, shared_bytes, rank_bytes, generation):
        """Every rank writes its part, all wait for each other, then rank 0 commits ``generation``.

        Called by every rank at the same point of training (it contains a barrier).
        """
        os.makedirs(self.folder, exist_ok=True)
        with atomic_write(self.path(rank_name(self.rank, generation)), "wb") as handle:
            handle.write(rank_bytes)
        if self.rank == 0:
            with atomic_write(self.path(shared_name(generation)), "wb") as handle:
                handle.write(shared_bytes)
        # The committed generation is generation - 1: keep it (and one more with double_checkpoint).
        self._remove_parts(older_than=generation - (2 if self.keep_previous else 1))
        torch_dist.barrier()   # every part of `generation` is on disk past this point
        if self.rank == 0:
            record = {"generation": int(generation), "world_size": int(self.world)}
            with atomic_write(self.path(COMMIT), "w") as handle:
                handle.write(json.dumps(record))

    def _remove_parts(self, older_than=None):
        """This rank's own part files (all of them when rank 0 and ``older_than`` is None)."""
        for name, owner, generation in self._parts():
            mine = owner == self.rank or (owner is None and self.rank == 0)
            if older_than is None:
                mine = mine or self.rank == 0
            if mine and (older_than is None or generation < older_than):
                with contextlib.suppress(OSError):
                    os.remove(self.path(name))

    def _parts(self):
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        found = []
        for name in names:
            match = _PART.match(name)
            if match:
                owner = None if match.group(1) == "shared" else int(match.group(2))
                found.append((name, owner, int(match.group(3))))
        return found

    # --- reading ---------------------------------------------------------------------
    def committed(self):
        """Rank 0's reading of ``commit.json``, given to every rank: a dict, or None when absent.

        A commit file that cannot be read gives ``{'error': message}``.
        """
        record = None
        if self.rank == 0:
            record = read_commit(self.path(COMMIT))
        holder = [record]
        torch_dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def read_parts(self, generation):
        """``(shared bytes, this rank's bytes)`` of ``generation``; OSError when a part is missing."""
        with open(self.path(shared_name(generation)), "rb") as handle:
            shared = handle.read()
        with open(self.path(rank_name(self.rank, generation)), "rb") as handle:
            own = handle.read()
        return shared, own

    def read_payload(self, generation):
        """This rank's backup of ``generation``: the shared part with its own part (RNG, buffers...) merged in."""
        store = self
        shared_path = store.path(shared_name(generation))
        own_path = store.path(rank_name(store.rank, generation))
        try:
            shared_bytes, own_bytes = store.read_parts(generation)
        except FileNotFoundError as exc:
            raise CorruptBackup(f"the backup part {exc.filename} of generation {generation} is missing") from None
        shared, own = decode(shared_bytes, shared_path), decode(own_bytes, own_path)
        expected = {"generation": generation, "world_size": store.world}
        for part, path, extra in ((shared, shared_path, {}), (own, own_path, {"rank": store.rank})):
            tag = part.get("sharded") if isinstance(part, dict) else None
            if tag != {**expected, **extra}:
                raise CorruptBackup(
                    f"the backup part {path} is tagged {tag}, not {dict(expected, **extra)}: "
                    "parts of different backups are mixed")
        payload = {k: v for k, v in shared.items() if k != "sharded"}
        payload.update({k: v for k, v in own.items() if k not in ("sharded", "buffers")})
        payload["model"] = {**shared["model"], **own["buffers"]}   # this rank's BatchNorm statistics
        return payload

    def gather(self, status):
        """Every rank's ``status`` (any picklable value), on every rank, in rank order."""
        gathered = [None] * self.world
        torch_dist.all_gather_object(gathered, status)
        return gathered

    # --- removing --------------------------------------------------------------------
    def delete(self):
        """Rank 0 removes every part, the commit, stale temp files and the folder if empty."""
        if self.rank != 0:
            return
        self._remove_parts()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path(COMMIT))
        remove_stale_temp_files(self.folder, rank=None)
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)


def read_commit(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            record = json.load(handle)
        return {"generation": int(record["generation"]), "world_size": int(record["world_size"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"error": f"the commit file {path} is unreadable ({type(exc).__name__}: {exc})"}


def remove_stale_temp_files(folder, rank):
    """Temp files a kill left mid-write: this rank's (rank 0 also the shared and commit ones; all when None)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    prefixes = ["." + f"rank-{rank}."] if rank is not None else [".rank-"]
    if rank in (0, None):
        prefixes += [".shared.", "." + COMMIT + "."]
    for name in names:
        if name.endswith(".tmp") and any(name.startswith(p) for p in prefixes):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))


def has_sharded_backup(folder):
    """True when ``folder`` holds a distributed run's backup."""
    return os.path.exists(os.path.join(folder, COMMIT))
