"""The backend's settings and values: data format, epsilon, floatx, ``get_value``/``set_value``,
variables, ``clear_session`` and the learning phase.

    >>> from kerosene.backend import config
    >>> config.floatx()
    'float32'
"""
from __future__ import annotations

import gc

import numpy as np
import torch

from .. import _naming
from ..symbolic import KerasTensor, probing


_CONFIG = {"image_data_format": "channels_last", "epsilon": 1e-7, "floatx": "float32"}
_FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")
_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool,
}



# --- configuration ---------------------------------------------------------------------
def backend():
    """The name of the backend: ``'torch'``."""
    return "torch"


def image_data_format():
    """The default ``data_format`` of image layers: ``'channels_last'`` unless set."""
    return _CONFIG["image_data_format"]


def normalize_data_format(value):
    """A layer's ``data_format`` argument checked: ``None`` gives :func:`image_data_format`.

    >>> normalize_data_format('Channels_First')
    'channels_first'
    """
    if value is None:
        return image_data_format()
    fmt = value.lower() if isinstance(value, str) else value
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"Invalid value for argument 'data_format': {value!r}. Accepted "
                         "values: 'channels_last', 'channels_first' (or None for "
                         "K.image_data_format()).")
    return fmt


def set_image_data_format(data_format):
    """Set the default ``data_format``: ``'channels_last'`` or ``'channels_first'``."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first', got {data_format!r}")
    _CONFIG["image_data_format"] = data_format


def epsilon():
    """The fuzz factor Keras adds to avoid division by zero (1e-7)."""
    return _CONFIG["epsilon"]


def set_epsilon(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`value` must be a number >= 0, got {value!r}")
    _CONFIG["epsilon"] = float(value)


def floatx():
    """The default float type as a string, ``'float32'``."""
    return _CONFIG["floatx"]


def set_floatx(value):
    if value not in _FLOAT_TYPES:
        raise ValueError(f"`value` must be one of {_FLOAT_TYPES}, got {value!r}")
    _CONFIG["floatx"] = value


def _torch_dtype(dtype, argname="dtype"):
    if dtype is None:
        return _DTYPES[floatx()]
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        name = dtype if isinstance(dtype, str) and dtype in _DTYPES else str(np.dtype(dtype))
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise ValueError(f"`{argname}` must be one of {sorted(_DTYPES)}, got {dtype!r}")
    return _DTYPES[name]


# --- values and variables --------------------------------------------------------------
class _Bound:
    """A number that remembers the attribute it was read from (see the two kinds below); it
    pickles and copies as the plain number."""

    _plain = float

    def __new__(cls, value, owner, attribute):
        self = cls._plain.__new__(cls, value)
        self._owner = owner
        self._attribute = attribute
        return self

    def __reduce__(self):
        return (self._plain, (self._plain(self),))


class BoundHyperparameter(_Bound, float):
    """A float read from an object's attribute that remembers where it came from.

    ``model.optimizer.lr`` returns one, so Keras 2's ``K.set_value(model.optimizer.lr, v)``
    can write ``v`` back to the optimizer. It is a plain float in every other use::

        >>> class Opt:
        ...     lr = 0.1
        >>> opt = Opt()
        >>> value = BoundHyperparameter(opt.lr, opt, "lr")
        >>> set_value(value, 0.01); opt.lr
        0.01
    """


class BoundCount(_Bound, int):
    """An int read from an object's attribute that remembers where it came from, as
    :class:`BoundHyperparameter` does for floats: ``model.optimizer.iterations`` returns
    one, so Keras 2's ``K.set_value(model.optimizer.iterations, 0)`` resets the count::

        >>> class Opt:
        ...     iterations = 7
        >>> opt = Opt()
        >>> set_value(BoundCount(opt.iterations, opt, "iterations"), 0); opt.iterations
        0
    """

    _plain = int


def to_tensor(value, dtype=None):
    """``value`` (a tensor or anything numpy reads) as a torch tensor of ``dtype``; a numpy view
    with negative strides (``x[::-1]``), which torch cannot wrap, is copied first."""
    if isinstance(value, torch.Tensor):
        return value if dtype is None else value.to(dtype)
    arr = np.asarray(value)
    if any(stride < 0 for stride in arr.strides):
        arr = arr.copy()
    return torch.as_tensor(arr, dtype=dtype)


def variable(value, dtype=None, name=None, constraint=None):
    """A trainable-free tensor holding ``value`` (Keras's ``K.variable``)."""
    return to_tensor(value, _torch_dtype(dtype)).clone()


def constant(value, dtype=None, shape=None, name=None):
    t = to_tensor(value, _torch_dtype(dtype))
    return t.expand(shape).clone() if shape is not None else t.clone()


def is_tensor(x):
    return isinstance(x, torch.Tensor)


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of the functional API."""
    return isinstance(x, KerasTensor)


def get_value(x):
    """The value of a tensor (as a numpy array) or of an optimizer hyperparameter (a numpy float64)."""
    if isinstance(x, BoundHyperparameter):
        # A numpy scalar as Keras 2's variables gave (``.item()``, ``.dtype``); float64 is a float.
        return np.float64(getattr(x._owner, x._attribute))
    if isinstance(x, BoundCount):
        return int(getattr(x._owner, x._attribute))
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy().copy()  # a snapshot: a later set_value must not change it
    if isinstance(x, (int, float, np.ndarray, np.number)):
        return x
    raise TypeError(f"get_value: `x` must be a tensor or a value read from an optimizer "
                    f"(e.g. model.optimizer.lr), got {type(x).__name__}")


def set_value(x, value):
    """Set a tensor in place, or an optimizer hyperparameter read as ``optimizer.lr``."""
    if isinstance(x, BoundHyperparameter):
        setattr(x._owner, x._attribute, float(np.asarray(value)))
        return
    if isinstance(x, BoundCount):
        count = np.asarray(value)
        if count.shape != () or count != np.round(count):
            raise ValueError(f"set_value: {x._attribute} is a count; `value` must be a whole number, got {value!r}")
        setattr(x._owner, x._attribute, int(count))
        return
    if isinstance(x, torch.Tensor):
        new = to_tensor(value, x.dtype)
        if tuple(new.shape) != tuple(x.shape):
            raise ValueError(f"set_value: `value` has shape {tuple(new.shape)}, the tensor has "
                             f"shape {tuple(x.shape)}")
        with torch.no_grad():
            x.copy_(new)
        return
    raise TypeError(
        f"set_value: `x` must be a tensor or an optimizer hyperparameter such as "
        f"model.optimizer.lr, got {type(x).__name__} {x!r}; to change a plain attribute, assign it")


def batch_get_value(xs):
    return [get_value(x) for x in xs]


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def clear_session():
    """Restart automatic layer naming (``dense``, ``dense_1`` ...), unset the learning phase and free memory."""
    _naming.reset()
    _LEARNING_PHASE[0] = None
    gc.collect()


_UIDS = {}


def get_uid(prefix=""):
    """A counter per ``prefix``: 1 on the first call, then 2, 3 ... (until :func:`reset_uids`)."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def reset_uids():
    """Restart :func:`get_uid`'s counters and automatic layer naming."""
    _UIDS.clear()
    _naming.reset()


def manual_variable_initialization(value):
    """Accepted for Keras 2 scripts and ignored: torch tensors hold their values from creation,
    so there is no initialization step to switch off."""
    if not isinstance(value, (bool, int, np.bool_)):
        raise TypeError(f"manual_variable_initialization: `value` must be a bool, got {value!r}")


def print_tensor(x, message=""):
    """Prints ``message`` and the value of ``x`` and returns ``x`` unchanged (on a symbolic
    tensor: each time the graph runs, not while its output shape is probed)."""
    if not probing():
        print(f"{message}{x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x}")
    return x


_LEARNING_PHASE = [None]   # None: not set, so each loop runs in its own mode


class LearningPhase(int):
    """The int ``K.learning_phase()`` returns; among ``K.function``'s inputs it stands for
    the train/test flag fed with each call (as Keras 2's learning-phase placeholder)."""


def learning_phase():
    """0 (inference) or 1 (training) as set by :func:`set_learning_phase` (0 when not set);
    layers read torch's ``module.training``."""
    return LearningPhase(_LEARNING_PHASE[0] or 0)


def set_learning_phase(value):
    """Fix the mode every loop runs its layers in, as Keras 2 does: 1 makes ``predict`` and
    ``evaluate`` use Dropout and the batch statistics of BatchNormalization (Monte Carlo
    dropout), 0 makes ``fit`` run them in inference mode (fine-tuning with frozen batch
    statistics). ``K.clear_session()`` unsets it.

        >>> set_learning_phase(1); training_mode(False)
        True
        >>> set_learning_phase(0); training_mode(True)
        False
    """
    if value not in (0, 1) or isinstance(value, float):
        raise ValueError(f"set_learning_phase: `value` must be 0 or 1, got {value!r}")
    _LEARNING_PHASE[0] = int(value)


def training_mode(default):
    """The ``module.train(mode)`` flag a loop uses: ``default`` (True to train, False to test or
    predict) unless :func:`set_learning_phase` fixed it."""
    return bool(default) if _LEARNING_PHASE[0] is None else bool(_LEARNING_PHASE[0])
