"""Training curves from a History or a CSVLogger file, as a matplotlib Figure.

One panel per metric, the training curve and its ``val_`` twin in the same panel, with
labelled axes and a legend. The figure is built without ``pyplot``, so it needs no
display, leaves no global state behind and works the same in scripts, on servers and
in notebooks (where a returned Figure shows itself).

Example::

    history = model.fit(x, y, validation_split=0.2, epochs=10)
    fig = plot_history(history)            # or plot_history('training.log')
    fig.savefig('curves.png')
"""
from __future__ import annotations

import csv
import math
import os

__all__ = ["plot_history", "read_history_csv", "history_to_dict"]

# Keys that are bookkeeping, not curves; the learning rate is drawn only when asked for.
_NOT_CURVES = {"epoch", "batch", "size"}
_HIDDEN_BY_DEFAULT = {"lr", "learning_rate"}

_MISSING_MATPLOTLIB = (
    "plot_history needs matplotlib, which is not installed. Install the plot extra with "
    "`pip install 'kerosene[plot]'` (or `pip install matplotlib`).")


def _require_matplotlib():
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(_MISSING_MATPLOTLIB) from error
    return Figure


def _to_float(text):
    text = text.strip()
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_history_csv(path, separator=","):
    """Read a CSVLogger file into ``(epochs, {key: [values]})``; empty cells become NaN.

    Example::

        epochs, curves = read_history_csv('training.log')
        curves['val_loss']
    """
    path = os.fspath(path)
    if not isinstance(separator, str) or len(separator) != 1:
        raise ValueError(f"separator={separator!r}: expected one character, as given to CSVLogger")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No CSV log at {path!r}: give the file a CSVLogger wrote")
    with open(path, newline="", encoding="utf8") as handle:
        rows = list(csv.reader(handle, delimiter=separator))
    if not rows or not rows[0]:
        raise ValueError(f"The CSV log {path!r} is empty: it has no header row")
    header = [name.strip() for name in rows[0]]
    body = [row for row in rows[1:] if row]
    columns = {name: [] for name in header}
    for line_number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"The CSV log {path!r} has {len(row)} cells on line {line_number}, "
                             f"but its header names {len(header)} columns")
        for name, cell in zip(header, row):
            columns[name].append(_to_float(cell))
    epochs = columns.pop("epoch", None)
    if epochs is None:
        epochs = list(range(len(body)))
    return [int(e) if not math.isnan(e) else i for i, e in enumerate(epochs)], columns


def history_to_dict(history_or_csv, separator=","):
    """``(epochs, {key: [floats]})`` from a History, a ``history.history`` dict or a CSV path."""
    source = history_or_csv
    if isinstance(source, (str, os.PathLike)):
        return read_history_csv(source, separator=separator)
    if hasattr(source, "history") and isinstance(getattr(source, "history"), dict):
        curves = source.history
        epochs = list(getattr(source, "epoch", None) or [])
    elif isinstance(source, dict):
        curves, epochs = source, []
    else:
        raise TypeError(
            "plot_history(history_or_csv): expected a History (what fit returns), a dict of "
            f"per-epoch lists (history.history) or the path of a CSVLogger file; got {type(source).__name__}")
    curves = {key: [_plain(v) for v in values] for key, values in curves.items()
              if isinstance(values, (list, tuple))}
    length = max((len(v) for v in curves.values()), default=0)
    if len(epochs) != length:
        epochs = list(range(length))
    return epochs, curves


