"""Keras weight initializers, producing torch tensors.

An initializer is called as ``init(shape, dtype=torch.float32)`` with the
**Keras** shape of the weight (Dense kernel ``(in, out)``, Conv2D kernel
``(kh, kw, in, out)``) and returns a new tensor of that shape; layers then
lay it out the way torch computes fastest.  Fans are computed on the Keras
shape, so the statistics match Keras exactly.  Random initializers draw from
torch's global generator (``torch.manual_seed`` makes models reproducible)
unless a ``seed`` is given, in which case every call returns the same values::

    >>> import torch
    >>> from kerosene import initializers
    >>> w = initializers.get('glorot_uniform')((784, 10))
    >>> w.shape
    torch.Size([784, 10])
"""

import math

import numpy as np
import torch

from ._registry import Registry, serialize_object

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Orthogonal", "Identity",
    "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
    "LecunNormal", "zeros", "ones", "constant", "glorot_uniform", "glorot_normal",
    "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal",
    "identity", "get", "serialize", "deserialize", "compute_fans",
]


def _torch_dtype(dtype):
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return getattr(torch, str(dtype))
    except AttributeError:
        raise ValueError(f"Unknown dtype {dtype!r}") from None


def compute_fans(shape, data_format="channels_last"):
    """Keras's fans of a Keras-shaped weight: ``(fan_in, fan_out)``.

    ``(in, out)`` gives ``(in, out)``; a conv kernel ``(*spatial, in, out)``
    multiplies both by the receptive field size (``data_format='channels_first'``
    reads a Theano-style ``(out, in, *spatial)`` kernel).

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = tuple(int(s) for s in shape)
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"compute_fans: `data_format` must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    if data_format == "channels_first":
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


_compute_fans = compute_fans   # Keras 2's private name, imported by its tests and by user code


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype)`` and
    ``get_config()``.

    >>> class Twos(Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return torch.full(tuple(shape), 2.0, dtype=_torch_dtype(dtype))
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _generator(self):
        seed = getattr(self, "seed", None)
        if seed is None:
            return None
        return torch.Generator().manual_seed(int(seed))


class Zeros(Initializer):
    """All zeros.  ``Zeros()((2, 3))`` is a 2x3 zero tensor."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(tuple(shape), dtype=_torch_dtype(dtype))


class Ones(Initializer):
    """All ones.  ``Ones()((3,))`` is ``tensor([1., 1., 1.])``."""

    def __call__(self, shape, dtype=None):
        return torch.ones(tuple(shape), dtype=_torch_dtype(dtype))


class Constant(Initializer):
    """Every value set to ``value``, a number or an array broadcast to the weight's shape.
    ``Constant(0.5)((2,))`` -> ``[0.5, 0.5]``; ``Constant(np.ones((3, 2)))`` fills a (3, 2) kernel."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        value = torch.as_tensor(np.asarray(self.value), dtype=_torch_dtype(dtype))
        try:
            return value.expand(tuple(shape)).clone()
        except RuntimeError:
            raise ValueError(f"Constant: `value` of shape {tuple(value.shape)} cannot fill a weight of shape "
                             f"{tuple(shape)}") from None

    def get_config(self):
        value = self.value
        return {"value": value.tolist() if isinstance(value, np.ndarray) else value}


class RandomNormal(Initializer):
    """Normal draws.  ``RandomNormal(mean=0.0, stddev=0.05, seed=None)``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        out = torch.empty(tuple(shape), dtype=_torch_dtype(dtype))
        return out.normal_(self.mean, self.stddev, generator=self._generator())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform draws in ``[minval, maxval)``.
    ``RandomUniform(minval=-0.05, maxval=0.05, seed=None)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        out = torch.empty(tuple(shape), dtype=_torch_dtype(dtype))
        return out.uniform_(self.minval, self.maxval, generator=self._generator())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(shape, mean, stddev, dtype, generator):
    out = torch.empty(tuple(shape), dtype=_torch_dtype(dtype))
    return torch.nn.init.trunc_normal_(
        out, mean=mean, std=stddev, a=mean - 2 * stddev, b=mean + 2 * stddev,
        generator=generator)


class TruncatedNormal(Initializer):
    """Normal draws cut at two standard deviations from the mean.
    ``TruncatedNormal(mean=0.0, stddev=0.05, seed=None)``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return _truncated_normal(shape, self.mean, self.stddev, dtype, self._generator())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")
# Standard deviation of a unit normal truncated to [-2, 2].
_TRUNC_STD = 0.87962566103423978


class VarianceScaling(Initializer):
    """Draws scaled to the weight's fans, the family behind Glorot/He/LeCun.

    ``VarianceScaling(scale=1.0, mode='fan_in', distribution='normal', seed=None)``:
    with ``n`` the chosen fan, the variance is ``scale / n``.  ``'normal'``
    is the truncated normal (Keras 2), ``'uniform'`` draws in
    ``±sqrt(3 * scale / n)``.

    >>> VarianceScaling(2.0, 'fan_in', 'uniform')((100, 10)).abs().max() <= math.sqrt(0.06)
    tensor(True)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"Argument 'scale' must be a positive float, got {scale!r}.")
        if mode not in _MODES:
            raise ValueError(f"Invalid 'mode' {mode!r}: accepted values are {', '.join(_MODES)}.")
        distribution = str(distribution).lower()
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"Invalid 'distribution' {distribution!r}: accepted values "
                             f"are {', '.join(_DISTRIBUTIONS)}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out,
               "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        gen = self._generator()
        if self.distribution in ("normal", "truncated_normal"):
            return _truncated_normal(shape, 0.0, math.sqrt(scale) / _TRUNC_STD, dtype, gen)
        out = torch.empty(tuple(shape), dtype=_torch_dtype(dtype))
        if self.distribution == "untruncated_normal":
            return out.normal_(0.0, math.sqrt(scale), generator=gen)
        limit = math.sqrt(3.0 * scale)
        return out.uniform_(-limit, limit, generator=gen)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


