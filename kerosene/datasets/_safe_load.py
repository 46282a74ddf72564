"""Loading dataset files without running code from them.

``.npz`` arrays of plain dtypes load with ``allow_pickle=False``. Object arrays (imdb,
reuters) and CIFAR's pickled batches go through a restricted unpickler that can only
build numpy arrays and plain containers, and callers use it only on files whose
hash matched the published one.
"""
import io
import pickle
import zipfile

import numpy as np

from ..utils.data_utils import hash_file

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # how protocol-2 pickles made by Python 3 store bytes
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Refusing to load {module}.{name}: dataset files may only hold "
                                     "numpy arrays, numbers, strings, lists and dicts")


def unpickle_arrays(stream, encoding="bytes"):
    """Unpickle data made only of numpy arrays and plain Python containers."""
    return _ArrayUnpickler(stream, encoding=encoding).load()


def require_hash(path, known_hash, origin):
    """Raise unless the file's hash is the published one (checked before any pickle is read)."""
    algorithm = "sha256" if len(known_hash) == 64 else "md5"
    got = hash_file(path, algorithm)
    if got != known_hash:
        raise ValueError(f"{path} has {algorithm} {got}, not the published {known_hash} of {origin}; "
                         "its arrays need pickle, so it is not loaded. Delete it so it is downloaded again.")


def _read_npy(stream, allow_objects):
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        if not allow_objects:
            raise ValueError("The file holds object arrays, which need pickle; refused")
        return unpickle_arrays(stream, encoding="latin1")
    data = stream.read()
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()


def load_npz(path, allow_objects=False):
    """A dict of the arrays in an ``.npz`` file."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            key = name[:-4] if name.endswith(".npy") else name
            with archive.open(name) as member:
                out[key] = _read_npy(io.BufferedReader(member), allow_objects)
    return out