def _plain(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _default_metrics(curves):
    bases = []
    for key in curves:
        base = key[4:] if key.startswith("val_") else key
        if base in _NOT_CURVES or base in _HIDDEN_BY_DEFAULT or base in bases:
            continue
        bases.append(base)
    # The loss first, as Keras users expect to read it.
    return sorted(bases, key=lambda name: (name != "loss", bases.index(name)))


def _pretty(name):
    return {"acc": "accuracy", "lr": "learning rate", "mse": "mean squared error",
            "mae": "mean absolute error"}.get(name, name.replace("_", " "))


def plot_history(history_or_csv, metrics=None, title=None, figsize=None, ncols=None, filepath=None, dpi=100,
                 separator=","):
    """Plot training curves; returns a ``matplotlib.figure.Figure``.

    ``history_or_csv``: a History (what ``fit`` returns), a ``history.history`` dict, or
    the path of a file CSVLogger wrote. ``metrics``: names to draw (``['loss', 'acc']``);
    by default every metric in the logs, the loss first. Each panel draws the training
    curve and, when present, its ``val_`` twin. ``filepath`` also saves the figure
    (PNG, SVG or PDF, from the extension). ``separator`` is the CSV file's, as given
    to CSVLogger.

    Example::

        fig = plot_history(history, metrics=['loss', 'accuracy'])
        fig.savefig('curves.png')
    """
    Figure = _require_matplotlib()
    if filepath is not None:
        _image_format(filepath)
    epochs, curves = history_to_dict(history_or_csv, separator=separator)
    if metrics is None:
        names = _default_metrics(curves)
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)) or not all(isinstance(m, str) for m in metrics):
            raise TypeError(f"plot_history(metrics=...): expected a list of metric names, got {metrics!r}")
        names = [m[4:] if m.startswith("val_") else m for m in metrics]
        known = [k for k in curves if k not in _NOT_CURVES]
        absent = [m for m in names if m not in curves and "val_" + m not in curves]
        if absent:
            raise ValueError(f"plot_history(metrics={list(metrics)!r}): {absent} not in the logs; "
                             f"the logs hold {known}")
    if not names:
        raise ValueError("plot_history: the history holds no curves to draw (was fit run for at least one epoch?); "
                         f"keys found: {list(curves)}")
    if ncols is None:
        ncols = min(len(names), 3)
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"plot_history(ncols=...): expected a positive int, got {ncols!r}")
    nrows = math.ceil(len(names) / ncols)
    figsize = figsize or (5.0 * ncols, 3.8 * nrows)
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    xs = [e + 1 for e in epochs]  # people count epochs from 1, as the progress bar does
    for index, name in enumerate(names):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        train_label = _pretty(name) if name in _HIDDEN_BY_DEFAULT else "train"
        for key, label, style in ((name, train_label, "-"), ("val_" + name, "validation", "--")):
            values = curves.get(key)
            if values is None:
                continue
            ax.plot(xs[:len(values)], values, style, marker="o" if len(values) < 30 else None,
                    markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(_pretty(name))
        ax.set_title(_pretty(name))
        ax.grid(True, alpha=0.3)
        if name in _HIDDEN_BY_DEFAULT:
            ax.set_yscale("log")
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    if filepath is not None:
        save_figure(fig, filepath)
    return fig


_IMAGE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg")


def _image_format(filepath):
    filepath = os.fspath(filepath)
    ext = os.path.splitext(filepath)[1].lower().lstrip(".")
    if ext not in _IMAGE_FORMATS:
        raise ValueError(f"filepath={filepath!r}: the image format comes from the extension; "
                         f"accepted extensions: {', '.join('.' + e for e in _IMAGE_FORMATS)}")
    return ext


def save_figure(fig, filepath, image_format=None, dpi=None):
    """Save ``fig`` atomically (a reader never sees half an image); the format comes from the
    extension unless ``image_format`` names it."""
    # deferred: kerosene.utils loads while kerosene.saving is still importing (utils.tree is a bottom floor)
    from ..saving.atomic import atomic_write
    filepath = os.fspath(filepath)
    ext = _image_format(filepath if image_format is None else f"x.{image_format}")
    with atomic_write(filepath, "wb") as handle:
        fig.savefig(handle, format=ext, **({} if dpi is None else {"dpi": dpi}))
    return filepath
