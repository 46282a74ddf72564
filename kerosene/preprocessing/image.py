"""Keras 2's ``keras.preprocessing.image``: real-time image augmentation with ``ImageDataGenerator``.

    from kerosene.preprocessing.image import ImageDataGenerator

    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, horizontal_flip=True)
    model.fit_generator(datagen.flow(x_train, y_train, batch_size=32),
                        steps_per_epoch=len(x_train) // 32, epochs=10)

The functions Keras 2.2.4 exports here (``load_img``, ``img_to_array``, ``random_rotation``,
``apply_affine_transform``...) come from ``image_io`` and ``image_transforms``, the
iterators from ``image_iterators``. Pillow and SciPy are optional (``pip install
kerosene[image]``): they are needed only by what reads or writes image files and by the
geometric transforms.
"""
import numbers
import warnings

import numpy as np

from ..backend import config as backend_config
from .image_dataframe import DataFrameIterator
from .image_io import array_to_img, img_to_array, list_pictures, load_img, resolve_data_format, save_img
from .image_iterators import DirectoryIterator, Iterator, NumpyArrayIterator
from .image_transforms import (apply_affine_transform, apply_brightness_shift, apply_channel_shift, check_fill_mode,
                               check_pair, flip_axis, random_brightness, random_channel_shift, random_rotation,
                               random_shear, random_shift, random_zoom, transform_matrix_offset_center)

__all__ = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator", "DataFrameIterator",
           "array_to_img",
           "img_to_array", "save_img", "load_img", "list_pictures", "random_rotation", "random_shift", "random_shear",
           "random_zoom", "apply_channel_shift", "random_channel_shift", "apply_brightness_shift",
           "random_brightness", "apply_affine_transform", "flip_axis", "transform_matrix_offset_center"]


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_range(value, argument):
    if not _is_number(value) or value < 0:
        raise ValueError(f"`{argument}` must be a number >= 0, got {value!r}")
    return value


def _check_shift(value, argument):
    """A shift range: a float (a fraction when < 1, else pixels), an int (whole pixels) or a list of choices."""
    if _is_number(value):
        return _check_range(value, argument)
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or not len(value) or not all(
            _is_number(v) for v in value):
        raise ValueError(f"`{argument}` must be a float, an int or a non-empty 1-D list of numbers, got {value!r}")
    return value


def _active(value):
    """Keras 2's test for a range being in use: a non-zero number or a non-empty list."""
    return value != 0 if _is_number(value) else len(value) > 0


def _draw_shift(shift_range, size):
    """One shift in pixels, drawn as Keras 2 draws it (the same calls to numpy, in the same order)."""
    if isinstance(shift_range, (int, np.integer)) or not _is_number(shift_range):
        shift = np.random.choice(shift_range) * np.random.choice([-1, 1])
    else:
        shift = np.random.uniform(-shift_range, shift_range)
    return shift * size if np.max(shift_range) < 1 else shift


