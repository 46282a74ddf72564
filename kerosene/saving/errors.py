"""The error a bad saved file raises (defined in :mod:`kerosene.errors`, named here for saving code)."""
from __future__ import annotations

from ..errors import SavedFileError, file_error

__all__ = ["SavedFileError", "file_error"]
