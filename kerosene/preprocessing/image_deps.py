"""The optional packages behind ``keras.preprocessing.image``: Pillow and SciPy.

kerosene imports without them; a function that needs one asks for it here on first use
and gets a clear ImportError naming the package and ``pip install kerosene[image]``::

    ndimage = require_scipy_ndimage("apply_affine_transform")
"""
import importlib

__all__ = ["require_pil", "require_scipy_ndimage"]

_INSTALL = "pip install kerosene[image]"


def _load(module, package, user):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{user} needs {package}, which is not installed: run `{_INSTALL}` "
                          f"(or `pip install {package.lower()}`)") from error


def require_pil(user):
    """``(PIL.Image, PIL.ImageEnhance)``; ``user`` names the caller in the error."""
    return _load("PIL.Image", "Pillow", user), _load("PIL.ImageEnhance", "Pillow", user)


def require_scipy_ndimage(user):
    """``scipy.ndimage``; ``user`` names the caller in the error."""
    return _load("scipy.ndimage", "SciPy", user)
