"""Warnings that point at the user's line, not at the kerosene frame that noticed the problem.

A callback's warning is raised several frames below the user's ``fit`` call (loop, hook
dispatch, the callback); a fixed ``stacklevel`` breaks whenever that depth changes, so the
level is found by walking up to the first frame outside the package.

    >>> from kerosene._user_warning import warn_user
"""
from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn_user"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message, category=UserWarning):
    """``warnings.warn`` attributed to the nearest caller outside kerosene."""
    level = 2  # 2: the caller of warn_user
    frame = sys._getframe(1)
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