class ImageDataGenerator:
    """Batches of images with random augmentation and normalization, as in Keras 2.

    Augmentation (``rotation_range`` degrees, ``width_shift_range``/``height_shift_range``,
    ``shear_range`` degrees, ``zoom_range``, ``channel_shift_range``, ``brightness_range``,
    ``horizontal_flip``/``vertical_flip``, ``fill_mode`` with ``cval``) is drawn afresh for
    every image; then come ``preprocessing_function``, ``rescale`` and the normalizations
    (samplewise, and featurewise/ZCA, which need ``fit(x)`` first). ``validation_split``
    reserves a fraction of the data for ``subset='validation'``::

        datagen = ImageDataGenerator(featurewise_center=True, rotation_range=15, horizontal_flip=True)
        datagen.fit(x_train)
        model.fit_generator(datagen.flow(x_train, y_train, batch_size=32), steps_per_epoch=100, epochs=5)

        >>> ImageDataGenerator(zoom_range=0.2).zoom_range
        [0.8, 1.2]
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0., height_shift_range=0., brightness_range=None, shear_range=0., zoom_range=0.,
                 channel_shift_range=0., fill_mode="nearest", cval=0., horizontal_flip=False, vertical_flip=False,
                 rescale=None, preprocessing_function=None, data_format=None, validation_split=0.0, dtype=None):
        self.data_format = resolve_data_format(data_format)
        last = self.data_format == "channels_last"
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if last else (1, 2, 3)
        check_fill_mode(fill_mode)
        if not _is_number(validation_split) or not 0 <= validation_split < 1:
            raise ValueError(f"`validation_split` must be a number in [0, 1) (the fraction held out for "
                             f"subset='validation'), got {validation_split!r}")
        if _is_number(zoom_range):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        else:
            try:
                self.zoom_range = check_pair(zoom_range, "zoom_range")
            except ValueError:
                raise ValueError(f"`zoom_range` must be a float or a tuple or list of two floats, "
                                 f"got {zoom_range!r}") from None
        if brightness_range is not None:
            brightness_range = check_pair(brightness_range, "brightness_range")
        if rescale is not None and not _is_number(rescale):
            raise ValueError(f"`rescale` must be a number or None, got {rescale!r}")
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise ValueError(f"`preprocessing_function` must be callable or None, got {preprocessing_function!r}")
        if not _is_number(cval):
            raise ValueError(f"`cval` must be a number, got {cval!r}")
        if not _is_number(zca_epsilon) or zca_epsilon < 0:
            raise ValueError(f"`zca_epsilon` must be a number >= 0, got {zca_epsilon!r}")
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = _check_range(rotation_range, "rotation_range")
        self.width_shift_range = _check_shift(width_shift_range, "width_shift_range")
        self.height_shift_range = _check_shift(height_shift_range, "height_shift_range")
        self.brightness_range = brightness_range
        self.shear_range = _check_range(shear_range, "shear_range")
        self.channel_shift_range = _check_range(channel_shift_range, "channel_shift_range")
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = backend_config.floatx() if dtype is None else dtype
        self._validation_split = validation_split
        self.mean = None
        self.std = None
        self.principal_components = None
        self._resolve_overrides()

    def _resolve_overrides(self):
        """Keras 2's implied settings: ZCA and std normalization need centering; ZCA replaces std normalization."""
        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_center`.", UserWarning, stacklevel=3)
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which overrides setting of "
                              "`featurewise_std_normalization`.", UserWarning, stacklevel=3)
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", UserWarning, stacklevel=3)
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", UserWarning, stacklevel=3)

    # --- making iterators ---------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", subset=None):
        """A :class:`NumpyArrayIterator` over the rank-4 array ``x`` (or ``(x, extra_arrays)``) and labels ``y``.

        Batches are ``(x, y)``, ``(x, y, sample_weight)``, or ``x`` alone when ``y`` is None.
        ``save_to_dir`` writes every augmented image there (``save_prefix``, ``save_format``).
        """
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png", follow_links=False, subset=None,
                            interpolation="nearest"):
        """A :class:`DirectoryIterator` over the images in ``directory``'s class subdirectories.

        Images are resized to ``target_size`` ``(height, width)`` and read as ``color_mode``
        ('rgb', 'rgba' or 'grayscale'); ``class_mode`` is 'categorical', 'binary', 'sparse',
        'input' or None.
        """
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory, x_col="filename", y_col="class", has_ext=True,
                            target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical",
                            batch_size=32, shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", subset=None, interpolation="nearest"):
        """A :class:`DataFrameIterator` over the image files that ``dataframe[x_col]`` names under ``directory``.

        ``y_col`` holds the targets: class names for 'categorical', 'binary' and 'sparse',
        numbers (one column or a list) for 'other'; 'input' and None read no targets.
        """
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col, has_ext=has_ext,
                                 target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, subset=subset, interpolation=interpolation,
                                 dtype=self.dtype)

    # --- normalization ------------------------------------------------------------------
    def standardize(self, x):
        """``x`` (one image or a batch) through ``preprocessing_function``, ``rescale`` and the normalizations.

        ``x`` itself is left as it was; an integer array comes back as ``dtype``.
        """
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        x = np.array(x, dtype=None if np.issubdtype(np.asarray(x).dtype, np.floating) else self.dtype)
        if self.rescale:
            x *= self.rescale
        # One image's statistics: over all of it, or per sample for a batch.
        sample_axes = tuple(range(1, x.ndim)) if x.ndim == 4 else None
        if self.samplewise_center:
            x -= np.mean(x, axis=sample_axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=sample_axes, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is None:
                self._warn_not_fit("featurewise_center")
            else:
                x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                self._warn_not_fit("featurewise_std_normalization")
            else:
                x /= self.std + 1e-6
        if self.zca_whitening:
            if self.principal_components is None:
                self._warn_not_fit("zca_whitening")
            else:
                flat = np.reshape(x, (-1, int(np.prod(x.shape[-3:]))))
                x = np.reshape(flat @ self.principal_components, x.shape).astype(x.dtype, copy=False)
        return x

    @staticmethod
    def _warn_not_fit(setting):
        warnings.warn(f"This ImageDataGenerator specifies `{setting}`, but it hasn't been fit on any training "
                      "data. Fit it first by calling `.fit(numpy_data)`.", UserWarning, stacklevel=3)

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the featurewise mean, std and ZCA matrix from sample images ``x`` (rank 4).

        Only needed for ``featurewise_center``, ``featurewise_std_normalization`` and
        ``zca_whitening``. With ``augment``, the statistics come from ``rounds`` randomly
        transformed copies of ``x``; ``seed`` seeds numpy's random state first.
        """
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4 (samples, then one image); got an array of "
                             f"shape {x.shape}")
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
            raise ValueError(f"`rounds` must be a positive int, got {rounds!r}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f"Expected images in {self.data_format} with 1, 3 or 4 channels on axis "
                          f"{self.channel_axis}, but `x` has shape {x.shape} ({x.shape[self.channel_axis]} channels)",
                          UserWarning, stacklevel=2)
        if seed is not None:
            np.random.seed(seed)
        if augment:
            x = np.stack([self.random_transform(image) for _ in range(rounds) for image in x]).astype(self.dtype)
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), broadcast)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = np.reshape(x, (x.shape[0], -1)).astype("float64")
            sigma = flat.T @ flat / flat.shape[0]
            u, s, _ = np.linalg.svd(sigma)
            self.principal_components = ((u / np.sqrt(s + self.zca_epsilon)) @ u.T).astype(self.dtype)

    # --- augmentation -------------------------------------------------------------------
    def get_random_transform(self, img_shape, seed=None):
        """A dict of random parameters for one image of shape ``img_shape``: 'theta', 'tx', 'ty',
        'shear', 'zx', 'zy', 'flip_horizontal', 'flip_vertical', 'channel_shift_intensity', 'brightness'.

        ``seed`` seeds numpy's random state first. Parameters are drawn in Keras 2's order,
        so a seed gives the same transform as in Keras 2.
        """
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx, ty = 0, 0
        if _active(self.height_shift_range):
            tx = _draw_shift(self.height_shift_range, img_shape[self.row_axis - 1])
        if _active(self.width_shift_range):
            ty = _draw_shift(self.width_shift_range, img_shape[self.col_axis - 1])
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(np.random.random() < 0.5) and bool(self.horizontal_flip)
        flip_vertical = bool(np.random.random() < 0.5) and bool(self.vertical_flip)
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """``x`` (one 3D image) transformed by ``transform_parameters`` (the keys of
        ``get_random_transform``; a missing key means no change)."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"`x` must be one image, an array of rank 3; got shape {x.shape}")
        params = transform_parameters
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(x, params.get("theta", 0), params.get("tx", 0), params.get("ty", 0),
                                   params.get("shear", 0), params.get("zx", 1), params.get("zy", 1),
                                   row_axis=row, col_axis=col, channel_axis=channel, fill_mode=self.fill_mode,
                                   cval=self.cval)
        if params.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, params["channel_shift_intensity"], channel)
        if params.get("flip_horizontal", False):
            x = flip_axis(x, col)
        if params.get("flip_vertical", False):
            x = flip_axis(x, row)
        if params.get("brightness") is not None:
            last = np.moveaxis(x, channel, -1)
            x = np.moveaxis(apply_brightness_shift(last, params["brightness"]), -1, channel)
        return x

    def random_transform(self, x, seed=None):
        """``x`` (one 3D image) with a random transform applied; ``seed`` seeds numpy's random state first."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))
