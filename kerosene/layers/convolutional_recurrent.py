"""Convolutional recurrent layers (Keras 2.2.4): ConvLSTM2D, its cell ConvLSTM2DCell, and
ConvRNN2D, the ``RNN`` that runs such a cell over ``(batch, time, rows, cols, channels)`` inputs
(``(batch, time, channels, rows, cols)`` with ``data_format='channels_first'``).

ConvLSTM2D is an LSTM whose input and recurrent transformations are 2-D convolutions: the input
convolution uses the layer's ``strides``, ``padding`` and ``dilation_rate``; the recurrent one is
a stride-1 ``'same'`` convolution of the previous output. States ``[h, c]`` have the shape of one
output step. Keras 2's weights (gates i, f, c, o along the last axis): ``kernel (k_rows, k_cols,
channels, 4 * filters)``, ``recurrent_kernel (k_rows, k_cols, filters, 4 * filters)``,
``bias (4 * filters,)``.

    >>> import torch
    >>> ConvLSTM2D(4, 3, padding='same', return_sequences=True)(torch.zeros(2, 5, 8, 8, 3)).shape
    torch.Size([2, 5, 8, 8, 4])
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations
from ..backend import normalize_data_format
from ..symbolic import apply_symbolic, is_symbolic
from ._utils import (check_positive_int, check_rate, conv_output_length, set_weight_options,
                     normalize_padding, normalize_tuple, same_padding,
                     serialize_object, weight_options_config)
from .base import Layer, normalize_shape
from .conv_base import _kernel_from_keras, _kernel_to_keras, check_positive_tuple
from .input_spec import InputSpec
from .recurrent_weights import UnitForgetBias
from .rnn import RNN
from .rnn_cells import SequenceDropoutMasks

__all__ = ["ConvRNN2D", "ConvLSTM2DCell", "ConvLSTM2D"]


def _conv2d(x, weight, bias, strides, padding, dilation):
    """TensorFlow's conv2d on channels-first ``x`` (``'same'`` puts any odd pixel of padding last)."""
    if padding == "same":
        pads = []
        for axis in (1, 0):  # F.pad lists the last axis first
            pads += same_padding(x.shape[2 + axis], weight.shape[2 + axis], strides[axis], dilation[axis])
        x = F.pad(x, pads)
    return F.conv2d(x, weight, bias, strides, 0, dilation)


def _gate_conv(x, weight, bias, masks, **conv):
    """The four gates' convolutions of ``x``; with dropout ``masks``, gate ``k`` sees ``x * masks[k]``."""
    if masks is None:
        return _conv2d(x, weight, bias, **conv)
    weights = weight.chunk(4, 0)
    biases = bias.chunk(4, 0) if bias is not None else [None] * 4
    return torch.cat([_conv2d(x * m, w, b, **conv) for m, w, b in zip(masks, weights, biases)], 1)


def _dropout_masks(like, rate):
    keep = 1.0 - rate
    return [torch.empty_like(like).bernoulli_(keep) / keep for _ in range(4)]


