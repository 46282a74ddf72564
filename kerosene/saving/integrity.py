"""A SHA-256 of an HDF5 file's whole content, so a flipped byte is an error, not a wrong model.

HDF5 itself notices damage to its own structures, and ``fletcher32`` notices damage
inside a chunked dataset, but neither covers attributes (where the JSON configs live)
or small unchunked datasets. kerosene stores this digest as a root attribute and
checks it on load; files written by Keras have none and are read without the check.

Example::

    with h5py.File(path, 'r') as f:
        verify_digest(f, path)
"""
from __future__ import annotations

import hashlib

import numpy as np

from .errors import file_error

__all__ = ["DIGEST_ATTR", "content_digest", "write_digest", "verify_digest"]

DIGEST_ATTR = "kerosene_sha256"


def _hash_value(h, value):
    if isinstance(value, bytes):
        h.update(b"b" + value)
    elif isinstance(value, str):
        h.update(b"s" + value.encode("utf8"))
    else:
        array = np.asarray(value)
        if array.dtype == object:
            for item in array.reshape(-1):
                _hash_value(h, item)
        else:
            h.update(array.dtype.str.encode() + repr(array.shape).encode())
            h.update(np.ascontiguousarray(array).tobytes())


def content_digest(group):
    """The SHA-256 (hex) of every name, attribute and dataset below ``group``, in sorted order."""
    h = hashlib.sha256()

    def visit(node, path):
        for key in sorted(node.attrs.keys()):
            if key == DIGEST_ATTR and path == "/":
                continue
            h.update(b"@" + path.encode("utf8") + b"@" + key.encode("utf8"))
            _hash_value(h, node.attrs[key])
        if hasattr(node, "keys"):
            for key in sorted(node.keys()):
                child = node[key]
                visit(child, path.rstrip("/") + "/" + key)
        else:
            h.update(b"#" + path.encode("utf8"))
            _hash_value(h, node[()])

    visit(group, "/")
    return h.hexdigest()


def write_digest(h5file):
    h5file.attrs[DIGEST_ATTR] = content_digest(h5file)


def verify_digest(h5file, path):
    """Raise :class:`SavedFileError` when the stored digest does not match the content."""
    if DIGEST_ATTR not in h5file.attrs:
        return
    stored = h5file.attrs[DIGEST_ATTR]
    stored = stored.decode("utf8") if isinstance(stored, bytes) else str(stored)
    try:
        actual = content_digest(h5file)
    except Exception as err:  # h5py raises OSError/KeyError/RuntimeError on damaged blocks
        raise file_error(path, "the file is damaged: its content cannot be read", err) from None
    if actual != stored:
        raise file_error(path, "the file is corrupted: its content does not match the checksum "
                               "kerosene stored when writing it")
