"""``DataFrameIterator``: batches of images named in a pandas DataFrame (``flow_from_dataframe``).

Each row names one image file (``x_col``, relative to ``directory`` or absolute) and its
target (``y_col``)::

    df = pandas.DataFrame({'filename': ['a.png', 'b.png'], 'class': ['cat', 'dog']})
    it = DataFrameIterator(df, 'images/', ImageDataGenerator(), target_size=(64, 64))
    it.class_indices          # {'cat': 0, 'dog': 1}

Rows whose file is missing (or not an image) are left out, as are rows without a target.
"""
import os

import numpy as np

from .image_iterators import CLASS_MODES, IMAGE_EXTENSIONS, FileImageIterator

__all__ = ["DataFrameIterator"]

_NO_CLASSES = ("other", "input", None)


def _has_image_extension(name):
    return "." in name and name.lower().rsplit(".", 1)[-1] in IMAGE_EXTENSIONS


def _find_file(directory, name, has_ext):
    """The file ``name`` names under ``directory`` (trying each image extension when ``has_ext`` is False)."""
    if has_ext:
        return name if _has_image_extension(name) and os.path.isfile(os.path.join(directory, name)) else None
    for ext in IMAGE_EXTENSIONS:
        candidate = f"{name}.{ext}"
        if os.path.isfile(os.path.join(directory, candidate)):
            return candidate
    return None


def _missing(value):
    return value is None or (isinstance(value, float) and np.isnan(value))


def _sorted_classes(targets):
    """The distinct class names, sorted (in order of first appearance when they do not compare)."""
    distinct = list(dict.fromkeys(t for t in targets if not _missing(t)))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


class DataFrameIterator(FileImageIterator):
    """Batches of images whose files ``dataframe[x_col]`` names, with targets from ``y_col``.

    ``class_mode`` 'categorical', 'binary' or 'sparse' reads class names from ``y_col``
    (indices in sorted order unless ``classes`` lists them; rows of other classes are
    dropped); 'other' yields the raw numeric values of ``y_col`` (a column or a list of
    columns); 'input' yields the images; None, no targets. ``has_ext=False`` means the
    names carry no extension::

        it = DataFrameIterator(df, 'images/', ImageDataGenerator(), x_col='id', y_col=['w', 'h'],
                               has_ext=False, class_mode='other')
        x_batch, wh = it[0]       # wh: (batch, 2)
    """

    _CLASS_MODES = CLASS_MODES + ("other",)

    def __init__(self, dataframe, directory, image_data_generator, x_col="filename", y_col="class", has_ext=True,
                 target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None, save_prefix="", save_format="png",
                 follow_links=False, subset=None, interpolation="nearest", dtype=None):
        self._configure(directory, image_data_generator, target_size, color_mode, class_mode, data_format,
                        save_to_dir, save_prefix, save_format, subset, interpolation, dtype)
        if not isinstance(x_col, str):
            raise ValueError(f"`x_col` must be the name of the column of filenames (a str), got {x_col!r}")
        if not isinstance(has_ext, bool):
            raise ValueError(f"`has_ext` must be True (the filenames have extensions) or False, got {has_ext!r}")
        if classes and class_mode in _NO_CLASSES:
            raise ValueError(f"`classes` cannot be given with class_mode={class_mode!r} (it reads no classes)")
        for column in ([x_col] + ([] if class_mode in ("input", None) else
                                  ([y_col] if isinstance(y_col, str) else list(y_col)))):
            if column not in dataframe.columns:
                raise ValueError(f"The DataFrame has no column {column!r}; its columns are {list(dataframe.columns)}")
        directory = "" if directory is None else directory
        self.directory = directory
        frame = dataframe.drop_duplicates(x_col)
        names = [str(n) for n in frame[x_col]]
        if has_ext and names and not any(_has_image_extension(n) for n in names):
            raise ValueError(f"has_ext=True but no filename in column {x_col!r} ends in an image extension "
                             f"({', '.join(IMAGE_EXTENSIONS)}); pass has_ext=False if they have none")
        if class_mode not in _NO_CLASSES and not isinstance(y_col, str):
            raise ValueError(f"class_mode={class_mode!r} reads class names from one column: `y_col` must be a str, "
                             f"got {y_col!r} (a list of columns goes with class_mode='other')")
        targets = None if class_mode in ("input", None) else frame[y_col].to_numpy()
        if class_mode not in _NO_CLASSES:
            classes = list(classes) if classes else _sorted_classes(targets)
        keep = []
        for row, name in enumerate(names):
            found = _find_file(directory, name, has_ext)
            if found is None or (class_mode not in _NO_CLASSES and targets[row] not in classes):
                continue
            keep.append((row, found))
        if self.split is not None:
            keep = keep[int(self.split[0] * len(keep)):int(self.split[1] * len(keep))]
        rows = np.array([row for row, _ in keep], dtype="int64")
        self.filenames = [found for _, found in keep]
        self.samples = len(self.filenames)
        self.class_indices = {} if class_mode in _NO_CLASSES else {c: i for i, c in enumerate(classes)}
        self.num_classes = len(self.class_indices)
        self.classes = (np.array([self.class_indices[t] for t in targets[rows]], dtype="int32")
                        if self.class_indices else None)
        if class_mode == "other":
            values = np.asarray(targets[rows]) if len(rows) else np.asarray(targets)
            if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
                raise TypeError(f"y_col column/s must be numeric datatypes for class_mode='other': {y_col!r} "
                                f"holds {values.dtype} values")
            self.data = values
        described = f" belonging to {self.num_classes} classes" if self.num_classes else ""
        print(f"Found {self.samples} images{described}.")
        super().__init__(self.samples, batch_size, shuffle, seed)
