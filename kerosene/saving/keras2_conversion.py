"""Keras 2's ``preprocess_weights_for_loading``: arrays saved for one recurrent layer class
made to fit another, so Keras 2 files written by ``CuDNNLSTM``/``CuDNNGRU`` load into
``LSTM``/``GRU(reset_after=True)`` and back.

cuDNN's layout differs from Keras's in three ways, each gate block on its own: the input
kernel ``(in, u)`` of a gate holds cuDNN's ``(u, in)`` matrix read row by row, the
recurrent kernel of a gate is transposed, and the bias is two rows (input and recurrent)
where ``LSTM`` keeps their sum. ``GRU(reset_after=False)`` has one bias and is a different
computation: converting to or from it is a ValueError. ``Bidirectional``,
``TimeDistributed`` and nested models convert their inner layers' arrays.

    arrays = preprocess_weights_for_loading(lstm_layer, arrays_saved_by_cudnn_lstm)
"""
from __future__ import annotations

import numpy as np

from .layer_weights import layer_arrays, sublayers, weight_counts

__all__ = ["preprocess_weights_for_loading"]


_CONV_LAYERS = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "ConvLSTM2D")


def _reshaped_kernel(layer, kernel):
    wanted = tuple(layer_arrays(layer)[0][0].shape)
    if kernel.shape == wanted:
        return kernel
    if kernel.size != int(np.prod(wanted)):
        raise ValueError(f"Cannot reshape the saved kernel of shape {kernel.shape} ({kernel.size} values) for "
                         f"layer {layer.name!r}, whose kernel has shape {wanted} ({int(np.prod(wanted))} values)")
    return kernel.reshape(wanted)


def _per_gate(kernel, gates, fn):
    return np.concatenate([fn(block) for block in np.split(np.asarray(kernel), gates, axis=-1)], axis=-1)


def _kernel_from_cudnn(block):
    rows, cols = block.shape
    return block.reshape(cols, rows).T


def _kernel_to_cudnn(block):
    rows, cols = block.shape
    return np.ascontiguousarray(block.T).reshape(rows, cols)


def _convert(weights, gates, from_cudnn, bias):
    kernel = _per_gate(weights[0], gates, _kernel_from_cudnn if from_cudnn else _kernel_to_cudnn)
    recurrent = _per_gate(weights[1], gates, lambda block: block.T)
    return [kernel, recurrent, bias]


def _lstm_kind(bias, units):
    if bias.shape == (8 * units,):
        return "CuDNNLSTM"
    if bias.shape == (4 * units,):
        return "LSTM"
    raise ValueError(f"preprocess_weights_for_loading: an LSTM bias of shape {bias.shape} fits neither LSTM "
                     f"({4 * units},) nor CuDNNLSTM ({8 * units},)")


def _gru_kind(bias, units):
    kinds = {(6 * units,): "CuDNNGRU", (2, 3 * units): "GRU(reset_after=True)", (3 * units,): "GRU(reset_after=False)"}
    if bias.shape not in kinds:
        raise ValueError(f"preprocess_weights_for_loading: a GRU bias of shape {bias.shape} fits none of "
                         f"{', '.join(f'{v} {k}' for k, v in kinds.items())}")
    return kinds[bias.shape]


def _convert_rnn(layer, weights):
    target = type(layer).__name__
    if target not in ("LSTM", "CuDNNLSTM", "GRU", "CuDNNGRU") or len(weights) != 3:
        return weights
    units = np.shape(weights[1])[0]
    bias = np.asarray(weights[2])
    if target in ("LSTM", "CuDNNLSTM"):
        source = _lstm_kind(bias, units)
        if source == target:
            return weights
        if source == "CuDNNLSTM":
            return _convert(weights, 4, True, bias[:4 * units] + bias[4 * units:])
        return _convert(weights, 4, False, np.concatenate([bias, np.zeros_like(bias)]))
    source = _gru_kind(bias, units)
    wanted = "CuDNNGRU" if target == "CuDNNGRU" else (
        "GRU(reset_after=True)" if getattr(layer, "reset_after", False) else "GRU(reset_after=False)")
    if source == wanted:
        return weights
    if "GRU(reset_after=False)" in (source, wanted):
        raise ValueError(f"{source} is not compatible with {wanted}")
    if source == "CuDNNGRU":
        return _convert(weights, 3, True, bias.reshape(2, -1))
    return _convert(weights, 3, False, bias.reshape(-1))


def preprocess_weights_for_loading(layer, weights, original_keras_version=None, original_backend=None,
                                   reshape=False):
    """``weights`` (numpy arrays saved for a layer like ``layer``) in the form ``layer``
    takes: recurrent weights converted between the cuDNN and the Keras layouts, through
    ``Bidirectional`` (half each), ``TimeDistributed`` and models used as layers. Other arrays are returned as they are.

    ``reshape=True`` gives a convolution kernel saved arrays of another shape but the same
    size. ``original_keras_version`` and ``original_backend`` are Keras 2's arguments for
    Keras 1 and Theano files, which kerosene does not read: only Keras 2's are accepted.
    """
    if original_keras_version not in (None, "2") and not str(original_keras_version).startswith("2"):
        raise ValueError(f"preprocess_weights_for_loading: `original_keras_version` {original_keras_version!r} "
                         "is not supported: kerosene reads Keras 2 files (and Keras 3's)")
    if original_backend not in (None, "tensorflow", "cntk", "torch"):
        raise ValueError(f"preprocess_weights_for_loading: `original_backend` {original_backend!r} is not "
                         "supported: Theano's flipped convolution kernels are not converted")
    weights = [np.asarray(w) for w in weights]
    if reshape and type(layer).__name__ in _CONV_LAYERS and weights:
        weights[0] = _reshaped_kernel(layer, weights[0])
    kind = type(layer).__name__
    if kind == "Bidirectional":
        half = len(weights) // 2
        return (preprocess_weights_for_loading(layer.forward_layer, weights[:half])
                + preprocess_weights_for_loading(layer.backward_layer, weights[half:]))
    if kind == "TimeDistributed":
        return preprocess_weights_for_loading(layer.layer, weights)
    subs = sublayers(layer)
    if subs is not None:  # a nested model: its layers' trainable arrays, then their other ones
        counts = [weight_counts(sub) for sub in subs]
        split = sum(c[0] for c in counts)
        front, back, trainable, frozen = weights[:split], weights[split:], [], []
        for sub, (n_trainable, n_frozen) in zip(subs, counts):
            trainable += preprocess_weights_for_loading(sub, front[:n_trainable]) if n_trainable else []
            frozen += preprocess_weights_for_loading(sub, back[:n_frozen]) if n_frozen else []
            front, back = front[n_trainable:], back[n_frozen:]
        return trainable + frozen
    return _convert_rnn(layer, weights)
