"""Keras <-> torch layouts of recurrent weights (the maps ``recurrent.py`` registers per weight).

torch orders GRU gates r, z, n where Keras orders z, r, h, and stores kernels transposed::

    swap_rz(torch.arange(6.), 0)   # tensor([2., 3., 0., 1., 4., 5.])
"""
import torch

__all__ = ["transpose", "swap_rz", "gru_kernel_to_keras", "gru_kernel_from_keras", "UnitForgetBias", "identity_map"]


def transpose(t):
    return t.t()


def swap_rz(t, dim):
    """Swap the first two of three gate blocks along ``dim`` (r,z,n <-> z,r,h)."""
    a, b, c = t.chunk(3, dim)
    return torch.cat([b, a, c], dim)


def gru_kernel_to_keras(t):
    return swap_rz(t, 0).t()


def gru_kernel_from_keras(t):
    return swap_rz(t.t(), 0)


class UnitForgetBias:
    """LSTM bias: ``bias_initializer`` everywhere but ones on the forget gate.

    Example: ``UnitForgetBias(initializers.get('zeros'), 4)((16,))`` is ones on entries 4-7 only.
    """

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        return torch.cat([self.base((u,), dtype=dtype), torch.ones(u, dtype=dtype),
                          self.base((2 * u,), dtype=dtype)])


def identity_map(t):
    return t
