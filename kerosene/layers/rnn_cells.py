"""Keras 2 recurrent cells: SimpleRNNCell, LSTMCell, GRUCell (one time step each).

A cell is a layer with ``state_size`` whose ``call(inputs, states)`` returns
``(output, new_states)`` for one step; ``RNN(cell)`` (``kerosene.layers.rnn``) runs
it over a sequence. The cells store their weights as kerosene's LSTM/GRU layers do
(torch's layout, Keras 2's names and orientation through ``get_weights``), so
``RNN(LSTMCell(n))`` and ``LSTM(n)`` exchange weights. Defaults are Keras 2.2.4's:
``recurrent_activation='hard_sigmoid'``, ``implementation=1`` (one dropout mask per
gate), ``reset_after=False`` for GRUCell.

    >>> import torch
    >>> cell = LSTMCell(4)
    >>> h, (h2, c) = cell(torch.zeros(2, 3), [torch.zeros(2, 4), torch.zeros(2, 4)])
    >>> h.shape, c.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
"""
import functools

import torch
import torch.nn.functional as F

from .. import activations
from ._utils import check_positive_int, check_rate, set_weight_options, weight_options_config
from .base import Layer
from .recurrent_weights import (UnitForgetBias, gru_kernel_from_keras, gru_kernel_to_keras, identity_map,
                                swap_rz, transpose)

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell"]


def _dropout_masks(like, rate, count):
    """``count`` independent inverted-dropout masks shaped like ``like`` (batch, features)."""
    keep = 1.0 - rate
    return [torch.empty_like(like).bernoulli_(keep) / keep for _ in range(count)]


def _masked_linear(x, weight, masks, bias=None):
    """``x @ weight.T + bias`` with mask ``k`` applied to ``x`` for gate block ``k`` of ``weight``
    (one mask: the same one for every block; none: no dropout). ``x`` may carry a time axis."""
    if not masks:
        return F.linear(x, weight, bias)
    if x.dim() == 3:
        masks = [m.unsqueeze(1) for m in masks]
    if len(masks) == 1:
        return F.linear(x * masks[0], weight, bias)
    blocks = weight.chunk(len(masks), 0)
    biases = bias.chunk(len(masks), 0) if bias is not None else [None] * len(masks)
    return torch.cat([F.linear(x * m, w, b) for m, w, b in zip(masks, blocks, biases)], -1)


def _is(fn, *candidates):
    return any(fn is c for c in candidates)


def _tanh_sigmoid(cell):
    return (_is(cell.activation, activations.tanh, torch.tanh)
            and _is(cell.recurrent_activation, activations.sigmoid, torch.sigmoid))