class ConvLSTM2DCell(SequenceDropoutMasks, Layer):
    """One step of ``ConvLSTM2D`` on ``(batch, rows, cols, channels)`` inputs; states ``[h, c]``.

    ``ConvLSTM2DCell(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), activation='tanh', recurrent_activation='hard_sigmoid', use_bias=True,
    kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',
    bias_initializer='zeros', unit_forget_bias=True, ..., dropout=0., recurrent_dropout=0.)``.
    ``ConvRNN2D(cell)`` runs it over time.

    >>> import torch
    >>> cell = ConvLSTM2DCell(2, 3, padding='same')
    >>> h, (h2, c) = cell(torch.zeros(1, 4, 4, 3), [torch.zeros(1, 4, 4, 2)] * 2)
    >>> h.shape, c.shape
    (torch.Size([1, 4, 4, 2]), torch.Size([1, 4, 4, 2]))
    """

    _checked_axis = None

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation="tanh", recurrent_activation="hard_sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 **kwargs):
        kwargs.pop("seed", None)  # Keras 3 configs carry the dropout seed
        super().__init__(**kwargs)
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        check_positive_tuple(self.kernel_size, kernel_size, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        check_positive_tuple(self.strides, strides, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        check_positive_tuple(self.dilation_rate, dilation_rate, "dilation_rate")
        if any(s > 1 for s in self.strides) and any(d > 1 for d in self.dilation_rate):
            raise ValueError(f"Layer {self.name!r}: 'strides' > 1 is not compatible with "
                             f"'dilation_rate' > 1 (got strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}).")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        set_weight_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.dropout = check_rate(dropout, "dropout")
        self.recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout")
        self.state_size = (self.filters, self.filters)
        self.output_size = self.filters
        self.bias = None
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        if len(input_shape) != 4:
            raise ValueError(f"Cell {self.name!r} expects one time step of rank 4 (batch, rows, cols, "
                             f"channels), got shape {input_shape}.")
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"Cell {self.name!r}: the channel dimension of the inputs must be defined, "
                             f"got input shape {input_shape}.")
        maps = dict(to_keras=functools.partial(_kernel_to_keras, rank=2),
                    from_keras=functools.partial(_kernel_from_keras, rank=2))
        f4 = 4 * self.filters
        self.kernel = self._add_weight("kernel", self.kernel_size + (channels, f4), self.kernel_initializer,
                                       regularizer=self.kernel_regularizer,
                                       constraint=self.kernel_constraint, **maps)
        self.recurrent_kernel = self._add_weight(
            "recurrent_kernel", self.kernel_size + (self.filters, f4), self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint, **maps)
        if self.use_bias:
            init = (UnitForgetBias(self.bias_initializer, self.filters) if self.unit_forget_bias
                    else self.bias_initializer)
            self.bias = self._add_weight("bias", (f4,), init, regularizer=self.bias_regularizer,
                                         constraint=self.bias_constraint)

    # -- dropout: one set of masks per sequence (ConvRNN2D resets them before each) ----------

    def _masks(self, x, h, training):
        if training is None:
            training = self.training
        if not training:
            return None, None
        if 0 < self.dropout < 1 and (self._dropout_mask is None or self._dropout_mask[0].shape != x.shape):
            self._dropout_mask = _dropout_masks(x, self.dropout)
        if 0 < self.recurrent_dropout < 1 and (self._recurrent_dropout_mask is None
                                               or self._recurrent_dropout_mask[0].shape != h.shape):
            self._recurrent_dropout_mask = _dropout_masks(h, self.recurrent_dropout)
        return (self._dropout_mask if 0 < self.dropout < 1 else None,
                self._recurrent_dropout_mask if 0 < self.recurrent_dropout < 1 else None)

    # -- one step ------------------------------------------------------------------------

    def call(self, inputs, states, training=None):
        last = self.data_format == "channels_last"
        # Computed channels-first (torch's conv layout); views, no copies.
        x = inputs.movedim(-1, 1) if last else inputs
        h, c = [s.movedim(-1, 1) if last else s for s in states[:2]]
        masks, rec_masks = self._masks(x, h, training)
        z = _gate_conv(x, self.kernel, self.bias, masks, strides=self.strides, padding=self.padding,
                       dilation=self.dilation_rate)
        z = z + _gate_conv(h, self.recurrent_kernel, None, rec_masks, strides=(1, 1), padding="same",
                           dilation=(1, 1))
        i, f, g, o = z.chunk(4, 1)
        ra = self.recurrent_activation
        c = ra(f) * c + ra(i) * self.activation(g)
        h = ra(o) * self.activation(c)
        if last:
            h, c = h.movedim(1, -1), c.movedim(1, -1)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                       "padding": self.padding, "data_format": self.data_format,
                       "dilation_rate": self.dilation_rate,
                       "recurrent_activation": activations.serialize(self.recurrent_activation),
                       "unit_forget_bias": self.unit_forget_bias})
        config.update(weight_options_config(self, ("kernel", "recurrent", "bias")))
        config.pop("activity_regularizer", None)
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout})
        return config


