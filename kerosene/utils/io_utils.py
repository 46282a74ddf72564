"""Keras 2's ``keras.utils.io_utils``: a dataset of an HDF5 file used in place of a numpy array,
and the overwrite prompt.

    x_train = HDF5Matrix('data.h5', 'features', start=0, end=1000)
    model.fit(x_train, y_train, shuffle='batch')   # rows are read from the file
"""
import numbers

import h5py
import numpy as np

__all__ = ["HDF5Matrix", "ask_to_proceed_with_overwrite"]


class HDF5Matrix:
    """Rows ``start:end`` of the dataset ``dataset`` in the HDF5 file ``datapath``, indexed like a
    numpy array (ints, slices, lists or arrays of row numbers; no negative indices) and read from
    the file at each access; ``normalizer`` is applied to every block read.

        >>> import h5py, numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), 'd.h5')
        >>> with h5py.File(path, 'w') as f:
        ...     _ = f.create_dataset('x', data=np.arange(12.0).reshape(6, 2))
        >>> HDF5Matrix(path, 'x', start=2, end=5)[0].tolist()
        [4.0, 5.0]
    """

    refs = {}   # open files by path, shared by the matrices reading them (Keras 2's attribute)

    def __init__(self, datapath, dataset, start=0, end=None, normalizer=None):
        if datapath not in HDF5Matrix.refs:
            try:
                HDF5Matrix.refs[datapath] = h5py.File(datapath, "r")
            except OSError as err:
                raise OSError(f"HDF5Matrix: cannot open `datapath` {datapath!r} for reading: {err}") from err
        handle = HDF5Matrix.refs[datapath]
        if dataset not in handle:
            raise KeyError(f"HDF5Matrix: `dataset` {dataset!r} is not in {datapath!r} (it holds "
                           f"{', '.join(sorted(handle))})")
        self.data = handle[dataset]
        self.start = int(start)
        self.end = self.data.shape[0] if end is None else int(end)
        if not 0 <= self.start <= self.end <= self.data.shape[0]:
            raise ValueError(f"HDF5Matrix: `start`={start!r}, `end`={end!r} must satisfy 0 <= start <= end <= "
                             f"{self.data.shape[0]} (the rows of {dataset!r})")
        self.normalizer = normalizer
        if normalizer is not None:
            first = normalizer(self.data[:1])
            self._row_shape, self._dtype = first.shape[1:], first.dtype
        else:
            self._row_shape, self._dtype = self.data.shape[1:], self.data.dtype

    def __len__(self):
        return self.end - self.start

    def _rows(self, indices):
        indices = [int(i) for i in indices]
        if any(i < 0 or i >= len(self) for i in indices):
            raise IndexError(f"HDF5Matrix: row index out of range 0..{len(self) - 1} in {indices[:5]}")
        absolute = np.asarray(indices, dtype=np.int64) + self.start
        order = np.argsort(absolute, kind="stable")       # h5py reads increasing indices only
        unique, inverse = np.unique(absolute[order], return_inverse=True)
        block = self.data[unique.tolist()] if len(unique) else self.data[0:0]
        out = np.empty((len(indices),) + block.shape[1:], dtype=block.dtype)
        out[order] = block[inverse]
        return out

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if key.start is not None and key.start >= len(self) and len(self) > 0:
                raise IndexError(f"HDF5Matrix: slice start {key.start} is past the last row ({len(self) - 1})")
            block = self.data[self.start + start:self.start + stop:step] if step > 0 else \
                self._rows(range(start, stop, step))
        elif isinstance(key, numbers.Integral) and not isinstance(key, bool):
            if not 0 <= key < len(self):
                raise IndexError(f"HDF5Matrix: row {key} is out of range 0..{len(self) - 1}")
            block = self.data[self.start + int(key)]
        elif isinstance(key, (list, tuple, range, np.ndarray)):
            block = self._rows(np.asarray(key).reshape(-1))
        else:
            raise TypeError(f"HDF5Matrix: index with an int, a slice, or a list/array of row numbers, got "
                            f"{type(key).__name__}")
        return block if self.normalizer is None else self.normalizer(block)

    @property
    def shape(self):
        return (len(self),) + tuple(self._row_shape)

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __array__(self, dtype=None, copy=None):
        out = self[0:len(self)]
        return out if dtype is None else out.astype(dtype)


def ask_to_proceed_with_overwrite(filepath):
    """Ask on the terminal whether to overwrite ``filepath``; True for yes ('y'), False for no ('n')."""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n] ").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel). ').strip().lower()
    return answer == "y"
