"""The errors kerosene raises on purpose, in one place at the bottom of the package.

Every module may import from here; this module imports nothing of kerosene.

Example::

    from kerosene.errors import NotCompiledError
    try:
        model.fit(x, y)
    except NotCompiledError:
        model.compile(optimizer='sgd', loss='mse')
"""
from __future__ import annotations

__all__ = ["UninterpretableError", "NotCompiledError", "SavedFileError", "NotSerializableError", "BackupError",
           "DistributedLaunchError", "DownloadError", "file_error"]


class UninterpretableError(TypeError, ValueError):
    """An identifier ``get`` cannot turn into a loss, metric or activation (Keras 2 raises ValueError,
    kerosene raised TypeError: both catch it)."""


class NotCompiledError(RuntimeError, ValueError):
    """Raised when a model is trained or evaluated before ``compile``."""


class SavedFileError(ValueError):
    """A file that cannot be loaded: missing, truncated, corrupted, foreign or unsafe.

    Example::

        try:
            model.load_weights('weights.h5')
        except kerosene.saving.SavedFileError as err:
            print(err)   # Cannot load 'weights.h5': ... (the model is unchanged)
    """


class NotSerializableError(ValueError):
    """A model holds something a config cannot describe (use ``save_weights`` instead).

    Example::

        try:
            model.save('m.h5')
        except NotSerializableError:
            model.save_weights('m.weights.h5')
    """


class BackupError(ValueError):
    """A backup that cannot be used: corrupt, from another layout, or for another model."""


class DistributedLaunchError(RuntimeError):
    """The torch.distributed launch is broken: bad environment, unreachable master, peers that never came."""


class DownloadError(OSError):
    """A file could not be downloaded; the message names the URL and where to put it by hand."""


def file_error(path, what, cause=None):
    """A :class:`SavedFileError` whose message names ``path`` and says ``what`` is wrong."""
    message = f"Cannot load {str(path)!r}: {what}"
    if cause is not None:
        detail = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        message += f" ({type(cause).__name__}: {detail})"
    return SavedFileError(message)
