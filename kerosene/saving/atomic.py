"""The one way kerosene writes files: never a half-written file at the final path.

Write to a temporary file in the same folder, flush and fsync it, ``os.replace`` it
onto the target, then fsync the folder so the rename itself survives a power cut. A
crash at any moment leaves either the old file or the new one, never a mix.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time

__all__ = ["atomic_write", "atomic_write_bytes", "fsync_dir", "fsync_path", "remove_stale_temps",
           "check_destination", "naming_errors"]

# Temp files older than this process were left by a writer that died (kill -9, power cut):
# no writer of this process can own them, and one still writing them elsewhere would be a
# second process writing the same file, which atomic_write does not support anyway.
_PROCESS_START = time.time()
_TEMP_TAIL = r"\.[A-Za-z0-9_]{8}\.tmp"   # what tempfile.mkstemp adds between prefix and suffix


def fsync_path(path):
    """Flush a file's or folder's contents to disk; a no-op where it can't be opened."""
    try:
        fd = os.open(path or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_dir(path):
    """Flush a folder's entries (the rename) to disk."""
    fsync_path(path)


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding=None, newline=None):
    """Open a temporary file beside ``path``; on success it atomically becomes ``path``.

    Yields an open file object, or, with ``mode=None``, the temporary file's *path*
    (for writers such as h5py that open the file themselves). On an exception the
    temporary file is removed and ``path`` is untouched.

    Example::

        with atomic_write('weights.h5', mode=None) as tmp_path:
            with h5py.File(tmp_path, 'w') as f:
                ...
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    # mkstemp makes the file private (0600); give it the mode an ordinary open() would.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        if mode is None:
            os.close(fd)
            fd = None
            yield tmp
            _fsync_file(tmp)
        else:
            with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
                fd = None
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(folder)
    except BaseException:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def remove_stale_temps(path):
    """Remove the temp files a killed writer of ``path`` left beside it; return their names.

    Only files of atomic_write's own pattern (``.<name>.XXXXXXXX.tmp``) for this very target,
    last modified before this process started, are removed.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape("." + os.path.basename(path)) + _TEMP_TAIL + r"\Z")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not pattern.match(name):
            continue
        candidate = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if os.path.isfile(candidate) and os.path.getmtime(candidate) < _PROCESS_START:
                os.remove(candidate)
                removed.append(name)
    return removed


def check_destination(path, argument, folder=False):
    """Raise ValueError now if ``path`` cannot be written later (a writer checks at train begin).

    ``argument`` names the setting in the message, e.g. ``"ModelCheckpoint `filepath`"``.
    ``path`` is a file to be written, or with ``folder=True`` a folder to be written into.
    Missing folders are fine (writers create them) as long as the nearest existing one is a
    writable folder; the check writes and removes one empty temp file there.
    """
    path = os.path.abspath(os.fspath(path))
    if folder:
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"{argument} {path!r} is a file, not a folder; give a folder path")
        parent = path
    else:
        if os.path.isdir(path):
            raise ValueError(f"{argument} {path!r} is a folder; give the path of a file to write")
        parent = os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{argument} {path!r} cannot be created: {parent!r} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".kerosene-write-check.", suffix=".tmp", dir=parent)
    except OSError as error:
        raise ValueError(f"{argument} {path!r} cannot be written: the folder {parent!r} refuses new "
                         f"files ({error.strerror or error}); choose a writable folder") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.remove(probe)


@contextlib.contextmanager
def naming_errors(path, doing):
    """Re-raise an OSError or UnicodeDecodeError from inside with what was being done and the file.

    ``doing`` says it, e.g. ``"CSVLogger writing"``; the error keeps its type (an OSError
    with the same errno, so ``PermissionError`` stays one) and is chained to the original.

    Example::

        with naming_errors('log.csv', 'CSVLogger writing'):
            handle.write(row)      # disk full -> OSError: CSVLogger writing 'log.csv' failed: No space left...
    """
    path = os.fspath(path)
    try:
        yield
    except UnicodeDecodeError as error:
        raise UnicodeDecodeError(error.encoding, error.object, error.start, error.end,
                                 f"{error.reason} ({doing} {path!r}: the file is not {error.encoding} text)") from error
    except OSError as error:
        if getattr(error, "kerosene_named", False):
            raise
        named = OSError(error.errno, f"{doing} {path!r} failed: {error.strerror or error}")
        named.kerosene_named = True
        raise named from error


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)
