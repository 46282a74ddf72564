"""The error a bad saved file raises: it names the file and what is wrong with it."""
from __future__ import annotations

__all__ = ["SavedFileError", "file_error"]


class SavedFileError(ValueError):
    """A file that cannot be loaded: missing, truncated, corrupted, foreign or unsafe.

    Example::

        try:
            model.load_weights('weights.h5')
        except kerosene.saving.SavedFileError as err:
            print(err)   # Cannot load 'weights.h5': ... (the model is unchanged)
    """


def file_error(path, what, cause=None):
    """A :class:`SavedFileError` whose message names ``path`` and says ``what`` is wrong."""
    message = f"Cannot load {str(path)!r}: {what}"
    if cause is not None:
        detail = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        message += f" ({type(cause).__name__}: {detail})"
    return SavedFileError(message)