class _Preset(VarianceScaling):
    _preset = (1.0, "fan_in", "uniform")

    def __init__(self, seed=None):
        super().__init__(*self._preset, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))``.  ``GlorotUniform(seed=None)``."""
    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))``."""
    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """Uniform in ``±sqrt(6 / fan_in)``."""
    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal, stddev ``sqrt(2 / fan_in)``."""
    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """Uniform in ``±sqrt(3 / fan_in)``."""
    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Truncated normal, stddev ``sqrt(1 / fan_in)``."""
    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``; shapes of rank > 2 are
    flattened to ``(prod(shape[:-1]), shape[-1])``.  ``Orthogonal(gain=1.0, seed=None)``.

    >>> q = Orthogonal()((4, 4)); torch.allclose(q @ q.T, torch.eye(4), atol=1e-5)
    True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.empty((max(rows, cols), min(rows, cols)), dtype=torch.float64)
        a.normal_(0.0, 1.0, generator=self._generator())
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).to(_torch_dtype(dtype)).contiguous()

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix, for 2-D shapes; as in Keras 2, when the long side is
    a multiple of the short side, identity matrices are stacked along the long side.

    >>> Identity()((2, 4)).tolist()
    [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {shape}.")
        rows, cols = shape
        if min(shape) == 0 or max(shape) % min(shape) != 0:
            raise ValueError(f"Identity initializer: the long side of shape {shape} must be a multiple of "
                             "the short side (identity matrices are stacked along it)")
        eye = torch.eye(min(shape), dtype=_torch_dtype(dtype))
        return self.gain * eye.repeat(rows // min(shape), cols // min(shape))

    def get_config(self):
        return {"gain": self.gain}


# Keras's snake-case aliases are the classes themselves (calling
# ``glorot_uniform()`` gives an instance, as in Keras 2).
zeros, ones, constant = Zeros, Ones, Constant
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
orthogonal, identity = Orthogonal, Identity

_CLASSES = Registry({cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling, Orthogonal, Identity, GlorotUniform, GlorotNormal,
    HeUniform, HeNormal, LecunUniform, LecunNormal)})

_NAMES = Registry({
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "uniform": RandomUniform, "random_uniform": RandomUniform,
    "normal": RandomNormal, "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal, "identity": Identity,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}, fold_case=True)


def accepted_names():
    """Names ``get`` accepts: the snake-case Keras names and the class names."""
    return sorted(_NAMES) + sorted(_CLASSES)


def _unknown(identifier):
    return ValueError(
        f"Unknown initializer {identifier!r}. Accepted names: "
        f"{', '.join(accepted_names())}; or an Initializer, a "
        "{'class_name': ..., 'config': ...} dict, or a callable(shape, dtype).")


def get(identifier):
    """Resolve ``identifier`` to an initializer instance.

    Accepts ``None`` (returns None), a Keras name (``'glorot_uniform'``,
    ``'uniform'``, ``'he_normal'``, or a class name like ``'GlorotUniform'``),
    a Keras-style ``{"class_name": ..., "config": ...}`` dict, an
    ``Initializer`` instance or class, or any callable ``fn(shape, dtype)``.

    >>> get('uniform').get_config()
    {'minval': -0.05, 'maxval': 0.05, 'seed': None}
    """
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.find(identifier) or _CLASSES.find(identifier)
        if cls is None:
            raise _unknown(identifier)
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret initializer {identifier!r} of type "
                    f"{type(identifier).__name__}.")


def serialize(initializer):
    """Keras 2 form: ``{"class_name": "GlorotUniform", "config": {"seed": None}}``."""
    if initializer is None:
        return None
    if isinstance(initializer, Initializer):
        return serialize_object(initializer)
    return getattr(initializer, "__name__", repr(initializer))


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize``; ``custom_objects`` maps class names to classes."""
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        if config in custom_objects:
            obj = custom_objects[config]
            return obj() if isinstance(obj, type) else obj
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize initializer from {config!r}: expected a "
                         "name or a {'class_name': ..., 'config': ...} dict.")
    name = config["class_name"]
    cls = _CLASSES.find(name, custom_objects) or _NAMES.find(name)
    if cls is None:
        raise _unknown(name)
    return cls.from_config(dict(config.get("config") or {}))
