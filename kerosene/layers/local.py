"""Locally-connected layers: LocallyConnected1D and LocallyConnected2D (Keras 2.2.4).

They slide a window over the input as a convolution does, but every output position has
its own filters (weights are not shared). Only ``padding='valid'`` exists, as in Keras
2.2.4. Weights keep Keras 2's layout, so Keras 2 ``.h5`` files load unchanged:

- LocallyConnected1D: ``kernel (out_steps, kernel_size * channels, filters)``,
  ``bias (out_steps, filters)``;
- LocallyConnected2D: ``kernel (out_rows * out_cols, k_rows * k_cols * channels, filters)``,
  ``bias (out_rows, out_cols, filters)``.

The flattened window of a position lists its values in the input's own axis order: kernel
offset then channel for channels-last inputs (``(k_rows, k_cols, channels)``), channel then
kernel offset for channels-first ones (``(channels, k_rows, k_cols)``); positions run row by row.

    >>> import torch
    >>> LocallyConnected1D(4, 3)(torch.zeros(2, 10, 5)).shape
    torch.Size([2, 8, 4])
"""

import torch

from ..backend import normalize_data_format
from ..symbolic import is_symbolic
from ._utils import (check_positive_int, conv_output_length, normalize_padding, normalize_tuple, set_weight_options,
                     weight_options_config)
from .base import Layer, normalize_shape
from .conv_base import check_positive_tuple
from .input_spec import InputSpec

__all__ = ["LocallyConnected1D", "LocallyConnected2D"]


class _LocallyConnected(Layer):
    """What both locally-connected layers share: arguments, weights, config."""

    rank = 1
    _checked_axis = None  # the input spec set in build checks rank and channels

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        # Keras 2.2.5+ configs carry `implementation`; 2 and 3 store the kernel in other layouts.
        implementation = kwargs.pop("implementation", 1)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if implementation != 1:
            raise ValueError(f"{type(self).__name__}: argument 'implementation' must be 1 (Keras 2.2.4's kernel "
                             f"layout, the only one kerosene has), got {implementation!r}.")
        n = self.rank
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size")
        check_positive_tuple(self.kernel_size, kernel_size, "kernel_size")
        self.strides = normalize_tuple(strides, n, "strides")
        check_positive_tuple(self.strides, strides, "strides")
        self.padding = normalize_padding(padding, ("valid",))
        self.data_format = normalize_data_format(data_format)
        set_weight_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        self.input_spec = InputSpec(ndim=n + 2)
        self.bias = None

    # -- shapes -------------------------------------------------------------

    def _channels_last(self):
        return self.data_format == "channels_last"

    def _split_shape(self, input_shape):
        """(spatial sizes, channels) of a batch-first input shape."""
        if self._channels_last():
            return tuple(input_shape[1:-1]), input_shape[-1]
        return tuple(input_shape[2:]), input_shape[1]

    def _output_spatial(self, spatial):
        return tuple(conv_output_length(size, k, self.padding, s)
                     for size, k, s in zip(spatial, self.kernel_size, self.strides))

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name!r} expects inputs of rank {self.rank + 2}, "
                             f"got shape {input_shape}.")
        spatial, _ = self._split_shape(input_shape)
        out = self._output_spatial(spatial)
        if self._channels_last():
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    # -- weights --------------------------------------------------------------

    def __call__(self, inputs, *args, **kwargs):
        # On symbolic inputs, build from their shape: the shape probe that follows stands in a size
        # for each unknown dimension, and these weights depend on the spatial sizes.
        if not self.built and not isinstance(inputs, torch.Tensor) and is_symbolic(inputs):
            self.build(tuple(inputs.shape))
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name!r} expects inputs of rank {self.rank + 2}, "
                             f"got shape {input_shape}.")
        spatial, channels = self._split_shape(input_shape)
        if channels is None or any(size is None for size in spatial):
            raise ValueError(f"Layer {self.name!r}: the spatial and channel dimensions of the inputs "
                             f"must be defined (each position has its own weights), got input "
                             f"shape {input_shape}.")
        out = self._output_spatial(spatial)
        if any(size < 1 for size in out):
            raise ValueError(f"Layer {self.name!r}: kernel_size {self.kernel_size} does not fit in "
                             f"the input's spatial size {spatial} (padding 'valid').")
        self._out_spatial = out
        positions, window = 1, channels
        for size, k in zip(out, self.kernel_size):
            positions, window = positions * size, window * k
        self.kernel = self._add_weight("kernel", (positions, window, self.filters),
                                       self.kernel_initializer, regularizer=self.kernel_regularizer,
                                       constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self._add_weight("bias", self._bias_shape(out), self.bias_initializer,
                                         regularizer=self.bias_regularizer,
                                         constraint=self.bias_constraint)
        axis = -1 if self._channels_last() else 1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={axis: channels})

    def _bias_shape(self, out):
        return tuple(out) + (self.filters,)

    # -- running --------------------------------------------------------------

    def _windows(self, x):
        """``(batch, positions, window)``: each output position's flattened input window."""
        raise NotImplementedError

    def call(self, inputs):
        patches = self._windows(inputs)
        out = torch.einsum("bpk,pkf->bpf", patches, self.kernel)
        out = self._arrange(out)
        if self.use_bias:
            out = out + self._bias_view()
        return self.activation(out)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size,
                       "strides": self.strides, "padding": self.padding})
        if self.rank == 2:  # Keras 2.2.4's LocallyConnected1D config has no data_format
            config["data_format"] = self.data_format
        config.update(weight_options_config(self))
        return config


