"""Keras 2's backend module (``from kerosene import backend as K``) on torch tensors.

The functions custom layers, losses and metrics call, with Keras's names and
``axis``/``keepdims`` arguments. They take torch tensors (numpy arrays and Python
numbers are converted) and return torch tensors, so they work inside ``call``::

    >>> import torch
    >>> from kerosene import backend as K
    >>> x = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> K.sum(K.square(x), axis=-1, keepdims=True)
    tensor([[ 5.],
            [25.]])

``K.set_value(model.optimizer.lr, 1e-3)`` sets an optimizer's learning rate, as in
Keras 2 callbacks.
"""
from __future__ import annotations

from .config import (image_data_format, normalize_data_format, set_image_data_format, epsilon, set_epsilon, floatx, set_floatx,
                     backend, get_value, set_value, batch_get_value, batch_set_value, clear_session,
                     learning_phase, set_learning_phase, variable, constant, is_tensor, is_keras_tensor,
                     BoundHyperparameter, BoundCount, get_uid, reset_uids, manual_variable_initialization, print_tensor)
from .ops import (sum, mean, max, min, prod, std, var, any, all, argmax, argmin, square, sqrt, abs, exp, log,
                  pow, sign, round, maximum, minimum, relu, elu, sigmoid, hard_sigmoid, tanh, softmax,
                  softplus, softsign, clip, cast, equal, not_equal, greater, greater_equal, less, less_equal,
                  l2_normalize)
from .arrays import (concatenate, stack, reshape, transpose, permute_dimensions, expand_dims, squeeze,
                     flatten, batch_flatten, repeat_elements, tile, gather, dot, batch_dot, shape, int_shape,
                     ndim, dtype, count_params, ones, zeros, eye, ones_like, zeros_like, random_normal,
                     random_uniform, truncated_normal, random_binomial, random_normal_variable,
                     random_uniform_variable, switch, categorical_crossentropy, sparse_categorical_crossentropy,
                     binary_crossentropy, cos, sin, cumsum, cumprod, logsumexp, one_hot, arange,
                     cast_to_floatx, update, update_add, update_sub, stop_gradient, identity,
                     get_variable_shape, is_sparse, to_dense)
from .conv_ops import (conv1d, conv2d, conv3d, conv2d_transpose, conv3d_transpose, depthwise_conv2d,
                       separable_conv1d, separable_conv2d, local_conv1d, local_conv2d, bias_add)
from .nn_ops import (pool2d, pool3d, batch_normalization, normalize_batch_in_training, moving_average_update,
                     dropout, in_top_k, repeat, reverse, slice, resize_images, resize_volumes, temporal_padding,
                     spatial_2d_padding, spatial_3d_padding)
from .control_flow import rnn, map_fn, foldl, foldr
from .ctc import ctc_batch_cost, ctc_decode, ctc_label_dense_to_sparse
from .autodiff import gradients
from .graph import (in_train_phase, in_test_phase, eval, placeholder, is_placeholder, function,
                    GraphFunction, name_scope, get_session, set_session, symbolic_aware)

# Called on symbolic tensors, these record a graph node (Keras 2's model.add_loss(K.mean(a + b))).
_SYMBOLIC_AWARE = (
    "sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "argmax", "argmin", "square", "sqrt", "abs",
    "exp", "log", "pow", "sign", "round", "maximum", "minimum", "relu", "elu", "sigmoid", "hard_sigmoid", "tanh",
    "softmax", "softplus", "softsign", "clip", "cast", "equal", "not_equal", "greater", "greater_equal", "less",
    "less_equal", "l2_normalize", "concatenate", "stack", "reshape", "transpose", "permute_dimensions",
    "expand_dims", "squeeze", "flatten", "batch_flatten", "repeat_elements", "tile", "gather", "dot", "batch_dot",
    "switch", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "cos", "sin",
    "cumsum", "cumprod", "logsumexp", "one_hot", "stop_gradient", "identity",
    "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose", "depthwise_conv2d", "separable_conv1d",
    "separable_conv2d", "local_conv1d", "local_conv2d", "bias_add", "pool2d", "pool3d", "batch_normalization",
    "normalize_batch_in_training", "dropout", "in_top_k", "repeat", "reverse", "slice", "resize_images",
    "resize_volumes", "temporal_padding", "spatial_2d_padding", "spatial_3d_padding", "map_fn", "foldl", "foldr",
    "ctc_batch_cost", "print_tensor", "to_dense", "zeros_like", "ones_like")
for _name in _SYMBOLIC_AWARE:
    globals()[_name] = symbolic_aware(globals()[_name])
del _name

__all__ = [
    "image_data_format", "normalize_data_format", "set_image_data_format", "epsilon", "set_epsilon", "floatx", "set_floatx",
    "backend", "get_value", "set_value", "batch_get_value", "batch_set_value", "clear_session",
    "learning_phase", "set_learning_phase", "variable", "constant", "is_tensor", "is_keras_tensor",
    "BoundHyperparameter", "BoundCount",
    "sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "argmax", "argmin",
    "square", "sqrt", "abs", "exp", "log", "pow", "sign", "round", "maximum", "minimum",
    "relu", "elu", "sigmoid", "hard_sigmoid", "tanh", "softmax", "softplus", "softsign", "clip", "cast",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "l2_normalize", "concatenate", "stack", "reshape", "transpose", "permute_dimensions",
    "expand_dims", "squeeze", "flatten", "batch_flatten", "repeat_elements", "tile", "gather",
    "dot", "batch_dot", "shape", "int_shape", "ndim", "dtype", "count_params",
    "ones", "zeros", "eye", "ones_like", "zeros_like", "random_normal", "random_uniform", "truncated_normal", "random_binomial",
    "random_normal_variable", "random_uniform_variable",
    "switch", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "cos", "sin", "cumsum", "cumprod", "logsumexp", "one_hot", "arange", "cast_to_floatx",
    "update", "update_add", "update_sub", "stop_gradient", "identity", "in_train_phase", "in_test_phase",
    "eval", "placeholder", "is_placeholder", "function", "GraphFunction", "name_scope", "get_session",
    "set_session",
    "get_uid", "reset_uids", "manual_variable_initialization", "print_tensor", "get_variable_shape", "is_sparse",
    "to_dense", "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose", "depthwise_conv2d",
    "separable_conv1d", "separable_conv2d", "local_conv1d", "local_conv2d", "bias_add", "pool2d", "pool3d",
    "batch_normalization", "normalize_batch_in_training", "moving_average_update", "dropout", "in_top_k", "repeat",
    "reverse", "slice", "resize_images", "resize_volumes", "temporal_padding", "spatial_2d_padding",
    "spatial_3d_padding", "rnn", "map_fn", "foldl", "foldr", "ctc_batch_cost", "ctc_decode",
    "ctc_label_dense_to_sparse", "gradients",
]
