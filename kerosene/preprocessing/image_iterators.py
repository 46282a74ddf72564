"""Batches of augmented images: ``Iterator``, ``NumpyArrayIterator`` and ``DirectoryIterator``.

Each is a ``keras.utils.Sequence`` (``len()``, ``it[i]``, ``on_epoch_end()`` reshuffles),
so ``fit``/``fit_generator`` read it by index, and also an endless Python iterator
(``next(it)``) as in Keras 2. ``ImageDataGenerator.flow`` and ``flow_from_directory``
make them::

    it = NumpyArrayIterator(x, y, ImageDataGenerator(horizontal_flip=True), batch_size=8, seed=1)
    x_batch, y_batch = it[0]

A ``seed`` reseeds numpy's global random state before each batch (Keras 2's way), which
makes both the shuffling and the random transforms repeatable.
"""
import os
import threading
import warnings

import numpy as np

from ..utils.data_utils import Sequence
from .image_io import array_to_img, check_color_mode, check_interpolation, img_to_array, load_img, resolve_data_format

__all__ = ["Iterator", "NumpyArrayIterator", "FileImageIterator", "DirectoryIterator", "CLASS_MODES",
           "IMAGE_EXTENSIONS", "subset_split"]

CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
SUBSETS = ("training", "validation")


