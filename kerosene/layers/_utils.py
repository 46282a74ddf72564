"""Private helpers shared by the layer modules: argument checking, shape
arithmetic, and resolution of regularizers and constraints."""

import math
import numbers

import torch

from .. import activations, constraints, initializers, regularizers
from .._registry import serialize_object as registry_form
from ..backend import normalize_data_format
from ..symbolic import probing

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


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def normalize_pairs(value, rank, arg_name, layer_name):
    """Per-axis ``(before, after)`` amounts of a padding or cropping layer over ``rank`` axes.

    Accepted forms: an int (the same on both sides of every axis); for ``rank`` 1, a pair
    ``(before, after)``; for ``rank`` > 1, a tuple of ``rank`` entries, each an int (the
    same on both sides of that axis) or a pair.  Amounts must be ints >= 0.
    """
    pairs = None
    if _is_int(value):
        pairs = ((int(value), int(value)),) * rank
    elif isinstance(value, (list, tuple)):
        entries = (value,) if rank == 1 else value
        if len(entries) == rank:
            pairs = []
            for entry in entries:
                if _is_int(entry):
                    entry = (entry, entry)
                if not (isinstance(entry, (list, tuple)) and len(entry) == 2
                        and all(_is_int(v) for v in entry)):
                    pairs = None
                    break
                pairs.append(tuple(int(v) for v in entry))
    if pairs is None or any(v < 0 for pair in pairs for v in pair):
        if rank == 1:
            forms = "an int or a tuple of 2 ints (before, after)"
        else:
            forms = (f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints "
                     f"((before, after) for each of the {rank} spatial axes)")
        raise ValueError(f"{layer_name}: argument '{arg_name}' must be {forms}, all >= 0; "
                         f"got {value!r}.")
    return tuple(pairs)


def normalize_padding(value, allowed=("valid", "same")):
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"Invalid value for argument 'padding': {value!r}. Accepted values: "
                         + ", ".join(repr(a) for a in allowed) + ".")
    return padding


def spatial_axes(rank, data_format="channels_last"):
    """Indices of the ``rank`` spatial axes of a batch-first input laid out as ``data_format``."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def check_input_rank(layer, input_shape, ndim):
    """A ValueError naming ``layer`` unless ``input_shape`` has ``ndim`` axes (batch included)."""
    if len(input_shape) != ndim:
        raise ValueError(f"Input 0 of layer {layer.name} ({type(layer).__name__}) is incompatible "
                         f"with the layer: expected ndim={ndim}, found ndim={len(input_shape)} "
                         f"(input shape {tuple(input_shape)}).")


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
        return registry_form(obj)
    return getattr(obj, "__name__", repr(obj))


def weight_options_config(layer, weights=("kernel", "bias")):
    """The config entries shared by layers with kernels: activation, use_bias, and each
    weight's initializer, regularizer and constraint (``weights`` names them, in Keras order)."""
    config = {"activation": activations.serialize(layer.activation), "use_bias": layer.use_bias}
    for kind, encode in (("initializer", initializers.serialize), ("regularizer", serialize_object)):
        for weight in weights:
            config[f"{weight}_{kind}"] = encode(getattr(layer, f"{weight}_{kind}"))
    config["activity_regularizer"] = serialize_object(layer.activity_regularizer)
    for weight in weights:
        config[f"{weight}_constraint"] = serialize_object(getattr(layer, f"{weight}_constraint"))
    return config


def set_weight_options(layer, activation, use_bias, **options):
    """Set ``activation``, ``use_bias`` and each weight's ``<weight>_initializer`` /
    ``_regularizer`` / ``_constraint`` on ``layer``, each checked as its argument (the
    counterpart of :func:`weight_options_config`)."""
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    for name, value in options.items():
        kind = name.rsplit("_", 1)[-1]
        if kind == "initializer":
            value = initializers.get(value)
        elif kind == "regularizer":
            value = get_regularizer(value, name)
        elif kind == "constraint":
            value = get_constraint(value, name)
        else:
            raise TypeError(f"set_weight_options: {name!r} is no weight option")
        setattr(layer, name, value)


def get_regularizer(identifier, arg_name="regularizer"):
    return regularizers.get(identifier, arg_name)


def get_constraint(identifier, arg_name="constraint"):
    return constraints.get(identifier, arg_name)


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


def carried_for_batch(layer, x):
    """A stateful recurrent layer's carried states for the batch ``x`` (None while it carries none).

    As in Keras 2, a layer given a fixed batch size (``batch_input_shape``) takes batches of that
    size only, and carried states fit batches of their own size: anything else is a ValueError
    before the step runs.
    """
    fixed = layer.batch_input_shape[0] if layer.batch_input_shape else None
    if fixed is not None and x.shape[0] != fixed and not probing():
        raise ValueError(f"Stateful layer {layer.name!r} takes batches of {fixed} samples (its batch_input_shape "
                         f"{layer.batch_input_shape}), got a batch of {x.shape[0]}: give batch_size={fixed} and a "
                         f"number of samples divisible by {fixed}")
    states = layer._states
    if states is None:
        return None
    if states[0].shape[0] != x.shape[0]:
        raise ValueError(f"Stateful layer {layer.name!r} got a batch of {x.shape[0]} after batches of "
                         f"{states[0].shape[0]}; call reset_states() or keep the batch size fixed.")
    return [s.to(device=x.device, dtype=x.dtype) for s in states]
