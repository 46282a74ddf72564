"""CSVLogger: one CSV row per epoch, flushed to disk as it is written."""
from __future__ import annotations

import collections.abc
import csv
import os

import numpy as np

from .. import distributed
from ..saving.atomic import atomic_write, check_destination, naming_errors
from .base import Callback

__all__ = ["CSVLogger"]

_MISSING = "NA"


class CSVLogger(Callback):
    """Stream each epoch's logs to a CSV file.

    The header is ``epoch`` followed by the sorted log keys: every key that
    ``params['metrics']`` says the run can log (so ``val_*`` columns exist from the
    start even with ``validation_freq > 1``) plus the keys the first epoch's logs hold
    (such as ``lr`` from ReduceLROnPlateau). A value missing from an epoch is written
    ``NA``; lists and arrays are written as ``"[a, b, c]"`` as Keras does. Each row is
    flushed and fsynced as it is written, so a crash loses at most the current epoch.

    ``append=True`` continues an existing file without a second header; a file whose
    header lacks ``epoch`` or one of the run's metrics is refused with a ``ValueError``
    at ``on_train_begin``, before any training. Only the main process writes.

    ``state_dict()`` holds the header and the number of rows written, so a resumed run
    drops rows written after the state was saved and continues the same file.

    Example::

        csv_logger = CSVLogger('training.log', separator=',', append=False)
        model.fit(x, y, epochs=10, callbacks=[csv_logger])
        pandas.read_csv('training.log')
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger `filename` must be a path (str or os.PathLike), got "
                            f"{type(filename).__name__} {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1 or separator in "\"\r\n":
            raise ValueError(f"CSVLogger `separator` must be a single character other than a quote or a "
                             f"newline, got {separator!r}")
        if not isinstance(append, (bool, np.bool_)):
            raise TypeError(f"CSVLogger `append` must be True or False, got {append!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self.rows_written = 0
        self._file = None
        self._writer = None
        self._resume_lines = None
        self._lines = 0
        self._open_mode = None

    # --- opening ---------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        """Check an appended file's header now; the file itself is opened at the first row.

        Opening late lets a state restored after ``on_train_begin`` (BackupAndRestore)
        continue the file instead of finding it already truncated.
        """
        self._close()
        self._resume_lines = None
        self.keys = None
        self.rows_written = 0
        self._open_mode = None
        if not distributed.is_main_process():
            return
        check_destination(self.filename, "CSVLogger `filename`")
        if self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0:
            with naming_errors(self.filename, "CSVLogger(append=True) reading"):
                header = self._read_header()
            self._check_header(header)
            self.keys = header[1:]
            self._lines = _count_lines(self.filename)
            self._open_mode = "a"
        else:
            self._lines = _count_lines(self.filename) if self.append and os.path.exists(self.filename) else 0
            self._open_mode = "a" if self.append else "w"

    def _ensure_open(self):
        if self._file is not None or self._open_mode is None:
            return self._file is not None
        if self._resume_lines is not None:
            self._truncate_to(self._resume_lines)
            self._lines = self._resume_lines
            self._resume_lines = None
            self._open("a")
        else:
            self._open(self._open_mode)
        return True

    def _open(self, mode):
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        torn = mode == "a" and _ends_without_newline(self.filename)
        with naming_errors(self.filename, "CSVLogger opening"):
            self._file = open(self.filename, mode, newline="", encoding="utf-8")
            if torn:
                # A row cut short (a kill mid-write, another program) is ended, not glued onto.
                self._file.write("\n")
        self._writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")

    def _read_header(self):
        with open(self.filename, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=self.sep)
            return next(reader, [])

    def _check_header(self, header):
        metrics = list((self.params or {}).get("metrics") or [])
        missing = [k for k in ["epoch"] + metrics if k not in header]
        if not header or header[0] != "epoch" or missing:
            raise ValueError(
                f"CSVLogger(append=True): {self.filename!r} has the header {header!r}, which does not fit "
                f"this run (it needs 'epoch' first and the columns {metrics}; missing: {missing}). "
                f"Use a new file, or append=False to overwrite it")

    def _truncate_to(self, count):
        """Keep the first ``count`` lines (a resumed run rewrites the epochs after its state)."""
        if not os.path.exists(self.filename):
            return
        with naming_errors(self.filename, "CSVLogger resuming"), open(
                self.filename, newline="", encoding="utf-8") as handle:
            lines = handle.read().splitlines(keepends=True)
        kept = lines[:count]
        if len(kept) == len(lines):
            return
        with atomic_write(self.filename, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(kept)

    # --- writing ---------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        if not self._ensure_open():
            return
        logs = dict(logs or {})
        if self.keys is None:
            metrics = list((self.params or {}).get("metrics") or [])
            self.keys = sorted(set(metrics) | set(logs))
            self._write_row(["epoch"] + self.keys)
        row = [epoch] + [_format(logs[k]) if k in logs else _MISSING for k in self.keys]
        self._write_row(row)
        self.rows_written += 1

    def _write_row(self, row):
        with naming_errors(self.filename, "CSVLogger writing"):
            self._writer.writerow(row)
            self._file.flush()
            os.fsync(self._file.fileno())
        self._lines += 1

    def on_train_end(self, logs=None):
        self._close()
        self._open_mode = None

    def _close(self):
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass

    # --- state -----------------------------------------------------------------------------
    def state_dict(self):
        return {"filename": self.filename, "keys": None if self.keys is None else list(self.keys),
                "rows_written": self.rows_written,
                # a restored line count not yet applied (file opens at the first row) is the true one
                "lines": self._lines if self._resume_lines is None else self._resume_lines}

    def load_state_dict(self, state):
        """Continue the file at ``rows_written`` rows (later rows are dropped at train begin)."""
        self.keys = None if state.get("keys") is None else list(state["keys"])
        self.rows_written = int(state["rows_written"])
        self._resume_lines = int(state["lines"])


def _ends_without_newline(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) not in (b"\n", b"\r")
    except FileNotFoundError:
        return False


def _count_lines(path):
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def _format(value):
    if isinstance(value, str):
        return value
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return str(value.item())
    if isinstance(value, collections.abc.Iterable):
        return '"[%s]"' % ", ".join(str(v) for v in value)
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)
