"""Keras 2's ``keras.utils.layer_utils``: parameter counts, the summary table, and converting
weights between Theano-style and TensorFlow-style convolutions and between data formats.

    count_params(model.trainable_weights)
    print_summary(model)
    convert_all_kernels_in_model(model)          # flip every convolution kernel
    convert_dense_weights_data_format(dense, (8, 8, 16), 'channels_first')
"""
import numpy as np

from .. import layers as layers_module
from ..backend import int_shape
from .conv_utils import convert_kernel
from .summary import format_summary

__all__ = ["count_params", "print_summary", "convert_all_kernels_in_model", "convert_dense_weights_data_format"]

_CONV_CLASSES = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose")


def count_params(weights):
    """The number of scalars in ``weights`` (each tensor counted once)."""
    unique = {id(w): w for w in weights}
    return int(sum(np.prod(int_shape(w)) for w in unique.values()))


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Print ``model``'s summary table, one ``print_fn`` call per line (as ``model.summary()``)."""
    for line in format_summary(model, line_length=line_length, positions=positions).split("\n"):
        (print_fn or print)(line)


def convert_all_kernels_in_model(model):
    """Flip the spatial axes of every convolution kernel in ``model`` (a model trained with
    Theano's convolution then runs with TensorFlow's and torch's, and back)."""
    classes = tuple(getattr(layers_module, name) for name in _CONV_CLASSES if hasattr(layers_module, name))
    for layer in model.layers:
        if isinstance(layer, classes):
            weights = layer.get_weights()
            layer.set_weights([convert_kernel(weights[0])] + weights[1:])


def convert_dense_weights_data_format(dense, previous_feature_map_shape, target_data_format="channels_first"):
    """Reorder the rows of ``dense``'s kernel for a model whose layers before the ``Flatten``
    feeding it change data format: ``previous_feature_map_shape`` is the feature map's shape
    (no batch axis) in the target format."""
    if target_data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"convert_dense_weights_data_format: `target_data_format` must be 'channels_last' or "
                         f"'channels_first', got {target_data_format!r}")
    shape = tuple(int(d) for d in previous_feature_map_shape)
    kernel, *rest = dense.get_weights()
    if len(shape) != 3 or int(np.prod(shape)) != kernel.shape[0]:
        raise ValueError(f"convert_dense_weights_data_format: `previous_feature_map_shape` {shape} must be 3 sizes "
                         f"whose product is the kernel's {kernel.shape[0]} input rows")
    if target_data_format == "channels_first":
        c, h, w = shape
        rows = kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3)
    else:
        h, w, c = shape
        rows = kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3)
    dense.set_weights([rows.reshape(kernel.shape)] + rest)
