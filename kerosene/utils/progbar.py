"""Keras's progress bar (``Progbar``), fit for a terminal, a log file and a notebook.

    >>> import io
    >>> from kerosene.utils.progbar import Progbar
    >>> bar = Progbar(2, stream=io.StringIO())
    >>> bar.update(2, [('loss', 0.5)], finalize=True)

This module imports nothing of kerosene; ``ProgbarLogger`` (a callback) and the data
download helpers draw with it.
"""
from __future__ import annotations

import os
import sys
import time

__all__ = ["Progbar"]


def _is_notebook():
    return "ipykernel" in sys.modules


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _format_value(value):
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"
    return str(value)


def _format_duration(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """A text progress bar in Keras's look.

    It redraws in place (``\\r``) only on a terminal or in a notebook, at most every
    ``interval`` seconds; written to a file it prints one line when the target is reached.

    Example::

        bar = Progbar(target=10)
        for i in range(10):
            bar.update(i + 1, [('loss', 0.5)])
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stream=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stream = stream or sys.stdout
        self.unit_name = unit_name
        self.dynamic = _is_terminal(self.stream) or _is_notebook() or bool(os.environ.get("KEROSENE_DYNAMIC_PROGBAR"))
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_len = 0

    def bar(self, current):
        if self.target is None:
            return f"{current}/Unknown"
        digits = len(str(self.target))
        done = min(current, self.target)
        filled = int(self.width * done / self.target) if self.target else self.width
        body = "=" * max(filled - 1, 0)
        if done < self.target:
            body += ">" if filled > 0 else ""
        else:
            body += "=" if filled > 0 else ""
        return f"{current:{digits}d}/{self.target} [{body}{'.' * (self.width - len(body))}]"

    def line(self, current, values, finished):
        elapsed = time.monotonic() - self.start
        parts = [self.bar(current)]
        if finished:
            per_step = elapsed / max(current, 1)
            parts.append(f"- {_format_duration(elapsed)} {_format_per_step(per_step)}")
        elif self.target:
            eta = elapsed / max(current, 1) * (self.target - current)
            parts.append(f"- ETA: {_format_duration(eta)}")
        for key, value in values:
            parts.append(f"- {key}: {_format_value(value)}")
        return " ".join(parts)

    def update(self, current, values=(), finalize=None):
        """Show progress ``current``; ``values`` is a list of ``(name, number)`` pairs."""
        finished = finalize if finalize is not None else (self.target is not None and current >= self.target)
        if self.verbose == 2:
            if finished:
                elapsed = time.monotonic() - self.start
                shown = " - ".join(f"{k}: {_format_value(v)}" for k, v in values)
                prefix = f"{current}/{self.target}" if self.target else f"{current}"
                text = f"{prefix} - {_format_duration(elapsed)} - {_format_per_step(elapsed / max(current, 1))}"
                self.stream.write(text + (f" - {shown}" if shown else "") + "\n")
                self.stream.flush()
            return
        if not self.dynamic:
            if finished:
                self.stream.write(self.line(current, values, True) + "\n")
                self.stream.flush()
            return
        now = time.monotonic()
        if not finished and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        text = self.line(current, values, finished)
        pad = " " * max(self._last_len - len(text), 0)
        self._last_len = len(text)
        self.stream.write("\r" + text + pad + ("\n" if finished else ""))
        self.stream.flush()

    def due(self):
        """True when a dynamic bar would redraw now (so the caller knows to fetch values)."""
        return self.dynamic and self.verbose == 1 and time.monotonic() - self._last_draw >= self.interval