def _check_positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{argument}` must be a positive int, got {value!r}")


def subset_split(image_data_generator, subset):
    """The ``(start, stop)`` fractions of the data that ``subset`` takes, or None for all of it.

    As in Keras 2, the validation subset is the first ``validation_split`` of the data.
    """
    if subset is None:
        return None
    if subset not in SUBSETS:
        raise ValueError(f"`subset` must be 'training', 'validation' or None, got {subset!r}")
    split = image_data_generator._validation_split
    if not split:
        raise ValueError(f"`subset={subset!r}` needs an ImageDataGenerator made with validation_split > 0 "
                         "(it has validation_split=0)")
    return (0.0, split) if subset == "validation" else (split, 1.0)


class Iterator(Sequence):
    """The base of the image iterators: ``n`` samples in batches of ``batch_size``, optionally shuffled.

    A subclass implements ``_get_batches_of_transformed_samples(index_array)``::

        class Squares(Iterator):
            def _get_batches_of_transformed_samples(self, index_array):
                return index_array ** 2

        Squares(10, batch_size=4, shuffle=False, seed=None)[2]   # array([64, 81])
    """

    def __init__(self, n, batch_size, shuffle, seed):
        _check_positive_int(batch_size, "batch_size")
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = bool(shuffle)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx):
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < len(self):
            raise ValueError(f"Asked for batch {idx!r} of a Sequence of {len(self)} batches (indices 0 to "
                             f"{len(self) - 1})")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        return self._get_batches_of_transformed_samples(
            self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)])

    def on_epoch_end(self):
        """Draw a new order of the samples (when shuffling)."""
        self._set_index_array()

    def reset(self):
        """Start ``next()`` again from the first batch of an epoch."""
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            if self.n == 0:
                raise ValueError(f"{type(self).__name__} has no samples: there is no batch to yield")
            start = (self.batch_index * self.batch_size) % self.n
            self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
            self.total_batches_seen += 1
            yield self.index_array[start:start + self.batch_size]

    def __iter__(self):
        # Keras 2's iterators loop forever (`for x, y in datagen.flow(...)` is ended by the caller).
        return self

    def __next__(self):
        return self.next()

    def next(self):
        """The next batch; after the last batch of an epoch, the first of the next one."""
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def state_dict(self):
        """Where the iterator stands (its order of samples and batch counters), for BackupAndRestore."""
        return {"index_array": None if self.index_array is None else self.index_array.copy(),
                "total_batches_seen": self.total_batches_seen, "batch_index": self.batch_index}

    def load_state_dict(self, state):
        self.index_array = None if state["index_array"] is None else np.asarray(state["index_array"])
        self.total_batches_seen = int(state["total_batches_seen"])
        self.batch_index = int(state["batch_index"])

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "_get_batches_of_transformed_samples(index_array)")

    def _save_batch(self, batch_x, index_array, hash_range):
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            name = f"{self.save_prefix}_{j}_{np.random.randint(hash_range)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, name))

    def _transform_into(self, batch_x, i, x):
        generator = self.image_data_generator
        x = generator.apply_transform(x, generator.get_random_transform(x.shape))
        batch_x[i] = generator.standardize(x)


def _split_misc(x):
    """``(images, extra)`` or ``[images, extra]`` into images and the list of extra arrays."""
    if type(x) in (tuple, list):
        if len(x) != 2:
            raise ValueError(f"`x` as a tuple must be (images, extra_array_or_list_of_arrays), got {len(x)} items")
        misc = [np.asarray(a) for a in x[1]] if type(x[1]) is list else [np.asarray(x[1])]
        for extra in misc:
            if len(extra) != len(x[0]):
                raise ValueError(f"All of the arrays in `x` should have the same length: the images have "
                                 f"{len(x[0])} samples, an extra array {len(extra)}")
        return x[0], misc
    return x, []


class NumpyArrayIterator(Iterator):
    """Batches ``(x, y)`` (or ``(x, y, sample_weight)``, or ``x`` alone when ``y`` is None) of
    randomly transformed and standardized images from a rank-4 array.

    ``x`` may be ``(images, extra)`` where ``extra`` is an array or a list of arrays
    passed through untouched: the batch's inputs are then ``[images, *extra]``::

        it = NumpyArrayIterator(np.zeros((10, 8, 8, 3)), np.arange(10), ImageDataGenerator(), batch_size=4)
        len(it), it[2][0].shape      # (3, (2, 8, 8, 3))
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="", save_format="png", subset=None, dtype=None):
        self.dtype = image_data_generator.dtype if dtype is None else dtype
        self.data_format = resolve_data_format(data_format)
        x, x_misc = _split_misc(x)
        if y is not None and len(x) != len(y):
            raise ValueError(f"`x` (images tensor) and `y` (labels) should have the same length. Found: "
                             f"x.shape = {np.shape(x)}, y.shape = {np.shape(y)}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(f"`x` (images tensor) and `sample_weight` should have the same length. Found: "
                             f"x.shape = {np.shape(x)}, sample_weight.shape = {np.shape(sample_weight)}")
        split = subset_split(image_data_generator, subset)
        if split is not None:
            cut = int(len(x) * split[1 if subset == "validation" else 0])
            part = slice(0, cut) if subset == "validation" else slice(cut, None)
            if y is not None and not np.array_equal(np.unique(np.asarray(y)[:cut]), np.unique(np.asarray(y)[cut:])):
                raise ValueError("Training and validation subsets have different number of classes after the "
                                 "split. If your numpy arrays are sorted by the label, you might want to shuffle "
                                 "them.")
            x, x_misc = x[part], [extra[part] for extra in x_misc]
            y = None if y is None else np.asarray(y)[part]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[part]
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError(f"Input data in `NumpyArrayIterator` should have rank 4 (samples, then one image); "
                             f"got an array of shape {self.x.shape}")
        channel_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channel_axis] not in (1, 3, 4):
            warnings.warn(f"NumpyArrayIterator expects images in {self.data_format} with 1, 3 or 4 channels on "
                          f"axis {channel_axis}, but the array has shape {self.x.shape} "
                          f"({self.x.shape[channel_axis]} channels)", UserWarning, stacklevel=2)
        self.x_misc = x_misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            self._transform_into(batch_x, i, self.x[j].astype(self.dtype))
        if self.save_to_dir:
            self._save_batch(batch_x, index_array, 10 ** 4)
        inputs = [batch_x] + [extra[index_array] for extra in self.x_misc] if self.x_misc else batch_x
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]


def _image_files(directory, follow_links):
    """``(root, filename)`` of the image files under ``directory``, in a stable sorted order."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda walked: walked[0]):
        for name in sorted(files):
            if name.lower().rsplit(".", 1)[-1] in IMAGE_EXTENSIONS and "." in name:
                yield root, name


class FileImageIterator(Iterator):
    """The base of the iterators that read image files: resizing, colour mode and the targets.

    A subclass calls ``_configure(...)``, fills ``filenames`` (relative to ``directory``, or
    absolute), ``classes`` (each file's class index), ``class_indices`` and ``num_classes``
    (or ``data``, the targets of class_mode 'other'), then ``Iterator.__init__``::

        it = DirectoryIterator('data/train', ImageDataGenerator(), target_size=(32, 32))
        it.image_shape        # (32, 32, 3)
    """

    _CLASS_MODES = CLASS_MODES

    def _configure(self, directory, image_data_generator, target_size, color_mode, class_mode, data_format,
                   save_to_dir, save_prefix, save_format, subset, interpolation, dtype):
        if (not isinstance(target_size, (tuple, list)) or len(target_size) != 2
                or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                           for s in target_size)):
            raise ValueError(f"`target_size` must be (height, width), two positive ints; got {target_size!r}")
        check_color_mode(color_mode)
        check_interpolation(interpolation)
        if class_mode not in self._CLASS_MODES:
            names = ", ".join(repr(m) for m in self._CLASS_MODES)
            raise ValueError(f"`class_mode` must be one of {names}, got {class_mode!r}")
        self.directory = directory
        self.image_data_generator = image_data_generator
        self.target_size = tuple(int(s) for s in target_size)
        self.color_mode = color_mode
        self.data_format = resolve_data_format(data_format)
        channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
        self.image_shape = (self.target_size + (channels,) if self.data_format == "channels_last"
                            else (channels,) + self.target_size)
        self.class_mode = class_mode
        self.dtype = image_data_generator.dtype if dtype is None else dtype
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self.interpolation = interpolation
        self.subset = subset
        self.split = subset_split(image_data_generator, subset)

    @property
    def filepaths(self):
        """The full path of every image, in the order of ``filenames``."""
        return [os.path.join(self.directory, name) for name in self.filenames]

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index_array):
            img = load_img(os.path.join(self.directory, self.filenames[j]), color_mode=self.color_mode,
                           target_size=self.target_size, interpolation=self.interpolation)
            self._transform_into(batch_x, i, img_to_array(img, data_format=self.data_format, dtype=self.dtype))
        if self.save_to_dir:
            self._save_batch(batch_x, index_array, 10 ** 7)
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode == "other":
            return batch_x, self.data[index_array]
        if self.class_mode is None:
            return batch_x
        labels = self.classes[index_array]
        if self.class_mode == "sparse":
            return batch_x, labels
        if self.class_mode == "binary":
            return batch_x, labels.astype(self.dtype)
        return batch_x, np.eye(self.num_classes, dtype=self.dtype)[labels]


class DirectoryIterator(FileImageIterator):
    """Batches of images read from ``directory``, one subdirectory per class (searched recursively).

    ``class_mode`` picks the targets: 'categorical' (one-hot), 'binary' (0/1 floats),
    'sparse' (class indices), 'input' (a copy of the images) or None (images only).
    ``class_indices`` maps each class name to its index (alphabetical unless ``classes``
    gives the list); ``filenames`` are relative to ``directory``::

        it = DirectoryIterator('data/train', ImageDataGenerator(rescale=1 / 255), target_size=(64, 64))
        it.class_indices      # {'cats': 0, 'dogs': 1}
    """

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True, seed=None, data_format=None,
                 save_to_dir=None, save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", dtype=None):
        self._configure(directory, image_data_generator, target_size, color_mode, class_mode, data_format,
                        save_to_dir, save_prefix, save_format, subset, interpolation, dtype)
        if not os.path.isdir(directory):
            raise ValueError(f"`directory` must be an existing directory, got {directory!r}")
        if not classes:
            classes = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        self.num_classes = len(classes)
        self.class_indices = {name: index for index, name in enumerate(classes)}
        self.filenames, labels = [], []
        for name in classes:
            class_dir = os.path.join(directory, name)
            found = list(_image_files(class_dir, follow_links))
            if self.split is not None:
                found = found[int(self.split[0] * len(found)):int(self.split[1] * len(found))]
            for root, filename in found:
                self.filenames.append(os.path.join(name, os.path.relpath(os.path.join(root, filename), class_dir)))
                labels.append(self.class_indices[name])
        self.samples = len(self.filenames)
        self.classes = np.array(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)
