"""Recurrent layers: SimpleRNN, LSTM, GRU.

With the default activations (``tanh`` / ``sigmoid``), no ``recurrent_dropout``
and no mask, a layer runs torch's fused RNN kernel (cuDNN on GPU) on weights
it stores in torch's layout; otherwise it runs a Python loop over time steps
with the same weights.  Keras weights:

- SimpleRNN: ``kernel (in, u)``, ``recurrent_kernel (u, u)``, ``bias (u,)``
- LSTM: ``kernel (in, 4u)``, ``recurrent_kernel (u, 4u)``, ``bias (4u,)``, gates i, f, c, o
- GRU (``reset_after=True``): ``kernel (in, 3u)``, ``recurrent_kernel (u, 3u)``,
  ``bias (2, 3u)`` (input and recurrent biases), gates z, r, h.  torch orders
  GRU gates r, z, n; the conversion happens in ``keras_weights``.
"""

import functools
import warnings

import torch
import torch.nn.functional as F

from .. import activations
from ._utils import carried_for_batch, check_positive_int, check_rate, set_weight_options, weight_options_config
from ..symbolic import is_symbolic
from .base import Layer, normalize_shape
from .recurrent_weights import (UnitForgetBias as _UnitForgetBias, gru_kernel_from_keras as _gru_kernel_from_keras,
                                gru_kernel_to_keras as _gru_kernel_to_keras, identity_map as _identity_map,
                                swap_rz as _swap_rz, transpose as _transpose)

# Keras 2's keras.layers.recurrent also holds the generic RNN layer and the cells (written in rnn.py/rnn_cells.py).
from .rnn import RNN, StackedRNNCells, carried_states as _carried_states  # noqa: E402,F401
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell  # noqa: E402,F401

__all__ = ["SimpleRNN", "LSTM", "GRU", "RNN", "StackedRNNCells", "SimpleRNNCell", "LSTMCell", "GRUCell"]

# Weights passed to the fused kernel are not one flat cuDNN buffer; torch
# then copies them per call (cheap next to the recurrence) and warns.
warnings.filterwarnings("ignore", message="RNN module weights are not part of single")


def _is(fn, *candidates):
    return any(fn is c for c in candidates)


