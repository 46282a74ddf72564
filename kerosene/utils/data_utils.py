"""Keras 2's ``keras.utils.data_utils``: ``get_file`` (cached download with a hash check)
and ``Sequence`` (batches by index, usable by ``fit``).

    path = get_file('mnist.npz', origin='https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz',
                    file_hash='731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1')
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile

from ..errors import DownloadError
from .progbar import Progbar

__all__ = ["get_file", "Sequence", "validate_file", "hash_file", "keras_cache_dir", "DownloadError"]

_CHUNK = 1 << 16


def keras_cache_dir():
    """Keras's cache folder: ``$KERAS_HOME`` when set, else ``~/.keras``."""
    home = os.environ.get("KERAS_HOME")
    return os.path.expanduser(home) if home else os.path.join(os.path.expanduser("~"), ".keras")


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """The hex digest of a file (``'sha256'`` or ``'md5'``)."""
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"`algorithm` must be 'sha256' or 'md5', got {algorithm!r}")
    digest = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm_for(file_hash, hash_algorithm):
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"`hash_algorithm` must be 'auto', 'sha256' or 'md5', got {hash_algorithm!r}")
    if hash_algorithm != "auto":
        return hash_algorithm
    return "sha256" if len(file_hash) == 64 else "md5"


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    """Whether the file's sha256 or md5 digest equals ``file_hash``."""
    return hash_file(fpath, _algorithm_for(file_hash, algorithm), chunk_size) == str(file_hash).lower()


def _writable_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _progress(total, stream):
    bar = Progbar(target=total, stream=stream, unit_name="byte") if total else None
    return bar


def _download(origin, fpath, stream):
    """Stream ``origin`` into a temp file beside ``fpath``, then move it into place."""
    folder = os.path.dirname(fpath)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=30) as response:
            total = response.headers.get("Content-Length")
            bar = _progress(int(total) if total and total.isdigit() else None, stream)
            done = 0
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                if bar is not None:
                    bar.update(done)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, fpath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _safe_members(archive_path, names, target):
    root = os.path.realpath(target)
    for name in names:
        dest = os.path.realpath(os.path.join(target, name))
        if dest != root and not dest.startswith(root + os.sep):
            raise ValueError(f"Archive {archive_path!r} holds a path outside the extraction folder: {name!r}")


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extract a tar or zip archive into ``path``; returns True if it was an archive.

    Members that would land outside ``path`` (``../`` or absolute names) are refused.
    """
    formats = {"auto": ("tar", "zip"), "tar": ("tar",), "zip": ("zip",), None: ()}
    if archive_format not in formats and not isinstance(archive_format, (list, tuple)):
        raise ValueError(f"`archive_format` must be 'auto', 'tar', 'zip' or None, got {archive_format!r}")
    kinds = formats.get(archive_format, archive_format) if not isinstance(archive_format, (list, tuple)) \
        else archive_format
    for kind in kinds:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = archive.getmembers()
                _safe_members(file_path, [m.name for m in members], path)
                for m in members:
                    if m.issym() or m.islnk():
                        raise ValueError(f"Archive {file_path!r} holds a link, which is refused: {m.name!r}")
                archive.extractall(path)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                _safe_members(file_path, archive.namelist(), path)
                archive.extractall(path)
            return True
    return False


def get_file(fname, origin, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, stream=None):
    """Download ``origin`` into Keras's cache (unless already there) and return the local path.

    The file lands in ``cache_dir/cache_subdir/fname``; ``cache_dir`` defaults to
    ``$KERAS_HOME`` or ``~/.keras``. With ``file_hash`` (sha256 or md5) or ``md5_hash``,
    a cached file with another hash is downloaded again, and a downloaded file with
    another hash is deleted and a ``ValueError`` raised. ``untar``/``extract`` unpack
    the archive beside it. A failed download raises :class:`DownloadError` naming the
    URL and the path where the file can be put by hand. A progress bar shows on
    ``stream`` (stderr by default).
    """
    if not isinstance(fname, (str, os.PathLike)) or not str(fname):
        raise TypeError(f"get_file: `fname` must be a file name, got {fname!r}")
    if not isinstance(origin, str) or not origin:
        raise TypeError(f"get_file: `origin` must be a URL string, got {origin!r}")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        _algorithm_for(file_hash, hash_algorithm)  # argument check before any work
    stream = stream if stream is not None else sys.stderr
    cache_dir = os.path.expanduser(cache_dir) if cache_dir else keras_cache_dir()
    datadir = os.path.join(cache_dir, cache_subdir)
    if not _writable_dir(datadir):
        datadir = os.path.join(tempfile.gettempdir(), ".keras", cache_subdir)
        os.makedirs(datadir, exist_ok=True)
    fname = os.fspath(fname)
    fpath = os.path.join(datadir, fname)
    untar_fpath = None
    if untar:
        untar_fpath = fpath
        fpath = fpath + ".tar.gz"

    needs_download = not os.path.exists(fpath)
    if not needs_download and file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
        print(f"A local file was found at {fpath}, but its hash does not match the expected one "
              f"({file_hash}); it will be downloaded again.", file=stream)
        needs_download = True

    if needs_download:
        print(f"Downloading data from {origin}", file=stream)
        try:
            _download(origin, fpath, stream)
        except urllib.error.HTTPError as e:
            raise DownloadError(
                f"Could not download {origin}: HTTP error {e.code} {e.reason}. Download it by hand "
                f"and put it at {fpath}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise DownloadError(
                f"Could not download {origin}: {reason}. With no network, download it elsewhere "
                f"and put it at {fpath}") from None
        if file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
            got = hash_file(fpath, _algorithm_for(file_hash, hash_algorithm))
            os.remove(fpath)
            raise ValueError(
                f"The file downloaded from {origin} has hash {got}, expected {file_hash}; it was "
                f"deleted. The file may be corrupted or changed; put a good copy at {fpath}")

    if untar:
        if not os.path.exists(untar_fpath):
            extract_archive(fpath, datadir, archive_format="tar")
        return untar_fpath
    if extract:
        extract_archive(fpath, datadir, archive_format)
    return fpath


class Sequence:
    """Base class for data that yields whole batches by index; ``fit`` accepts it.

    Implement ``__len__`` (batches per epoch) and ``__getitem__(index)`` (a batch
    ``(x, y)`` or ``(x, y, sample_weight)``); ``on_epoch_end`` runs after each epoch::

        class Batches(Sequence):
            def __init__(self, x, y, batch_size):
                self.x, self.y, self.batch_size = x, y, batch_size
            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)
            def __getitem__(self, idx):
                s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
                return self.x[s], self.y[s]

        model.fit(Batches(x, y, 32), epochs=3)

    A Sequence that changes in ``on_epoch_end`` (reshuffled indices) resumes exactly
    under BackupAndRestore when it also has ``state_dict()`` (returning that state as
    plain data or arrays) and ``load_state_dict(state)``; without them a resume replays
    ``on_epoch_end`` as many times as the interrupted run called it, with a warning.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")

    def on_epoch_end(self):
        """Called after every epoch (shuffle here)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