class SequenceDropoutMasks:
    """A cell's dropout masks, made once per sequence: ``RNN`` calls the two resets before each
    sequence, so one set of masks serves every step of it, as in Keras 2."""

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class _Cell(SequenceDropoutMasks, Layer):
    """What the three cells share: arguments, weights, dropout masks, config."""

    _gates = 1
    _checked_axis = None

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, implementation=1, **kwargs):
        kwargs.pop("seed", None)  # Keras 3 configs carry the dropout seed
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units")
        self.recurrent_activation = activations.get(recurrent_activation)
        set_weight_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.dropout = check_rate(dropout, "dropout")
        self.recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout")
        if implementation not in (1, 2) or isinstance(implementation, bool):
            raise ValueError(f"{type(self).__name__}: argument 'implementation' must be 1 or 2, "
                             f"got {implementation!r}.")
        self.implementation = implementation
        self.state_size = self.units
        self.output_size = self.units
        self.bias = None
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()

    # -- weights ----------------------------------------------------------

    def _kernel_maps(self):
        return transpose, transpose

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_maps(self):
        return identity_map, identity_map

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        if isinstance(input_shape, list):  # [step input, *constants]: built-in cells take no constants
            input_shape = input_shape[0]
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Cell {self.name!r}: the feature dimension of the inputs must be defined, "
                             f"got input shape {input_shape}.")
        g, u = self._gates, self.units
        to_k, from_k = self._kernel_maps()
        self.kernel = self._add_weight("kernel", (in_dim, g * u), self.kernel_initializer, to_keras=to_k,
                                       from_keras=from_k, regularizer=self.kernel_regularizer,
                                       constraint=self.kernel_constraint)
        self.recurrent_kernel = self._add_weight(
            "recurrent_kernel", (u, g * u), self.recurrent_initializer, to_keras=to_k, from_keras=from_k,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            to_b, from_b = self._bias_maps()
            self.bias = self._add_weight("bias", self._bias_shape(), self._bias_init(), to_keras=to_b,
                                         from_keras=from_b, regularizer=self.bias_regularizer,
                                         constraint=self.bias_constraint)

    # -- dropout (one set of masks per sequence: SequenceDropoutMasks) --------

    def _masks(self, inputs, h, training):
        if training is None:
            training = self.training
        if not training:
            return None, None
        count = self._gates if self.implementation == 1 else 1
        batch = inputs.shape[0]
        drop, rec_drop = 0 < self.dropout < 1, 0 < self.recurrent_dropout < 1   # Keras 2 ignores a rate of 1
        if drop and (self._dropout_mask is None or self._dropout_mask[0].shape[0] != batch):
            like = inputs[:, 0] if inputs.dim() == 3 else inputs
            self._dropout_mask = _dropout_masks(like, self.dropout, count)
        if rec_drop and (self._recurrent_dropout_mask is None
                                           or self._recurrent_dropout_mask[0].shape[0] != batch):
            self._recurrent_dropout_mask = _dropout_masks(h, self.recurrent_dropout, count)
        return (self._dropout_mask if drop else None, self._recurrent_dropout_mask if rec_drop else None)

    # -- running --------------------------------------------------------------

    def _input_bias(self):
        return self.bias if self.use_bias else None

    def _project(self, inputs, masks):
        """The input part of every gate, for one step ``(batch, in)`` or a sequence ``(batch, t, in)``."""
        return _masked_linear(inputs, self.kernel, masks, self._input_bias())

    def _fused(self, x, states, training):
        """The whole sequence through torch's fused kernel (cuDNN on a GPU) as ``(outputs, states)``,
        or None where it does not compute what this cell does; the caller checked there is no mask
        and no dropout."""
        return None

    def _fused_params(self):
        params = [self.kernel, self.recurrent_kernel]
        if self.use_bias:
            params += [self.bias, torch.zeros_like(self.bias)]
        return params

    def call(self, inputs, states, training=None):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        masks, rec_masks = self._masks(inputs, states[0], training)
        return self._recur(self._project(inputs, masks), states, rec_masks)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        config.update(weight_options_config(self, ("kernel", "recurrent", "bias")))
        config.pop("activity_regularizer", None)
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout})
        return config


class SimpleRNNCell(_Cell):
    """One step of ``SimpleRNN``: ``h = activation(x @ kernel + h @ recurrent_kernel + bias)``.

    >>> import torch
    >>> out, states = SimpleRNNCell(3)(torch.ones(2, 5), [torch.zeros(2, 3)])
    >>> out.shape, len(states)
    (torch.Size([2, 3]), 1)
    """

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _fused(self, x, states, training):
        if _is(self.activation, activations.tanh, torch.tanh):
            fn = torch.rnn_tanh
        elif _is(self.activation, activations.relu, torch.relu, F.relu):
            fn = torch.rnn_relu
        else:
            return None
        out, h = fn(x, states[0].unsqueeze(0), self._fused_params(), self.use_bias, 1, 0.0, training, False, True)
        return out, [h[0]]

    def _recur(self, xw, states, rec_masks):
        h = states[0] if not rec_masks else states[0] * rec_masks[0]
        out = self.activation(xw + F.linear(h, self.recurrent_kernel))
        return out, [out]

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation", None)
        return config


