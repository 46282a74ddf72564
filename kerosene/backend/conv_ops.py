"""The backend's convolutions in Keras 2's layouts (``K.conv2d``, ``K.depthwise_conv2d``, ``K.bias_add`` ...).

Tensors are channels-last unless ``data_format`` (default ``K.image_data_format()``) says
otherwise; kernels are Keras's: ``(*kernel_size, in, out)`` for a convolution,
``(*kernel_size, in, multiplier)`` depthwise, ``(*kernel_size, out, in)`` transposed.
'same' padding is TensorFlow's: any odd amount goes after.

    >>> import torch
    >>> from kerosene.backend import conv_ops
    >>> conv_ops.conv2d(torch.ones(1, 4, 4, 1), torch.ones(3, 3, 1, 1), padding='same')[0, :, :, 0]
    tensor([[4., 6., 6., 4.],
            [6., 9., 9., 6.],
            [6., 9., 9., 6.],
            [4., 6., 6., 4.]])
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import normalize_data_format
from .ops import _float

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


# --- argument checks and layouts ---------------------------------------------------------
def _tuple(value, rank, argname, fn_name):
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    if (not isinstance(values, (list, tuple)) or len(values) != rank
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)):
        raise ValueError(f"{fn_name}: `{argname}` must be a positive int or a tuple of {rank} positive ints, "
                         f"got {value!r}")
    return tuple(int(v) for v in values)


def _padding(padding, fn_name, allowed=("valid", "same")):
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in allowed:
        raise ValueError(f"{fn_name}: `padding` must be one of {', '.join(map(repr, allowed))}, got {padding!r}")
    return name


def _check_ndim(x, ndim_, argname, fn_name, what):
    if x.dim() != ndim_:
        raise ValueError(f"{fn_name}: `{argname}` must be a {ndim_}-D tensor ({what}), got shape {tuple(x.shape)}")


def channels_first(x, data_format):
    """``x`` with its channels axis second (as torch's convolutions take it)."""
    if data_format == "channels_first":
        return x
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def from_channels_first(x, data_format):
    """The inverse of :func:`channels_first`."""
    if data_format == "channels_first":
        return x
    return x.permute(0, *range(2, x.dim()), 1)


def same_pads(length, size, stride, dilation=1):
    """(before, after) amounts of TensorFlow's 'same' padding along one axis."""
    dilated = (size - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2


def pad_same(x, sizes, strides, dilations=None, value=0.0):
    """Channels-first ``x`` padded for TensorFlow's 'same' over its spatial axes."""
    dilations = dilations or (1,) * len(sizes)
    pads = []
    for axis in reversed(range(len(sizes))):   # F.pad lists the last axis first
        pads += list(same_pads(x.shape[2 + axis], sizes[axis], strides[axis], dilations[axis]))
    return F.pad(x, pads, value=value) if any(pads) else x


def _conv_nd(x, weight, rank, strides, padding, data_format, dilation_rate, fn_name, groups=1):
    """``x`` (``data_format``) convolved with a torch-layout ``weight`` (out, in/groups, *k)."""
    x = channels_first(x, data_format)
    sizes = tuple(weight.shape[2:])
    if padding == "same":
        x = pad_same(x, sizes, strides, dilation_rate)
    elif padding == "causal":
        x = F.pad(x, [(sizes[0] - 1) * dilation_rate[0], 0])
    for axis, (size, d) in enumerate(zip(sizes, dilation_rate)):
        if x.shape[2 + axis] < (size - 1) * d + 1:
            raise ValueError(f"{fn_name}: the input's spatial size {tuple(x.shape[2:])} is smaller than the "
                             f"kernel's {sizes} (dilation_rate {dilation_rate}) with padding {padding!r}")
    out = _CONV[rank](x, weight.to(x.device, x.dtype), None, strides, 0, dilation_rate, groups)
    return from_channels_first(out, data_format)


def _torch_kernel(kernel, rank):
    """A Keras kernel ``(*k, in, out)`` as torch's ``(out, in, *k)``."""
    return kernel.permute(rank + 1, rank, *range(rank))


def _prepare(x, kernel, rank, strides, padding, data_format, dilation_rate, fn_name, allowed=("valid", "same")):
    x, kernel = _float(x), _float(kernel)
    data_format = normalize_data_format(data_format)
    _check_ndim(x, rank + 2, "x", fn_name, "batch, spatial axes, channels")
    _check_ndim(kernel, rank + 2, "kernel", fn_name, "spatial axes, input channels, output channels")
    strides = _tuple(strides, rank, "strides", fn_name)
    dilation_rate = _tuple(dilation_rate, rank, "dilation_rate", fn_name)
    padding = _padding(padding, fn_name, allowed)
    return x, kernel, strides, padding, data_format, dilation_rate


def _check_channels(x, data_format, expected, fn_name, argname="kernel"):
    got = x.shape[1] if data_format == "channels_first" else x.shape[-1]
    if got != expected:
        raise ValueError(f"{fn_name}: `x` has {got} channels ({data_format}) but `{argname}` expects {expected}")


def _conv(rank, fn_name, x, kernel, strides, padding, data_format, dilation_rate, allowed=("valid", "same")):
    x, kernel, strides, padding, data_format, dilation_rate = _prepare(
        x, kernel, rank, strides, padding, data_format, dilation_rate, fn_name, allowed)
    _check_channels(x, data_format, kernel.shape[rank], fn_name)
    return _conv_nd(x, _torch_kernel(kernel, rank), rank, strides, padding, data_format, dilation_rate, fn_name)


# --- convolutions --------------------------------------------------------------------------
def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution of ``x`` (batch, steps, in) with ``kernel`` (size, in, out); ``padding``
    'valid', 'same' or 'causal' (zeros before the sequence only)."""
    return _conv(1, "conv1d", x, kernel, strides, padding, data_format, dilation_rate,
                 ("valid", "same", "causal"))


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution of ``x`` with ``kernel`` (rows, cols, in, out)."""
    return _conv(2, "conv2d", x, kernel, strides, padding, data_format, dilation_rate)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    """3-D convolution of ``x`` with ``kernel`` (d1, d2, d3, in, out)."""
    return _conv(3, "conv3d", x, kernel, strides, padding, data_format, dilation_rate)


def _conv_transpose(rank, fn_name, x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    x, kernel, strides, padding, data_format, dilation_rate = _prepare(
        x, kernel, rank, strides, padding, data_format, dilation_rate, fn_name)
    _check_channels(x, data_format, kernel.shape[rank + 1], fn_name)
    if isinstance(output_shape, torch.Tensor):
        output_shape = output_shape.tolist()
    if not isinstance(output_shape, (list, tuple)) or len(output_shape) != rank + 2:
        raise ValueError(f"{fn_name}: `output_shape` must be a tuple of {rank + 2} sizes (batch, spatial axes and "
                         f"channels in {data_format} order), got {output_shape!r}")
    output_shape = [None if d is None else int(d) for d in output_shape]
    spatial = output_shape[2:] if data_format == "channels_first" else output_shape[1:-1]
    channels = output_shape[1] if data_format == "channels_first" else output_shape[-1]
    if channels is not None and channels != kernel.shape[rank]:
        raise ValueError(f"{fn_name}: `output_shape` {tuple(output_shape)} has {channels} channels but the kernel "
                         f"{tuple(kernel.shape)} makes {kernel.shape[rank]}")
    xc = channels_first(x, data_format)
    sizes = tuple(kernel.shape[:rank])
    for axis, (want, size, s, d) in enumerate(zip(spatial, sizes, strides, dilation_rate)):
        dilated = (size - 1) * d + 1
        back = -(-want // s) if padding == "same" else -(-(want - dilated + 1) // s)
        if want is None or back != xc.shape[2 + axis]:
            raise ValueError(f"{fn_name}: `output_shape` {tuple(output_shape)} does not convolve back to the input's "
                             f"spatial shape {tuple(xc.shape[2:])} (kernel {sizes}, strides {strides}, "
                             f"padding {padding!r})")
    weight = kernel.permute(rank + 1, rank, *range(rank)).to(xc.device, xc.dtype)   # (in, out, *k)
    full = _CONV_T[rank](xc, weight, None, strides, 0, 0, 1, dilation_rate)
    # The gradient of a convolution over `spatial`: the full result from the start of that
    # convolution's padding, zeros where the full result ends short.
    index = [slice(None), slice(None)]
    grow = []
    for axis, (want, size, s, d) in enumerate(zip(spatial, sizes, strides, dilation_rate)):
        before = same_pads(want, size, s, d)[0] if padding == "same" else 0
        index.append(slice(before, before + want))
        grow.append(max(before + want - full.shape[2 + axis], 0))
    pads = []
    for extra in reversed(grow):
        pads += [0, extra]
    out = F.pad(full, pads)[tuple(index)]
    return from_channels_first(out, data_format)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Transposed 2-D convolution (the gradient of ``conv2d``) of ``x`` with ``kernel``
    (rows, cols, out, in) to ``output_shape`` (batch, rows, cols, out in ``data_format`` order)."""
    return _conv_transpose(2, "conv2d_transpose", x, kernel, output_shape, strides, padding, data_format,
                           dilation_rate)


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None):
    """Transposed 3-D convolution of ``x`` with ``kernel`` (d1, d2, d3, out, in) to ``output_shape``."""
    return _conv_transpose(3, "conv3d_transpose", x, kernel, output_shape, strides, padding, data_format,
                           (1, 1, 1))


def _depthwise(rank, fn_name, x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    x, kernel, strides, padding, data_format, dilation_rate = _prepare(
        x, depthwise_kernel, rank, strides, padding, data_format, dilation_rate, fn_name)
    _check_channels(x, data_format, kernel.shape[rank], fn_name, "depthwise_kernel")
    channels, multiplier = kernel.shape[rank], kernel.shape[rank + 1]
    # Output channel c * multiplier + m is input channel c through kernel[..., c, m].
    weight = kernel.reshape(*kernel.shape[:rank], channels * multiplier)
    weight = weight.permute(rank, *range(rank)).unsqueeze(1)
    return _conv_nd(x, weight, rank, strides, padding, data_format, dilation_rate, fn_name, groups=channels)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Each channel of ``x`` convolved on its own with ``depthwise_kernel`` (rows, cols, in,
    multiplier): ``in * multiplier`` output channels."""
    return _depthwise(2, "depthwise_conv2d", x, depthwise_kernel, strides, padding, data_format, dilation_rate)


def _separable(rank, fn_name, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    depthwise = _depthwise(rank, fn_name, x, depthwise_kernel, strides, padding, data_format, dilation_rate)
    pointwise = _float(pointwise_kernel)
    _check_ndim(pointwise, rank + 2, "pointwise_kernel", fn_name, "ones, in * multiplier, out")
    if tuple(pointwise.shape[:rank]) != (1,) * rank:
        raise ValueError(f"{fn_name}: `pointwise_kernel` must be 1 wide on its spatial axes, got shape "
                         f"{tuple(pointwise.shape)}")
    data_format = normalize_data_format(data_format)
    _check_channels(depthwise, data_format, pointwise.shape[rank], fn_name, "pointwise_kernel")
    return _conv_nd(depthwise, _torch_kernel(pointwise, rank), rank, (1,) * rank, "valid", data_format,
                    (1,) * rank, fn_name)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1):
    """A depthwise 1-D convolution (kernel (size, in, multiplier)) then a pointwise one
    (kernel (1, in * multiplier, out))."""
    return _separable(1, "separable_conv1d", x, depthwise_kernel, pointwise_kernel, strides, padding,
                      data_format, dilation_rate)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """A depthwise 2-D convolution then a pointwise one (kernel (1, 1, in * multiplier, out))."""
    return _separable(2, "separable_conv2d", x, depthwise_kernel, pointwise_kernel, strides, padding,
                      data_format, dilation_rate)


# --- unshared weights and biases -------------------------------------------------------------
def _local(rank, fn_name, inputs, kernel, kernel_size, strides, output_shape, data_format):
    x, kernel = _float(inputs), _float(kernel)
    data_format = normalize_data_format(data_format)
    _check_ndim(x, rank + 2, "inputs", fn_name, "batch, spatial axes, channels")
    _check_ndim(kernel, 3, "kernel", fn_name, "output positions, patch size, filters")
    kernel_size = _tuple(kernel_size, rank, "kernel_size", fn_name)
    strides = _tuple(strides, rank, "strides", fn_name)
    xc = channels_first(x, data_format)
    if output_shape is None:
        output_shape = tuple((n - k) // s + 1 for n, k, s in zip(xc.shape[2:], kernel_size, strides))
    output_shape = _tuple(output_shape, rank, "output_shape", fn_name)
    patches = xc
    for axis, (k, s) in enumerate(zip(kernel_size, strides)):
        patches = patches.unfold(2 + axis, k, s)            # (batch, C, *out, *k)
    patches = patches[(slice(None), slice(None)) + tuple(slice(0, o) for o in output_shape)]
    batch, channels = patches.shape[:2]
    if tuple(patches.shape[2:2 + rank]) != output_shape:
        raise ValueError(f"{fn_name}: `output_shape` {output_shape} is larger than the input's spatial shape "
                         f"{tuple(xc.shape[2:])} allows with kernel_size {kernel_size} and strides {strides}")
    positions = 1
    for o in output_shape:
        positions *= o
    # A patch is flattened as Keras 2 slices it: (*k, C) channels-last, (C, *k) channels-first.
    order = ((0,) + tuple(range(2, 2 + rank)) + ((1,) + tuple(range(2 + rank, 2 + 2 * rank))
                                                  if data_format == "channels_first"
                                                  else tuple(range(2 + rank, 2 + 2 * rank)) + (1,)))
    flat = patches.permute(*order).reshape(batch, positions, -1)
    if tuple(kernel.shape[:2]) != (positions, flat.shape[-1]):
        raise ValueError(f"{fn_name}: `kernel` must have shape ({positions}, {flat.shape[-1]}, filters) for "
                         f"{output_shape} output positions of {flat.shape[-1]} values, got {tuple(kernel.shape)}")
    out = torch.einsum("bpf,pfo->bpo", flat, kernel.to(flat.device, flat.dtype))
    out = out.reshape(batch, *output_shape, kernel.shape[-1])
    return out if data_format == "channels_last" else out.permute(0, rank + 1, *range(1, rank + 1))


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """1-D convolution with a kernel of its own per output step: ``kernel`` is
    (output_length, kernel_size * in, filters)."""
    return _local(1, "local_conv1d", inputs, kernel, kernel_size, strides, None, data_format)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """2-D convolution with a kernel of its own per output position: ``kernel`` is
    (rows * cols, kernel_rows * kernel_cols * in, filters), ``output_shape`` (rows, cols)."""
    return _local(2, "local_conv2d", inputs, kernel, kernel_size, strides, output_shape, data_format)


def bias_add(x, bias, data_format=None):
    """``x`` plus ``bias`` on its channels axis: ``bias`` is (channels,) or one value per
    position, shaped as ``x`` without its batch axis (in ``data_format`` order)."""
    x, bias = _float(x), _float(bias)
    data_format = normalize_data_format(data_format)
    if bias.dim() not in (1, x.dim() - 1):
        raise ValueError(f"bias_add: `bias` must have 1 or {x.dim() - 1} dimensions for a {x.dim()}-D `x`, "
                         f"got shape {tuple(bias.shape)}")
    if bias.dim() == 1:
        channels = x.shape[1] if data_format == "channels_first" and x.dim() > 2 else x.shape[-1]
        if bias.shape[0] != channels:
            raise ValueError(f"bias_add: `bias` has {bias.shape[0]} values for the {channels} channels of `x` "
                             f"(shape {tuple(x.shape)}, {data_format})")
        shape = ((1, bias.shape[0]) + (1,) * (x.dim() - 2) if data_format == "channels_first" and x.dim() > 2
                 else (1,) * (x.dim() - 1) + (bias.shape[0],))
        return x + bias.reshape(shape).to(x.device, x.dtype)
    if data_format == "channels_first":
        # Keras 2 reshapes (not transposes) a per-position bias given channels-last.
        bias = bias.reshape(bias.shape[-1], *bias.shape[:-1])
    return x + bias.unsqueeze(0).to(x.device, x.dtype)