class ConvRNN2D(RNN):
    """``RNN`` over 5-D inputs for a convolutional cell (one with ``filters``, ``kernel_size``,
    ``strides``, ``padding``, ``dilation_rate`` and ``data_format``, as ``ConvLSTM2DCell``).

    ``ConvRNN2D(cell, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False)``; as in Keras 2.2.4, cells cannot be stacked and ``unroll`` is refused.

    >>> import torch
    >>> ConvRNN2D(ConvLSTM2DCell(2, 3))(torch.zeros(1, 4, 6, 6, 1)).shape
    torch.Size([1, 4, 4, 2])
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        if unroll:
            raise TypeError(f"{type(self).__name__}: argument 'unroll' must be False: convolutional RNNs "
                            f"cannot be unrolled, got {unroll!r}.")
        if isinstance(cell, (list, tuple)):
            raise TypeError(f"{type(self).__name__}: argument 'cell' must be one convolutional cell "
                            f"(they cannot be stacked), got a {type(cell).__name__} of {len(cell)}.")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=False, **kwargs)
        self.input_spec = InputSpec(ndim=5)

    # -- shapes --------------------------------------------------------------------------

    def _state_shape(self, input_shape, channels):
        """The shape of a state with ``channels`` channels for an input of ``input_shape``."""
        cell = self.cell
        first = cell.data_format == "channels_first"
        spatial = input_shape[3:5] if first else input_shape[2:4]
        out = tuple(conv_output_length(size, k, cell.padding, s, d) for size, k, s, d in
                    zip(spatial, cell.kernel_size, cell.strides, cell.dilation_rate))
        return (input_shape[0], channels) + out if first else (input_shape[0],) + out + (channels,)

    def _state_sizes(self):
        size = self.cell.state_size
        return list(size) if hasattr(size, "__len__") else [size]

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        step = self._state_shape(input_shape, self.cell.filters)
        out = step[:1] + (input_shape[1],) + step[1:] if self.return_sequences else step
        if self.return_state:
            return [out] + [self._state_shape(input_shape, n) for n in self._state_sizes()]
        return out

    def build(self, input_shape):
        if isinstance(input_shape, list):  # [inputs, *initial states]
            input_shape = input_shape[0]
        if len(input_shape) != 5:
            raise ValueError(f"Layer {self.name!r} expects inputs of rank 5 (batch, time, rows, cols, "
                             f"channels), got shape {input_shape}.")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((input_shape[0],) + tuple(input_shape[2:]))
        channel_axis = 2 if getattr(self.cell, "data_format", None) == "channels_first" else -1
        if input_shape[channel_axis] is not None:
            self.input_spec = InputSpec(ndim=5, axes={channel_axis: input_shape[channel_axis]})
        if self.stateful and self._states is None and input_shape[0]:
            self._states = self._zero_states(input_shape)

    # -- states ----------------------------------------------------------------------------

    def _zero_states(self, input_shape):
        dtype = self._probe_dtype()
        return [torch.zeros(self._state_shape(input_shape, n), dtype=dtype) for n in self._state_sizes()]

    def get_initial_state(self, inputs):
        """Zero states, each of the shape of one output step, for ``inputs`` (symbolic inputs give
        symbolic states)."""
        if is_symbolic(inputs):
            return [apply_symbolic(lambda x, i=i: self.get_initial_state(x)[i], (inputs,), {}, "initial_state")
                    for i in range(len(self._state_sizes()))]
        shape = tuple(int(s) for s in inputs.shape)
        return [inputs.new_zeros(self._state_shape(shape, n)) for n in self._state_sizes()]

    def reset_states(self, states=None):
        """Zero (or set to ``states``: one array or tensor per state, each of the shape of one
        output step) the states of a ``stateful`` layer."""
        if not self.stateful:
            if states is None:
                return
            raise AttributeError(f"Layer {self.name!r} must be stateful to have its states reset.")
        shape = self._build_input_shape or self.batch_input_shape
        if isinstance(shape, list):
            shape = shape[0]
        if shape is None or any(shape[i] is None for i in (0, 2, 3, 4)):
            if states is None:
                self._states = None  # made at the first batch, once its shape is known
                return
            raise ValueError(f"Layer {self.name!r} does not know its input shape yet: build it (or give "
                             f"`batch_input_shape`) before setting its states.")
        zeros = self._zero_states(shape)
        if states is None:
            self._states = zeros
            return
        values = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(values) != len(zeros):
            raise ValueError(f"Layer {self.name!r} expects {len(zeros)} states, but `states` holds "
                             f"{len(values)} value(s).")
        out = []
        for i, (value, zero) in enumerate(zip(values, zeros)):
            value = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
            if tuple(value.shape) != tuple(zero.shape):
                raise ValueError(f"State {i} is incompatible with layer {self.name!r}: expected shape "
                                 f"{tuple(zero.shape)}, found shape {tuple(value.shape)}.")
            out.append(value.to(zero.dtype))
        self._states = out


class ConvLSTM2D(ConvRNN2D):
    """Convolutional LSTM over ``(batch, time, rows, cols, channels)`` inputs.

    ``ConvLSTM2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), activation='tanh', recurrent_activation='hard_sigmoid', use_bias=True,
    kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',
    bias_initializer='zeros', unit_forget_bias=True, ..., return_sequences=False,
    return_state=False, go_backwards=False, stateful=False, dropout=0., recurrent_dropout=0.)``.
    The output (and each state) has the shape of a Conv2D's output for one time step.

    >>> import torch
    >>> layer = ConvLSTM2D(2, (3, 3))
    >>> layer(torch.zeros(1, 4, 6, 6, 1)).shape
    torch.Size([1, 4, 4, 2])
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 1, 8), (3, 3, 2, 8), (8,)]
    """

    _CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                  "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                  "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                  "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation="tanh", recurrent_activation="hard_sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 return_sequences=False, go_backwards=False, stateful=False, dropout=0.0,
                 recurrent_dropout=0.0, **kwargs):
        kwargs.pop("seed", None)  # Keras 3 configs carry the dropout seed
        cell = ConvLSTM2DCell(
            filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, go_backwards=go_backwards,
                         stateful=stateful, activity_regularizer=activity_regularizer, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["cell"]  # rebuilt from the arguments below, as Keras 2 does
        cell_config = self.cell.get_config()
        config.update({key: cell_config[key] for key in self._CELL_ARGS})
        config["activity_regularizer"] = serialize_object(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return Layer.from_config.__func__(cls, config, custom_objects)


# Keras 2 reads the cell's arguments off the layer (layer.filters, layer.padding, ...).
for _arg in ConvLSTM2D._CELL_ARGS:
    setattr(ConvLSTM2D, _arg, property(lambda self, _arg=_arg: getattr(self.cell, _arg),
                                       doc=f"The cell's ``{_arg}``."))
del _arg
