"""Images between files, PIL and numpy: ``load_img``, ``save_img``, ``img_to_array``, ``array_to_img``.

Keras 2.2.4's conventions: arrays are ``(height, width, channels)`` (``'channels_last'``)
or ``(channels, height, width)``; 1, 3 or 4 channels are grayscale, RGB and RGBA.
``data_format=None`` means ``keras.backend.image_data_format()`` and ``dtype=None``
means ``keras.backend.floatx()``. Pillow is needed only when a function here runs::

    img = load_img('cat.png', target_size=(64, 64))
    x = img_to_array(img)                 # (64, 64, 3) float32
    save_img('copy.png', x)
"""
import os
import re
import warnings

import numpy as np

from ..backend import config as backend_config
from .image_deps import require_pil

__all__ = ["array_to_img", "img_to_array", "save_img", "load_img", "list_pictures",
           "resolve_data_format", "COLOR_MODES", "INTERPOLATIONS", "check_interpolation"]

COLOR_MODES = ("grayscale", "rgb", "rgba")
# Pillow's resampling filters by Keras 2's names.
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def resolve_data_format(data_format, argument="data_format"):
    """``data_format``, or the backend's when None; anything else is a ValueError."""
    if data_format is None:
        return backend_config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"`{argument}` must be 'channels_last', 'channels_first' or None (the backend's "
                         f"image_data_format()), got {data_format!r}")
    return data_format


def _resolve_dtype(dtype):
    return backend_config.floatx() if dtype is None else dtype


def check_interpolation(interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {', '.join(map(repr, INTERPOLATIONS))}, "
                         f"got {interpolation!r}")


def check_color_mode(color_mode):
    if color_mode not in COLOR_MODES:
        raise ValueError(f"`color_mode` must be one of {', '.join(map(repr, COLOR_MODES))}, got {color_mode!r}")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3D array (one image) as a PIL Image: 1 channel gives mode 'L', 3 'RGB', 4 'RGBA'.

    With ``scale`` the values are shifted to start at 0 (when negative) and stretched so
    the largest is 255; without it they are cast to uint8 as they are.

        >>> array_to_img(np.zeros((4, 6, 3))).size     # PIL sizes are (width, height)
        (6, 4)
    """
    image_module, _ = require_pil("array_to_img")
    data_format = resolve_data_format(data_format)
    x = np.array(x, dtype=_resolve_dtype(dtype))
    if x.ndim != 3:
        raise ValueError(f"`x` must be one image, an array of rank 3; got shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if x.shape[2] not in (1, 3, 4):
        raise ValueError(f"`x` must have 1 (grayscale), 3 (RGB) or 4 (RGBA) channels, got {x.shape[2]} "
                         f"(shape {x.shape} in {data_format})")
    if scale:
        x = x - min(np.min(x), 0)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    x = x.astype("uint8")
    if x.shape[2] == 1:
        return image_module.fromarray(x[:, :, 0], "L")
    return image_module.fromarray(x, "RGB" if x.shape[2] == 3 else "RGBA")


def img_to_array(img, data_format=None, dtype=None):
    """A PIL Image (or a 2D/3D array) as a 3D float array in ``data_format``.

        >>> img_to_array(np.zeros((4, 6), 'uint8')).shape     # grayscale gains its channel axis
        (4, 6, 1)
    """
    data_format = resolve_data_format(data_format)
    x = np.asarray(img, dtype=_resolve_dtype(dtype))
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    elif x.ndim != 3:
        raise ValueError(f"`img` must be an image (an array of rank 2 or 3), got shape {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write the image array ``x`` to ``path`` (a filename or file object); ``**kwargs`` go to PIL's save.

    ``file_format`` overrides the format guessed from the file's extension (give it for a
    file object). JPEG holds no alpha channel: an RGBA image is written as RGB, with a warning.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and str(file_format).lower() in ("jpg", "jpeg"):
        warnings.warn("JPEG has no alpha channel: the RGBA image is saved as RGB", UserWarning, stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest"):
    """Read an image file into a PIL Image in ``color_mode`` ('grayscale', 'rgb' or 'rgba').

    ``target_size=(height, width)`` resizes with ``interpolation`` ('nearest', 'bilinear',
    'bicubic', 'hamming', 'box' or 'lanczos'), which, as in Keras 2, is only checked when a
    resize happens. ``grayscale=True`` is Keras 2's older spelling of ``color_mode='grayscale'``.
    """
    if grayscale is True:
        warnings.warn("load_img(grayscale=True) is deprecated: use color_mode='grayscale'", DeprecationWarning,
                      stacklevel=2)
        color_mode = "grayscale"
    check_color_mode(color_mode)
    size = None
    if target_size is not None:
        if (not isinstance(target_size, (tuple, list)) or len(target_size) != 2
                or not all(isinstance(s, (int, np.integer)) and s > 0 for s in target_size)):
            raise ValueError(f"`target_size` must be None or (height, width), two positive ints; got {target_size!r}")
        size = (int(target_size[1]), int(target_size[0]))  # PIL wants (width, height)
    image_module, _ = require_pil("load_img")
    with image_module.open(path) as opened:
        img = opened.convert(_PIL_MODES[color_mode]) if opened.mode != _PIL_MODES[color_mode] else opened.copy()
    if size is not None and img.size != size:
        check_interpolation(interpolation)
        img = img.resize(size, _resample(image_module, interpolation))
    return img


def _resample(image_module, interpolation):
    filters = getattr(image_module, "Resampling", image_module)  # Pillow >= 9.1 keeps them in an enum
    return getattr(filters, interpolation.upper())


def list_pictures(directory, ext="jpg|jpeg|bmp|png|ppm"):
    """Paths of the files under ``directory`` (recursively) whose extension is one of ``ext`` ('|'-separated)."""
    pattern = re.compile(r"[\w]+\.(?:" + ext + r")$")
    return [os.path.join(root, name) for root, _, files in os.walk(directory) for name in files
            if pattern.match(name.lower())]