class _RNN(Layer):
    _gates = 1
    _n_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, implementation=None, time_major=False,
                 **kwargs):
        kwargs.pop("seed", None)
        kwargs.pop("use_cudnn", None)
        # Keras 3 (its Bidirectional sets it): zeros, not the previous output, at masked steps
        zero_output_for_mask = bool(kwargs.pop("zero_output_for_mask", False))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.units = check_positive_int(units, "units")
        self.recurrent_activation = activations.get(recurrent_activation)
        set_weight_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.dropout = min(1.0, max(0.0, check_rate(dropout, "dropout")))
        self.recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        if time_major:
            raise ValueError("time_major=True is not supported: inputs are (batch, steps, "
                             "features).")
        self._states = None
        self.bias = None

    # -- weights ---------------------------------------------------------

    def _kernel_maps(self):
        return _transpose, _transpose

    def _recurrent_maps(self):
        return self._kernel_maps()

    def _bias_init(self):
        return self.bias_initializer

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_maps(self):
        return _identity_map, _identity_map

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        # Symbolic initial states are inputs of the call (as in Keras 2): the graph then
        # resolves them like any input, and the saved config lists them in the node.
        if initial_state is not None and not isinstance(inputs, list):
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            symbolic = [is_symbolic(s) for s in states]
            if any(symbolic) and not (all(symbolic) and is_symbolic(inputs)):
                raise ValueError(f"Layer {self.name!r}: `initial_state` must be all symbolic tensors (Input() or "
                                 "layer outputs) on symbolic inputs, or all tensors on tensor inputs; got "
                                 f"{[type(s).__name__ for s in states]} on {type(inputs).__name__} inputs")
            if any(symbolic):
                return super().__call__([inputs] + states, *args, **kwargs)
        if initial_state is not None:
            kwargs["initial_state"] = initial_state
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        if isinstance(input_shape, list):  # [inputs, *initial states]
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise ValueError(f"Layer {self.name!r} expects inputs of shape (batch, steps, "
                             f"features), got {input_shape}.")
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Layer {self.name!r}: the feature dimension of the inputs "
                             f"must be defined, got input shape {input_shape}.")
        g, u = self._gates, self.units
        to_k, from_k = self._kernel_maps()
        self.kernel = self._add_weight(
            "kernel", (in_dim, g * u), self.kernel_initializer, to_keras=to_k,
            from_keras=from_k, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        to_r, from_r = self._recurrent_maps()
        self.recurrent_kernel = self._add_weight(
            "recurrent_kernel", (u, g * u), self.recurrent_initializer, to_keras=to_r,
            from_keras=from_r, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        if self.use_bias:
            to_b, from_b = self._bias_maps()
            self.bias = self._add_weight(
                "bias", self._bias_shape(), self._bias_init(), to_keras=to_b,
                from_keras=from_b, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)
            self.register_buffer("_zero_bias", torch.zeros(g * u), persistent=False)
        self._fast = self._can_use_fused()

    def _can_use_fused(self):
        return (_is(self.activation, activations.tanh, torch.tanh)
                and _is(self.recurrent_activation, activations.sigmoid, torch.sigmoid))

    # -- running ---------------------------------------------------------

    def _zero_states(self, x):
        return [x.new_zeros(x.shape[0], self.units) for _ in range(self._n_states)]

    def _initial_states(self, x, initial_state):
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            if len(states) != self._n_states:
                raise ValueError(f"Layer {self.name!r} expects {self._n_states} initial "
                                 f"state tensor(s), got {len(states)}.")
            return states
        carried = carried_for_batch(self, x) if self.stateful else None
        return carried if carried is not None else self._zero_states(x)

    def compute_mask(self, inputs, mask=None):
        """The sequence mask goes on with ``return_sequences`` only; the states carry none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * self._n_states if self.return_state else out

    @property
    def states(self):
        """Keras 2: the states a ``stateful`` layer carries (``[None, ...]`` before its first batch)."""
        return self._states if self._states is not None else [None] * self._n_states

    def reset_states(self, states=None):
        """Zero (or set to ``states``: arrays or tensors, checked) the carried states of a ``stateful`` layer."""
        shape = self._build_input_shape or self.batch_input_shape
        shape = shape[0] if isinstance(shape, list) else shape
        self._states = _carried_states(self.name, [self.units] * self._n_states, shape[0] if shape else None, states)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):  # [inputs, *initial states] (a graph's call)
            inputs, initial_state = inputs[0], list(inputs[1:])
            mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        if training is None:
            training = self.training
        x = inputs
        if self.go_backwards:
            x = x.flip(1)
            if mask is not None:
                mask = mask.flip(1)
        states = self._initial_states(x, initial_state)
        if training and self.dropout > 0.0:
            keep = 1.0 - self.dropout
            drop = torch.empty((x.shape[0], 1, x.shape[2]), dtype=x.dtype,
                               device=x.device).bernoulli_(keep)
            x = x * drop / keep if keep > 0 else x * 0.0
        rec_mask = None
        if training and self.recurrent_dropout > 0.0:
            keep = 1.0 - self.recurrent_dropout
            rec_mask = torch.empty((x.shape[0], self.units), dtype=x.dtype,
                                   device=x.device).bernoulli_(keep) / max(keep, 1e-12)
        if self._fast and mask is None and rec_mask is None:
            out, states = self._run_fused(x, states, bool(training))
        else:
            out, states = self._run_loop(x, states, mask, rec_mask)
        if self.stateful:
            self._states = [s.detach() for s in states]
        output = out if self.return_sequences else states[0]
        if self.return_state:
            return [output] + list(states)
        return output

    def _run_loop(self, x, states, mask, rec_mask):
        step = self._step
        xw = self._input_projection(x)
        outs = []
        for t in range(x.shape[1]):
            new = step(xw[:, t], states, rec_mask)
            output = new[0]
            if mask is not None:
                # A masked step carries the states and repeats the last output (Keras).
                m = mask[:, t].unsqueeze(1).to(torch.bool)
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
                output = torch.where(m, output, torch.zeros_like(output)) if self.zero_output_for_mask else new[0]
            outs.append(output)
            states = new
        if outs:
            out = torch.stack(outs, 1)
        else:
            out = x.new_zeros(x.shape[0], 0, self.units)
        return out, states

    def _input_projection(self, x):
        bias = self.bias if self.use_bias else None
        return F.linear(x, self.kernel, bias)

    # -- shapes and config ------------------------------------------------

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        batch = input_shape[0]
        out = (batch, input_shape[1], self.units) if self.return_sequences else (
            batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * self._n_states
        return out

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            **weight_options_config(self, ("kernel", "recurrent", "bias")),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful,
            "unroll": self.unroll,
        })
        if self.zero_output_for_mask:   # Keras 2 has no such key; written only when it matters
            config["zero_output_for_mask"] = True
        return config


class SimpleRNN(_RNN):
    """Fully connected RNN: ``h = activation(x @ kernel + h @ recurrent_kernel + bias)``.

    ``SimpleRNN(units, activation='tanh', use_bias=True, dropout=0.0,
    recurrent_dropout=0.0, return_sequences=False, return_state=False,
    go_backwards=False, stateful=False, ...)``.  ``tanh`` and ``relu`` run
    torch's fused kernel.

    >>> import torch
    >>> SimpleRNN(4)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 4])
    """

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _can_use_fused(self):
        return _is(self.activation, activations.tanh, torch.tanh, activations.relu,
                   torch.relu, F.relu)

    def _run_fused(self, x, states, training):
        fn = torch.rnn_tanh if _is(self.activation, activations.tanh, torch.tanh) else (
            torch.rnn_relu)
        params = [self.kernel, self.recurrent_kernel]
        if self.use_bias:
            params += [self.bias, self._zero_bias]
        out, h = fn(x, states[0].unsqueeze(0), params, self.use_bias, 1, 0.0, training,
                    False, True)
        return out, [h[0]]

    def _step(self, xw, states, rec_mask):
        h = states[0] if rec_mask is None else states[0] * rec_mask
        return [self.activation(xw + F.linear(h, self.recurrent_kernel))]

    def get_config(self):
        return super().get_config()


class LSTM(_RNN):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997).

    ``LSTM(units, activation='tanh', recurrent_activation='sigmoid',
    use_bias=True, kernel_initializer='glorot_uniform',
    recurrent_initializer='orthogonal', bias_initializer='zeros',
    unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0,
    return_sequences=False, return_state=False, go_backwards=False, ...)``.
    ``recurrent_activation`` defaults to Keras 3's ``'sigmoid'`` (Keras 2.2
    used ``'hard_sigmoid'``).  ``return_state=True`` returns
    ``[output, h, c]``.

    >>> import torch
    >>> LSTM(8, return_sequences=True)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """

    _gates = 4
    _n_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if self.unit_forget_bias:
            return _UnitForgetBias(self.bias_initializer, self.units)
        return self.bias_initializer

    def _run_fused(self, x, states, training):
        params = [self.kernel, self.recurrent_kernel]
        if self.use_bias:
            params += [self.bias, self._zero_bias]
        out, h, c = torch.lstm(x, (states[0].unsqueeze(0), states[1].unsqueeze(0)), params,
                               self.use_bias, 1, 0.0, training, False, True)
        return out, [h[0], c[0]]

    def _step(self, xw, states, rec_mask):
        h, c = states
        if rec_mask is not None:
            h = h * rec_mask
        z = xw + F.linear(h, self.recurrent_kernel)
        i, f, g, o = z.chunk(4, 1)
        ra = self.recurrent_activation
        c = ra(f) * c + ra(i) * self.activation(g)
        h = ra(o) * self.activation(c)
        return [h, c]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(_RNN):
    """Gated recurrent unit (Cho et al., 2014), Keras 3 / cuDNN flavour.

    ``GRU(units, activation='tanh', recurrent_activation='sigmoid',
    reset_after=True, ...)``: the reset gate is applied after the recurrent
    matrix product, and the bias is ``(2, 3 * units)`` (input and recurrent
    rows).  ``reset_after=False`` (Keras 2.2's GRU) runs the Python loop with a
    ``(3 * units,)`` bias.

    >>> import torch
    >>> GRU(8)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 8])
    """

    _gates = 3
    _n_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)

    def _kernel_maps(self):
        return _gru_kernel_to_keras, _gru_kernel_from_keras

    def _bias_shape(self):
        u = self.units
        return (2, 3 * u) if self.reset_after else (3 * u,)

    def _bias_maps(self):
        fn = functools.partial(_swap_rz, dim=-1)
        return fn, fn

    def _can_use_fused(self):
        return self.reset_after and super()._can_use_fused()

    def _run_fused(self, x, states, training):
        params = [self.kernel, self.recurrent_kernel]
        if self.use_bias:
            params += [self.bias[0], self.bias[1]]
        out, h = torch.gru(x, states[0].unsqueeze(0), params, self.use_bias, 1, 0.0,
                           training, False, True)
        return out, [h[0]]

    def _input_projection(self, x):
        if not self.use_bias:
            return F.linear(x, self.kernel)
        return F.linear(x, self.kernel, self.bias[0] if self.reset_after else self.bias)

    def _step(self, xw, states, rec_mask):
        h = states[0]
        hd = h if rec_mask is None else h * rec_mask
        u = self.units
        xr, xz, xn = xw.chunk(3, 1)
        ra = self.recurrent_activation
        if self.reset_after:
            rb = self.bias[1] if self.use_bias else None
            hr, hz, hn = F.linear(hd, self.recurrent_kernel, rb).chunk(3, 1)
            r = ra(xr + hr)
            z = ra(xz + hz)
            n = self.activation(xn + r * hn)
        else:
            hr, hz = F.linear(hd, self.recurrent_kernel[:2 * u]).chunk(2, 1)
            r = ra(xr + hr)
            z = ra(xz + hz)
            n = self.activation(xn + F.linear(r * hd, self.recurrent_kernel[2 * u:]))
        return [z * h + (1.0 - z) * n]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config