class LocallyConnected1D(_LocallyConnected):
    """Unshared-weight 1-D convolution over ``(batch, steps, channels)`` inputs.

    ``LocallyConnected1D(filters, kernel_size, strides=1, padding='valid', activation=None,
    use_bias=True, ...)``; Keras kernel ``(out_steps, kernel_size * channels, filters)``, bias
    ``(out_steps, filters)``. As in Keras 2.2.4, inputs are always channels-last: an explicit
    ``data_format='channels_first'`` is refused.

    >>> import torch
    >>> layer = LocallyConnected1D(4, 3, strides=2)
    >>> layer(torch.zeros(2, 9, 5)).shape
    torch.Size([2, 4, 4])
    >>> [w.shape for w in layer.get_weights()]
    [(4, 15, 4), (4, 4)]
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, **kwargs):
        if data_format is not None and normalize_data_format(data_format) != "channels_last":
            raise ValueError(f"LocallyConnected1D: argument 'data_format' must be 'channels_last' "
                             f"(or None): Keras 2.2.4's layer reads (batch, steps, channels) "
                             f"inputs only, got {data_format!r}.")
        super().__init__(filters, kernel_size, strides=strides, padding=padding, **kwargs)
        self.data_format = "channels_last"

    def _windows(self, x):
        (k,), (s,) = self.kernel_size, self.strides
        # unfold: (batch, out_steps, channels, k) -> window order (k, channels)
        w = x.unfold(1, k, s).transpose(2, 3)
        return w.reshape(x.shape[0], w.shape[1], -1)

    def _arrange(self, out):
        return out

    def _bias_view(self):
        return self.bias


class LocallyConnected2D(_LocallyConnected):
    """Unshared-weight 2-D convolution over ``(batch, rows, cols, channels)`` inputs
    (``(batch, channels, rows, cols)`` with ``data_format='channels_first'``).

    ``LocallyConnected2D(filters, kernel_size, strides=(1, 1), padding='valid',
    data_format=None, activation=None, use_bias=True, ...)``; Keras kernel
    ``(out_rows * out_cols, k_rows * k_cols * channels, filters)``, bias
    ``(out_rows, out_cols, filters)``.

    >>> import torch
    >>> layer = LocallyConnected2D(3, (2, 2))
    >>> layer(torch.zeros(1, 4, 5, 2)).shape
    torch.Size([1, 3, 4, 3])
    >>> [w.shape for w in layer.get_weights()]
    [(12, 8, 3), (3, 4, 3)]
    """

    rank = 2

    def _windows(self, x):
        (kr, kc), (sr, sc) = self.kernel_size, self.strides
        if self._channels_last():
            # (batch, out_rows, out_cols, channels, kr, kc) -> window order (kr, kc, channels)
            w = x.unfold(1, kr, sr).unfold(2, kc, sc).permute(0, 1, 2, 4, 5, 3)
        else:
            # (batch, channels, out_rows, out_cols, kr, kc) -> window order (channels, kr, kc)
            w = x.unfold(2, kr, sr).unfold(3, kc, sc).permute(0, 2, 3, 1, 4, 5)
        return w.reshape(x.shape[0], w.shape[1] * w.shape[2], -1)

    def _arrange(self, out):
        rows, cols = self._out_spatial
        out = out.reshape(out.shape[0], rows, cols, self.filters)
        return out if self._channels_last() else out.permute(0, 3, 1, 2)

    def _bias_view(self):
        if self._channels_last():
            return self.bias
        # Keras 2.2.4 (K.bias_add) adds a (rows, cols, filters) bias to channels-first outputs by
        # reshaping it to (filters, rows, cols), not transposing it; done alike so Keras 2 files
        # give the same outputs.
        return self.bias.reshape(self.filters, *self._out_spatial)
