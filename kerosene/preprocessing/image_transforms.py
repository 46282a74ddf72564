"""Geometric and colour transforms of one image array, as ``keras.preprocessing.image`` has them.

``apply_affine_transform`` rotates, shifts, shears and zooms about the image's centre
(SciPy's ``ndimage.affine_transform``, linear interpolation, one channel at a time);
the ``random_*`` functions draw their amount from numpy's global random state, as
Keras 2 does, so ``np.random.seed`` makes them repeatable::

    np.random.seed(0)
    y = random_rotation(x, 30, row_axis=0, col_axis=1, channel_axis=2)   # x: (h, w, c)

Shifts follow Keras 2's naming: ``tx`` moves along the row axis, ``ty`` along the column axis.
"""
import numbers

import numpy as np

from .image_deps import require_pil, require_scipy_ndimage
from .image_io import array_to_img, img_to_array

__all__ = ["flip_axis", "transform_matrix_offset_center", "apply_affine_transform", "random_rotation",
           "random_shift", "random_shear", "random_zoom", "apply_channel_shift", "random_channel_shift",
           "apply_brightness_shift", "random_brightness", "FILL_MODES", "check_fill_mode"]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def check_fill_mode(fill_mode):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"`fill_mode` must be one of {', '.join(map(repr, FILL_MODES))}, got {fill_mode!r}")


def check_pair(value, argument):
    """``value`` as a list of two floats, or a ValueError naming ``argument``."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2 or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        raise ValueError(f"`{argument}` must be a tuple or list of two floats, got {value!r}")
    return [float(value[0]), float(value[1])]


def flip_axis(x, axis):
    """``x`` reversed along ``axis``."""
    return np.flip(np.asarray(x), axis)


def transform_matrix_offset_center(matrix, x, y):
    """The 3x3 homogeneous ``matrix`` made to act about the centre of an ``x`` by ``y`` image.

    The centre is taken at ``size / 2 + 0.5`` along each axis, Keras 2's convention, so
    results match Keras 2's pixel for pixel.
    """
    centre_x, centre_y = float(x) / 2 + 0.5, float(y) / 2 + 0.5
    to_centre = np.array([[1, 0, centre_x], [0, 1, centre_y], [0, 0, 1]])
    from_centre = np.array([[1, 0, -centre_x], [0, 1, -centre_y], [0, 0, 1]])
    return to_centre @ matrix @ from_centre


def _affine_matrix(theta, tx, ty, shear, zx, zy):
    """Rotation, then shift, then shear, then zoom, composed; None when all are the identity."""
    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        parts.append(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not parts:
        return None
    matrix = parts[0]
    for part in parts[1:]:
        matrix = matrix @ part
    return matrix


def _check_axes(x, row_axis, col_axis, channel_axis):
    if x.ndim != 3:
        raise ValueError(f"`x` must be one image, an array of rank 3; got shape {x.shape}")
    axes = [row_axis, col_axis, channel_axis]
    if sorted(a % 3 for a in axes if isinstance(a, (int, np.integer))) != [0, 1, 2]:
        raise ValueError(f"`row_axis`, `col_axis` and `channel_axis` must name the three axes of `x` once each, "
                         f"got {row_axis!r}, {col_axis!r}, {channel_axis!r}")


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1, channel_axis=2,
                           fill_mode="nearest", cval=0., order=1):
    """``x`` (one 3D image) rotated by ``theta`` degrees, shifted by ``(tx, ty)`` pixels, sheared by
    ``shear`` degrees and zoomed by ``(zx, zy)`` (> 1 shows less of the image), about its centre.

    Points from outside the image take ``fill_mode`` ('constant' uses ``cval``, 'nearest',
    'reflect', 'wrap'); ``order`` is the spline order (1: linear). With nothing to do, ``x``
    comes back as it was.

        >>> apply_affine_transform(np.ones((3, 3, 1)), theta=90, fill_mode='constant')[..., 0]
        array([[0., 0., 1.],
               [0., 0., 1.],
               [0., 0., 1.]])
    """
    check_fill_mode(fill_mode)
    x = np.asarray(x)
    _check_axes(x, row_axis, col_axis, channel_axis)
    matrix = _affine_matrix(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    ndimage = require_scipy_ndimage("apply_affine_transform")
    matrix = transform_matrix_offset_center(matrix, x.shape[row_axis], x.shape[col_axis])
    planes = np.moveaxis(x, [channel_axis, row_axis, col_axis], [0, 1, 2])
    out = np.stack([ndimage.affine_transform(plane, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode,
                                             cval=cval) for plane in planes])
    return np.moveaxis(out, [0, 1, 2], [channel_axis, row_axis, col_axis])


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """``x`` rotated by an angle drawn uniformly from ``[-rg, rg)`` degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """``x`` shifted by up to ``hrg`` of its height and ``wrg`` of its width (fractions, drawn uniformly)."""
    x = np.asarray(x)
    _check_axes(x, row_axis, col_axis, channel_axis)
    tx = np.random.uniform(-hrg, hrg) * x.shape[row_axis]
    ty = np.random.uniform(-wrg, wrg) * x.shape[col_axis]
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """``x`` sheared by an angle drawn uniformly from ``[-intensity, intensity)`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """``x`` zoomed by factors drawn uniformly from ``zoom_range`` (two floats), one per axis."""
    low, high = check_pair(zoom_range, "zoom_range")
    zx, zy = (1, 1) if low == 1 and high == 1 else np.random.uniform(low, high, 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval)


def apply_channel_shift(x, intensity, channel_axis=0):
    """``x`` with ``intensity`` added to every channel, kept within the image's own min and max.

        >>> apply_channel_shift(np.array([[[0.], [1.], [2.]]]), 1.5, channel_axis=2)[0, :, 0]
        array([1.5, 2. , 2. ])
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"`x` must be one image, an array of rank 3; got shape {x.shape}")
    return np.clip(x + intensity, np.min(x), np.max(x))


def random_channel_shift(x, intensity_range, channel_axis=0):
    """``apply_channel_shift`` by an amount drawn uniformly from ``[-intensity_range, intensity_range)``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness):
    """``x`` (channels last) with its brightness scaled by ``brightness`` (1: unchanged), through Pillow.

    As in Keras 2, the image goes through ``array_to_img`` (scaled to 0..255, 8 bits) and
    comes back as values in 0..255.
    """
    _, enhance = require_pil("apply_brightness_shift")
    img = array_to_img(x, data_format="channels_last")
    return img_to_array(enhance.Brightness(img).enhance(brightness), data_format="channels_last")


def random_brightness(x, brightness_range):
    """``apply_brightness_shift`` by a factor drawn uniformly from ``brightness_range`` (two floats)."""
    low, high = check_pair(brightness_range, "brightness_range")
    return apply_brightness_shift(x, np.random.uniform(low, high))
