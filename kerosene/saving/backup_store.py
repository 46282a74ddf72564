"""Where a one-process training backup lives: ``latest.backup`` (and ``previous.backup``).

Every write goes through :func:`kerosene.saving.atomic.atomic_write`, so a kill at any
moment leaves the previous backup or the new one, never a mix; with ``keep_previous``
the older one stays as ``previous.backup`` to fall back on. The multi-process layout is
:mod:`kerosene.saving.backup_sharded`.

    store = BackupStore('/tmp/run1_backup', keep_previous=True)
    store.write(encode(payload))
    payload = store.read(check)   # None when there is no backup
"""
from __future__ import annotations

import contextlib
import os
import warnings

from ..errors import BackupError
from .atomic import atomic_write, fsync_dir
from .backup_format import CorruptBackup, decode

__all__ = ["BackupStore", "keep_as_previous", "remove_stale_temp_files", "LATEST", "PREVIOUS"]

LATEST = "latest.backup"
PREVIOUS = "previous.backup"


class BackupStore:
    """The backup files of one folder.

    Example::

        store = BackupStore(folder)
        store.write(data)          # atomically; the old latest becomes previous when kept
        store.read(check)          # the newest readable payload, checked by ``check(payload, path)``
    """

    def __init__(self, folder, keep_previous=False):
        self.folder = folder
        self.keep_previous = keep_previous

    @property
    def latest_path(self):
        return os.path.join(self.folder, LATEST)

    @property
    def previous_path(self):
        return os.path.join(self.folder, PREVIOUS)

    def exists(self):
        return os.path.exists(self.latest_path) or os.path.exists(self.previous_path)

    def write(self, data):
        os.makedirs(self.folder, exist_ok=True)
        if self.keep_previous and os.path.exists(self.latest_path):
            keep_as_previous(self.latest_path, self.previous_path)
        with atomic_write(self.latest_path, "wb") as handle:
            handle.write(data)

    def read(self, check):
        """The newest payload that reads and passes ``check(payload, path)``; None when there is none.

        A corrupt latest file falls back to the previous one with a warning; when none reads,
        a :class:`BackupError` says what is wrong with each.
        """
        problems = []
        for path in (self.latest_path, self.previous_path):
            if not os.path.exists(path):
                continue
            try:
                with open(path, "rb") as handle:
                    payload = decode(handle.read(), path)
            except CorruptBackup as exc:
                problems.append(str(exc))
                continue
            if problems:
                warnings.warn(f"{problems[0]}; resuming from the older backup {path}", RuntimeWarning, stacklevel=4)
            check(payload, path)
            return payload
        if problems:
            raise BackupError(
                f"{'; '.join(problems)}. Delete {self.folder!r} to start the training over "
                "(double_checkpoint=True keeps an older backup to fall back on)")
        return None

    def delete(self):
        """Remove the backup files (and the folder when nothing else is in it)."""
        for path in (self.latest_path, self.previous_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        remove_stale_temp_files(self.folder)
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)


def keep_as_previous(latest, previous):
    """Make ``previous`` a copy of ``latest`` without ever leaving ``latest`` absent."""
    folder = os.path.dirname(latest)
    temp = previous + ".link.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.remove(temp)
    try:
        os.link(latest, temp)
    except OSError:
        with open(latest, "rb") as source, atomic_write(previous, "wb") as target:
            target.write(source.read())
        return
    os.replace(temp, previous)
    fsync_dir(folder)


def remove_stale_temp_files(folder):
    """Temp files a kill left behind mid-write (the backup itself is never one of them)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.endswith(".tmp") and (name.startswith("." + LATEST) or name.startswith("." + PREVIOUS)
                                      or name.startswith(PREVIOUS)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
