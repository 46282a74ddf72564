"""CuDNNLSTM and CuDNNGRU: Keras 2's cuDNN recurrent layers, whose weights use the layout
cuDNN keeps (so Keras 2 files of these layers load as they are, and convert to and from
``LSTM``/``GRU`` through ``load_weights``).

They compute what ``LSTM`` and ``GRU(reset_after=True)`` compute with ``tanh``/``sigmoid``
activations and no dropout, on torch's fused kernel (cuDNN on a GPU, any device
otherwise). Keras weights, per gate block of ``u`` columns:

- ``kernel (in, n*u)``: each gate's block holds cuDNN's ``(u, in)`` matrix read row by row;
- ``recurrent_kernel (u, n*u)``: each gate's block is cuDNN's ``(u, u)`` matrix as is
  (the transpose of what ``LSTM`` keeps);
- ``bias``: input biases then recurrent biases, ``(8u,)`` for LSTM and ``(6u,)`` for GRU.

Gates are ``i, f, c, o`` (LSTM) and ``z, r, h`` (GRU), as in Keras.

    >>> import torch
    >>> layer = CuDNNLSTM(4, return_sequences=True)
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    >>> [w.shape for w in layer.get_weights()]
    [(3, 16), (4, 16), (32,)]
"""
import torch

from .. import initializers
from .recurrent import GRU, LSTM
from .recurrent_weights import swap_rz as _swap_rz

__all__ = ["CuDNNLSTM", "CuDNNGRU"]

# What CuDNN layers fix or lack, compared with LSTM/GRU (Keras 2 accepts none of these).
_NOT_ACCEPTED = ("activation", "recurrent_activation", "use_bias", "dropout", "recurrent_dropout",
                 "unroll", "implementation", "reset_after", "time_major")


def _kernel_from_keras(gates, order):
    def convert(kernel):
        blocks = kernel.chunk(gates, 1)
        units, width = blocks[0].shape[1], kernel.shape[0]
        return torch.cat([blocks[i].reshape(units, width) for i in order], 0)
    return convert


def _kernel_to_keras(gates, order):
    def convert(weight):
        blocks = weight.chunk(gates, 0)
        units, width = blocks[0].shape
        return torch.cat([blocks[i].reshape(width, units) for i in order], 1)
    return convert


def _recurrent_from_keras(gates, order):
    def convert(kernel):
        blocks = kernel.chunk(gates, 1)
        return torch.cat([blocks[i] for i in order], 0)
    return convert


def _recurrent_to_keras(gates, order):
    def convert(weight):
        blocks = weight.chunk(gates, 0)
        return torch.cat([blocks[i] for i in order], 1)
    return convert


def _check_arguments(cls, kwargs):
    given = sorted(k for k in _NOT_ACCEPTED if k in kwargs)
    if given:
        raise TypeError(f"{cls.__name__} does not take {given}: its activations are tanh/sigmoid, it always "
                        f"has a bias and no dropout (use {cls.__name__[5:]} for those)")


class _CuDNNForgetBias:
    """CuDNNLSTM's ``unit_forget_bias``: ones on the recurrent forget-gate bias."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        return torch.cat([self.base((5 * u,), dtype=dtype), torch.ones(u, dtype=dtype),
                          self.base((2 * u,), dtype=dtype)])


class CuDNNLSTM(LSTM):
    """An LSTM with cuDNN's weight layout (see the module docstring).

    ``CuDNNLSTM(units, kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',
    bias_initializer='zeros', unit_forget_bias=True, return_sequences=False,
    return_state=False, stateful=False, go_backwards=False, ...)``

    >>> import torch
    >>> CuDNNLSTM(8)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 8])
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, **kwargs):
        _check_arguments(type(self), kwargs)
        super().__init__(units, kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias, **kwargs)

    def _kernel_maps(self):
        order = (0, 1, 2, 3)
        return _kernel_to_keras(4, order), _kernel_from_keras(4, order)

    def _recurrent_maps(self):
        order = (0, 1, 2, 3)
        return _recurrent_to_keras(4, order), _recurrent_from_keras(4, order)

    def _bias_shape(self):
        return (8 * self.units,)

    def _bias_maps(self):
        units = self.units
        return (lambda b: b.reshape(-1)), (lambda b: b.reshape(2, 4 * units))

    def _bias_init(self):
        if self.unit_forget_bias:
            return _CuDNNForgetBias(self.bias_initializer, self.units)
        return self.bias_initializer

    def _run_fused(self, x, states, training):
        params = [self.kernel, self.recurrent_kernel, self.bias[0], self.bias[1]]
        out, h, c = torch.lstm(x, (states[0].unsqueeze(0), states[1].unsqueeze(0)), params,
                               True, 1, 0.0, training, False, True)
        return out, [h[0], c[0]]

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if mask is not None:
            raise ValueError(f"Layer {self.name!r}: masking is not supported by CuDNN layers (use LSTM)")
        return super().call(inputs, training=training, initial_state=initial_state)

    def get_config(self):
        config = super().get_config()
        for key in _NOT_ACCEPTED:
            config.pop(key, None)
        return config


class CuDNNGRU(GRU):
    """A GRU with cuDNN's weight layout, computing ``GRU(reset_after=True)``.

    ``CuDNNGRU(units, kernel_initializer='glorot_uniform', recurrent_initializer='orthogonal',
    bias_initializer='zeros', return_sequences=False, return_state=False, stateful=False,
    go_backwards=False, ...)``

    >>> import torch
    >>> CuDNNGRU(8)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 8])
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", **kwargs):
        _check_arguments(type(self), kwargs)
        super().__init__(units, kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, reset_after=True, **kwargs)

    # torch keeps GRU gates as r, z, n; Keras's blocks are z, r, h.
    def _kernel_maps(self):
        order = (1, 0, 2)
        return _kernel_to_keras(3, order), _kernel_from_keras(3, order)

    def _recurrent_maps(self):
        order = (1, 0, 2)
        return _recurrent_to_keras(3, order), _recurrent_from_keras(3, order)

    def _bias_shape(self):
        return (6 * self.units,)

    def _bias_maps(self):
        units = self.units
        return (lambda b: _swap_rz(b, -1).reshape(-1)), (lambda b: _swap_rz(b.reshape(2, 3 * units), -1))

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if mask is not None:
            raise ValueError(f"Layer {self.name!r}: masking is not supported by CuDNN layers (use GRU)")
        return super().call(inputs, training=training, initial_state=initial_state)

    def get_config(self):
        config = super().get_config()
        for key in _NOT_ACCEPTED:
            config.pop(key, None)
        return config