class LSTMCell(_Cell):
    """One step of ``LSTM`` (gates i, f, c, o); states ``[h, c]``.

    ``LSTMCell(units, activation='tanh', recurrent_activation='hard_sigmoid',
    unit_forget_bias=True, dropout=0., recurrent_dropout=0., implementation=1, ...)``.

    >>> import torch
    >>> from kerosene.layers import RNN
    >>> RNN(LSTMCell(4))(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
    """

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", unit_forget_bias=True,
                 **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = (self.units, self.units)

    def _bias_init(self):
        return UnitForgetBias(self.bias_initializer, self.units) if self.unit_forget_bias else self.bias_initializer

    def _fused(self, x, states, training):
        if not _tanh_sigmoid(self):
            return None
        out, h, c = torch.lstm(x, (states[0].unsqueeze(0), states[1].unsqueeze(0)), self._fused_params(),
                               self.use_bias, 1, 0.0, training, False, True)
        return out, [h[0], c[0]]

    def _recur(self, xw, states, rec_masks):
        h, c = states[0], states[1]
        z = xw + _masked_linear(h, self.recurrent_kernel, rec_masks)
        i, f, g, o = z.chunk(4, -1)
        ra = self.recurrent_activation
        c = ra(f) * c + ra(i) * self.activation(g)
        h = ra(o) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": activations.serialize(self.recurrent_activation),
                       "unit_forget_bias": self.unit_forget_bias, "implementation": self.implementation})
        return config


class GRUCell(_Cell):
    """One step of ``GRU`` (Keras gates z, r, h); state ``[h]``.

    ``GRUCell(units, activation='tanh', recurrent_activation='hard_sigmoid',
    reset_after=False, implementation=1, ...)``: ``reset_after=True`` applies the reset
    gate after the recurrent product and has a ``(2, 3 * units)`` bias (input and
    recurrent rows), as cuDNN and Keras 3 do.

    >>> import torch
    >>> from kerosene.layers import RNN
    >>> RNN(GRUCell(4, reset_after=True))(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
    """

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", reset_after=False,
                 **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)

    def _kernel_maps(self):
        return gru_kernel_to_keras, gru_kernel_from_keras

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _bias_maps(self):
        fn = functools.partial(swap_rz, dim=-1)
        return fn, fn

    def _input_bias(self):
        if not self.use_bias:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _fused(self, x, states, training):
        if not (self.reset_after and _tanh_sigmoid(self)):
            return None
        params = [self.kernel, self.recurrent_kernel] + ([self.bias[0], self.bias[1]] if self.use_bias else [])
        out, h = torch.gru(x, states[0].unsqueeze(0), params, self.use_bias, 1, 0.0, training, False, True)
        return out, [h[0]]

    def _recur(self, xw, states, rec_masks):
        # Weights are stored in torch's gate order r, z, n (see recurrent_weights).
        h = states[0]
        u = self.units
        xr, xz, xn = xw.chunk(3, -1)
        ra = self.recurrent_activation
        rec_masks = rec_masks or []
        mask_rz = rec_masks[:2] if len(rec_masks) == 3 else rec_masks
        mask_n = rec_masks[2:] if len(rec_masks) == 3 else rec_masks
        if self.reset_after:
            rb = self.bias[1] if self.use_bias else None
            hr, hz = _masked_linear(h, self.recurrent_kernel[:2 * u], mask_rz,
                                    None if rb is None else rb[:2 * u]).chunk(2, -1)
            hn = _masked_linear(h, self.recurrent_kernel[2 * u:], mask_n, None if rb is None else rb[2 * u:])
            r, z = ra(xr + hr), ra(xz + hz)
            n = self.activation(xn + r * hn)
        else:
            hr, hz = _masked_linear(h, self.recurrent_kernel[:2 * u], mask_rz).chunk(2, -1)
            r, z = ra(xr + hr), ra(xz + hz)
            hd = h * mask_n[0] if mask_n else h
            n = self.activation(xn + F.linear(r * hd, self.recurrent_kernel[2 * u:]))
        out = z * h + (1.0 - z) * n
        return out, [out]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": activations.serialize(self.recurrent_activation),
                       "implementation": self.implementation, "reset_after": self.reset_after})
        return config
