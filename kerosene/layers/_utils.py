"""Private helpers shared by the layer modules: argument checking, shape
arithmetic, and resolution of regularizers and constraints."""

import math

import torch

DATA_FORMATS = ("channels_last", "channels_first")


def normalize_tuple(value, n, arg_name):
    """``3`` -> ``(3, 3)``; a sequence of ``n`` ints is returned as a tuple."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        out = None
    if out is None or len(out) != n or any(isinstance(v, bool) for v in value):
        raise ValueError(f"Argument '{arg_name}' must be an int or a tuple of {n} ints, "
                         f"got {value!r}.")
    return out


def normalize_padding(value, allowed=("valid", "same")):
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"Invalid value for argument 'padding': {value!r}. Accepted values: "
                         + ", ".join(repr(a) for a in allowed) + ".")
    return padding


def normalize_data_format(value):
    if value is None:
        from ..backend import image_data_format  # K.set_image_data_format sets the default
        return image_data_format()
    fmt = value.lower() if isinstance(value, str) else value
    if fmt not in DATA_FORMATS:
        raise ValueError(f"Invalid value for argument 'data_format': {value!r}. Accepted "
                         "values: 'channels_last', 'channels_first' (or None for "
                         "'channels_last').")
    return fmt


def conv_output_length(length, kernel, padding, stride, dilation=1):
    """Keras's output length of a convolution or pooling window along one axis."""
    if length is None:
        return None
    dilated = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    else:
        out = length - dilated + 1
    return max(0, (out + stride - 1) // stride)


def same_padding(length, kernel, stride, dilation=1):
    """(before, after) amounts TensorFlow's 'same' padding adds on one axis."""
    dilated = (kernel - 1) * dilation + 1
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2


def check_positive_int(value, arg_name):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        try:
            if float(value) == int(value) and int(value) > 0 and not isinstance(value, bool):
                return int(value)
        except (TypeError, ValueError):
            pass
        raise ValueError(f"Argument '{arg_name}' must be a positive integer, got {value!r}.")
    return value


def check_rate(value, arg_name="rate"):
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"Argument '{arg_name}' must be a float between 0 and 1, "
                         f"got {value!r}.")
    return rate


def serialize_object(obj):
    """Keras-style ``{"class_name", "config"}`` for objects with ``get_config``."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "__name__", repr(obj))


# ---------------------------------------------------------------- regularizers

class L1L2:
    """Penalty ``l1 * sum(|w|) + l2 * sum(w**2)`` (the Keras regularizer)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        out = w.new_zeros(())
        if self.l1:
            out = out + self.l1 * w.abs().sum()
        if self.l2:
            out = out + self.l2 * w.square().sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_REGULARIZERS = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01),
                 "L1": L1, "L2": L2, "L1L2": L1L2}


def get_regularizer(identifier, arg_name="regularizer"):
    if identifier is None:
        return None
    try:  # a project-wide registry, when one exists
        from kerosene import regularizers as _reg  # noqa: F401
        return _reg.get(identifier)
    except ImportError:
        pass
    if isinstance(identifier, dict):
        cls = _REGULARIZERS.get(identifier.get("class_name"))
        if cls is not None:
            return cls(**(identifier.get("config") or {}))
        identifier = identifier.get("class_name")
    if isinstance(identifier, str):
        if identifier in _REGULARIZERS:
            return _REGULARIZERS[identifier]()
        raise ValueError(f"Unknown regularizer {identifier!r} (argument '{arg_name}'). "
                         "Accepted names: 'l1', 'l2', 'l1_l2', or a callable(weight) -> "
                         "scalar tensor.")
    if callable(identifier):
        return identifier
    raise TypeError(f"Argument '{arg_name}' must be None, a name or a callable, "
                    f"got {identifier!r}.")


# ----------------------------------------------------------------- constraints

class MaxNorm:
    """Rescale so the norm along ``axis`` is at most ``max_value``."""

    def __init__(self, max_value=2.0, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg:
    """Clip weights at zero from below."""

    def __call__(self, w):
        return w.clamp(min=0.0)

    def get_config(self):
        return {}


class UnitNorm:
    """Scale to unit norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (1e-7 + w.square().sum(dim=self.axis, keepdim=True).sqrt())

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm:
    """Keep the norm along ``axis`` within ``[min_value, max_value]``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = (self.rate * norms.clamp(self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


_CONSTRAINTS = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                "min_max_norm": MinMaxNorm, "MaxNorm": MaxNorm, "NonNeg": NonNeg,
                "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm}


def get_constraint(identifier, arg_name="constraint"):
    if identifier is None:
        return None
    try:
        from kerosene import constraints as _con  # noqa: F401
        return _con.get(identifier)
    except ImportError:
        pass
    if isinstance(identifier, dict):
        cls = _CONSTRAINTS.get(identifier.get("class_name"))
        if cls is not None:
            return cls(**(identifier.get("config") or {}))
        identifier = identifier.get("class_name")
    if isinstance(identifier, str):
        if identifier in _CONSTRAINTS:
            return _CONSTRAINTS[identifier]()
        raise ValueError(f"Unknown constraint {identifier!r} (argument '{arg_name}'). "
                         "Accepted names: " + ", ".join(sorted(_CONSTRAINTS)) + ".")
    if callable(identifier):
        return identifier
    raise TypeError(f"Argument '{arg_name}' must be None, a name or a callable, "
                    f"got {identifier!r}.")


def prod(values):
    return math.prod(int(v) for v in values)


def as_tensor_shape(shape):
    """A shape with every ``None`` set to 1 (for probing output shapes)."""
    return tuple(1 if s is None else int(s) for s in shape)


def torch_dtype(dtype):
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype)
    if name in ("mixed_float16", "mixed_bfloat16"):
        return torch.float32
    out = getattr(torch, name, None)
    if not isinstance(out, torch.dtype):
        raise ValueError(f"Unknown dtype {dtype!r} (argument 'dtype'): use a torch dtype or "
                         "a name such as 'float32', 'float64', 'float16', 'bfloat16'.")
    return out
