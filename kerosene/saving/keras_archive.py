"""The ``.keras`` zip container: ``metadata.json``, ``config.json``, ``model.weights.h5``.

Reading never extracts anything to disk and never runs code: every member name is
checked (no absolute paths, no ``..``, no duplicates), every member's CRC is checked
by reading it whole, and any damage is a :class:`~.errors.SavedFileError` naming the
file. Writing builds the archive in a temporary file beside the target and renames it
into place (:func:`~.atomic.atomic_write`), as every kerosene file is written.

Example::

    contents = read_archive('m.keras')          # .config, .metadata, .weights (an open h5py.File)
    write_archive('m.keras', config, metadata, weights_bytes)
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import zipfile

import h5py

from .atomic import atomic_write, naming_errors
from .config import to_json
from .errors import file_error

__all__ = ["read_archive", "write_archive", "hdf5_bytes", "ArchiveContents", "CONFIG", "METADATA", "WEIGHTS"]

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MAX_MEMBER_BYTES = 1 << 34   # a 16 GiB member is not a model kerosene can load into memory anyway


class ArchiveContents:
    """What a ``.keras`` archive holds: parsed JSON and the weights as an open HDF5 file.

    Example::

        with read_archive('m.keras') as contents:
            print(contents.config['class_name'], list(contents.weights))
    """

    def __init__(self, config, metadata, weights):
        self.config, self.metadata, self.weights = config, metadata, weights

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.weights is not None:
            self.weights.close()


def _check_member_name(path, name):
    bad = (not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/", 1)[0]
           or ".." in name.split("/") or posixpath.normpath(name).startswith(".."))
    if bad:
        raise file_error(path, f"the archive holds a member named {name!r}, a path that escapes the archive; "
                               "kerosene refuses such archives")


def _open_zip(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    if os.path.isdir(path):
        raise file_error(path, "it is a folder, not a .keras file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        with open(path, "rb") as handle:
            head = handle.read(8)
        what = ("the zip archive is truncated or corrupted" if head.startswith(b"PK") else
                "not a .keras archive (not a zip file)" + (": it is an HDF5 file, load it under an .h5 name"
                                                           if head.startswith(b"\x89HDF") else ""))
        raise file_error(path, what, err) from None
    except (OSError, EOFError, ValueError) as err:
        raise file_error(path, "the zip archive cannot be read", err) from None
    return archive


def _read_members(path, archive):
    names = archive.namelist()
    for name in names:
        _check_member_name(path, name)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise file_error(path, f"the archive holds {duplicates} more than once")
    missing = [m for m in (CONFIG, WEIGHTS) if m not in names]
    if missing:
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        raise file_error(path, f"not a Keras archive: it has no {' and no '.join(missing)} (it holds: "
                               f"{shown or 'nothing'})")
    data = {}
    for member in (CONFIG, METADATA, WEIGHTS):
        if member not in names:
            continue
        info = archive.getinfo(member)
        if info.file_size > _MAX_MEMBER_BYTES:
            raise file_error(path, f"its {member} claims {info.file_size} bytes, more than kerosene reads")
        try:
            data[member] = archive.read(member)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as err:
            raise file_error(path, f"its {member} is corrupted (its CRC or compression does not check out)",
                             err) from None
    return data


def _parse_json(path, data, member):
    try:
        value = json.loads(data.decode("utf8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise file_error(path, f"its {member} is not valid JSON", err) from None
    if not isinstance(value, dict):
        raise file_error(path, f"its {member} is not a JSON object")
    return value


def read_archive(filepath):
    """Open and check a ``.keras`` archive; returns :class:`ArchiveContents` (close it)."""
    path = os.fspath(filepath)
    with _open_zip(path) as archive:
        data = _read_members(path, archive)
    config = _parse_json(path, data[CONFIG], CONFIG)
    metadata = _parse_json(path, data[METADATA], METADATA) if METADATA in data else {}
    buffer = io.BytesIO(data[WEIGHTS])
    if not data[WEIGHTS].startswith(b"\x89HDF\r\n\x1a\n"):
        raise file_error(path, f"its {WEIGHTS} is not an HDF5 file")
    try:
        weights = h5py.File(buffer, "r")
    except (OSError, ValueError, RuntimeError) as err:
        raise file_error(path, f"its {WEIGHTS} is truncated or corrupted", err) from None
    return ArchiveContents(config, metadata, weights)


def hdf5_bytes(write):
    """The bytes of an HDF5 file that ``write(h5file)`` fills (built in memory)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        write(f)
    return buffer.getvalue()


def write_archive(filepath, config, metadata, weights_bytes):
    """Write the three members to ``filepath`` atomically (stored, as Keras writes them)."""
    path = os.fspath(filepath)
    with naming_errors(path, "saving the Keras archive"), atomic_write(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA, to_json(metadata))
            archive.writestr(CONFIG, to_json(config))
            archive.writestr(WEIGHTS, weights_bytes)
