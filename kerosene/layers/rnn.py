"""Keras 2's generic recurrent layer ``RNN(cell)`` and ``StackedRNNCells``.

A cell is any object with ``state_size`` (an int, or a tuple for several states) and
``call(inputs, states) -> (output, new_states)`` for one time step; a kerosene
``Layer`` cell is built and trained with the layer, and may also take ``training``
and ``constants`` in its ``call`` and set ``output_size``. A list of cells is
stacked (``StackedRNNCells``). Masked time steps keep the states and repeat the
previous output, as kerosene's LSTM/GRU/SimpleRNN do.

    >>> import torch
    >>> from kerosene.layers import LSTMCell, GRUCell
    >>> RNN([LSTMCell(8), GRUCell(4)], return_sequences=True)(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 4])
"""
import inspect

import numpy as np
import torch
from torch import nn

from ..symbolic import apply_symbolic, is_symbolic
from ._serialization import deserialize, serialize
from ._utils import carried_for_batch
from .base import Layer, normalize_shape
from .rnn_cells import _Cell
from .weights import LayerWeights

__all__ = ["RNN", "StackedRNNCells", "carried_states"]


def _takes(fn, name):
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _sizes(state_size):
    return [int(s) for s in state_size] if hasattr(state_size, "__len__") else [int(state_size)]


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    return int(size) if size is not None else _sizes(cell.state_size)[0]


def _check_cell(cell, arg, owner):
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{owner}: argument {arg!r} must be an RNN cell with a `call(inputs, states)` method, "
                         f"got {cell!r} ({type(cell).__name__}).")
    if getattr(cell, "state_size", None) is None:
        raise ValueError(f"{owner}: argument {arg!r} must have a `state_size` attribute (an int, or a tuple of "
                         f"ints, one per state), got {cell!r} ({type(cell).__name__}) without one.")


def _call_cell(cell, inputs, states, constants, training):
    kwargs = {}
    if _takes(cell.call, "training"):
        kwargs["training"] = training
    if constants:
        kwargs["constants"] = constants
    output, new_states = cell.call(inputs, states, **kwargs)
    return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]


def _reset_dropout_masks(cell):
    for sub in getattr(cell, "cells", None) or [cell]:
        if sub is not cell:
            _reset_dropout_masks(sub)
        for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if callable(getattr(sub, name, None)):
                getattr(sub, name)()


def carried_states(name, sizes, batch, states=None):
    """The states a stateful recurrent layer named ``name`` carries after ``reset_states(states)``:
    zeros ``(batch, size)`` for each of ``sizes`` (None while the batch size is unknown), or
    ``states`` (arrays or tensors, one per state; a single one may stand alone), checked.

    >>> carried_states('rnn', [3], 2)[0].shape
    torch.Size([2, 3])
    """
    if states is None:
        return [torch.zeros(batch, n) for n in sizes] if batch else None
    values = list(states) if isinstance(states, (list, tuple)) else [states]
    if len(values) != len(sizes):
        raise ValueError(f"Layer {name!r} expects {len(sizes)} state(s), but `states` holds "
                         f"{len(values)} value(s): {states!r}.")
    out = []
    for i, (value, n) in enumerate(zip(values, sizes)):
        value = (value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))).float()
        if value.dim() != 2 or value.shape[1] != n or (batch and value.shape[0] != batch):
            raise ValueError(f"State {i} is incompatible with layer {name!r}: expected shape "
                             f"{(batch, n)}, found shape {tuple(value.shape)}.")
        out.append(value)
    return out


class StackedRNNCells(Layer):
    """Several cells run as one: each step feeds the output of a cell to the next.

    The states are the cells' states, flat and in cell order (``[h1, c1, h2, c2]`` for two
    LSTM cells; the reverse with ``reverse_state_order=True``).

    >>> from kerosene.layers import LSTMCell, SimpleRNNCell
    >>> StackedRNNCells([LSTMCell(3), SimpleRNNCell(5)]).state_size
    (3, 3, 5)
    """

    _checked_axis = None

    def __init__(self, cells, **kwargs):
        self.reverse_state_order = bool(kwargs.pop("reverse_state_order", False))
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"StackedRNNCells: argument 'cells' must be a non-empty list of RNN cells, "
                             f"got {cells!r}.")
        for cell in cells:
            _check_cell(cell, "cells", "StackedRNNCells")
        super().__init__(**kwargs)
        self.cells = list(cells)
        for i, cell in enumerate(self.cells):
            if isinstance(cell, nn.Module):
                self.add_module(f"cell_{i}", cell)

    def _ordered(self):
        return self.cells[::-1] if self.reverse_state_order else self.cells

    @property
    def state_size(self):
        return tuple(s for cell in self._ordered() for s in _sizes(cell.state_size))

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def build(self, input_shape):
        constants = []
        if isinstance(input_shape, list):
            input_shape, constants = input_shape[0], list(input_shape[1:])
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build([input_shape] + constants if constants and _takes(cell.call, "constants")
                           else input_shape)
            input_shape = (input_shape[0], _output_size(cell))

    def call(self, inputs, states, constants=None, training=None):
        states = list(states)
        nested = {}
        for cell in self._ordered():
            n = len(_sizes(cell.state_size))
            nested[id(cell)], states = states[:n], states[n:]
        new = {}
        for cell in self.cells:
            inputs, new[id(cell)] = _call_cell(cell, inputs, nested[id(cell)],
                                               constants if _takes(cell.call, "constants") else None, training)
        return inputs, [s for cell in self._ordered() for s in new[id(cell)]]

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


class RNN(Layer):
    """Runs ``cell`` over the time axis of ``(batch, steps, features)`` inputs.

    ``RNN(cell, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False, unroll=False)``; ``cell`` is a cell or a list of cells (stacked).
    Keras 3's ``zero_output_for_mask=True`` gives zeros, not the previous output, at masked steps.
    Call it with ``initial_state=`` (a tensor per state) and ``constants=`` (tensors every
    step sees, for a cell whose ``call`` takes ``constants``). ``unroll`` is accepted for
    Keras 2 and changes nothing (the loop runs eagerly).

    >>> import torch
    >>> from kerosene.layers import SimpleRNNCell
    >>> out, h = RNN(SimpleRNNCell(4), return_state=True)(torch.zeros(2, 5, 3))
    >>> out.shape, h.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        num_constants = kwargs.pop("num_constants", None)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell, "cell", "RNN")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._num_constants = num_constants
        self._states = None

    # -- weights: the cell's, under this layer's name (as Keras 2 saves them) ----

    def _entries_split(self, prefix=""):
        if isinstance(self.cell, LayerWeights) and not self._weight_specs:
            return self.cell._entries_split(prefix)
        return super()._entries_split(prefix)

    # -- states ----------------------------------------------------------------

    @property
    def _n_states(self):  # read by Bidirectional, as on kerosene's LSTM/GRU/SimpleRNN
        return len(_sizes(self.cell.state_size))

    @property
    def states(self):
        """The carried states of a stateful layer (``[None, ...]`` before the first batch)."""
        if self._states is None:
            return [None] * len(_sizes(self.cell.state_size))
        return self._states

    @states.setter
    def states(self, states):
        self._states = states

    def _batch_size(self):
        shape = self._build_input_shape or self.batch_input_shape
        if isinstance(shape, list):
            shape = shape[0]
        return shape[0] if shape else None

    def reset_states(self, states=None):
        """Zero (or set to ``states``, arrays of shape ``(batch, state size)``) the carried states."""
        if not self.stateful:
            if states is None:
                return
            raise AttributeError(f"Layer {self.name!r} must be stateful to have its states reset.")
        self._states = carried_states(self.name, _sizes(self.cell.state_size), self._batch_size(), states)

    def get_initial_state(self, inputs):
        """Zero states, ``(batch, size)`` each, for ``inputs`` (symbolic inputs give symbolic states)."""
        sizes = _sizes(self.cell.state_size)
        if is_symbolic(inputs):
            return [apply_symbolic(lambda x, n=n: x.new_zeros(x.shape[0], n), (inputs,), {}, "initial_state")
                    for n in sizes]
        return [inputs.new_zeros(inputs.shape[0], n) for n in sizes]

    # -- calling -----------------------------------------------------------------

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and initial_state is None and constants is None:
            return super().__call__(list(inputs), **kwargs)  # [inputs, *states, *constants]: split in call
        as_list = (lambda v: None if v is None else list(v) if isinstance(v, (list, tuple)) else [v])
        initial_state, constants = as_list(initial_state), as_list(constants)
        if constants is not None:
            self._num_constants = len(constants)
        extras = (initial_state or []) + (constants or [])
        symbolic = [is_symbolic(t) for t in extras]
        if any(symbolic):
            if not (all(symbolic) and is_symbolic(inputs)):
                raise ValueError(f"Layer {self.name!r}: `initial_state` and `constants` must all be symbolic "
                                 "tensors (Input() or layer outputs) on symbolic inputs, or all tensors; got "
                                 f"{[type(t).__name__ for t in extras]} on {type(inputs).__name__} inputs.")
            # One list input, as Keras 2 records it; call() tells constants apart by _num_constants.
            return super().__call__([inputs] + extras, **kwargs)
        if initial_state is not None:
            kwargs["initial_state"] = initial_state
        if constants is not None:
            kwargs["constants"] = constants
        return super().__call__(inputs, **kwargs)

    def _split(self, inputs):
        items, n = list(inputs), self._num_constants or 0
        constants = items[len(items) - n:] if n else None
        items = items[:len(items) - n] if n else items
        return items[0], (items[1:] or None), constants

    def build(self, input_shape):
        constants = []
        if isinstance(input_shape, list):
            n = self._num_constants or 0
            constants = list(input_shape[len(input_shape) - n:]) if n else []
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise ValueError(f"Layer {self.name!r} expects inputs of shape (batch, steps, features), "
                             f"got {input_shape}.")
        step = (input_shape[0],) + tuple(input_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build([step] + constants if constants else step)
        if self.stateful and self._states is None and input_shape[0]:
            self._states = [torch.zeros(input_shape[0], n) for n in _sizes(self.cell.state_size)]

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(inputs, (list, tuple)):
            inputs, states_in, consts_in = self._split(inputs)
            initial_state = states_in if states_in is not None else initial_state
            constants = consts_in if consts_in is not None else constants
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if training is None:
            training = self.training
        if constants and not _takes(self.cell.call, "constants"):
            raise ValueError(f"Layer {self.name!r}: `constants` were given, but the cell's call() takes no "
                             "`constants` argument.")
        x = inputs
        states = self._initial_states(x, initial_state)
        if self.go_backwards:
            x = x.flip(1)
            mask = mask.flip(1) if mask is not None else None
        last, outs, states = self._loop(x, states, mask, constants, training)
        if self.stateful:
            self._states = [s.detach() for s in states]
        output = outs if self.return_sequences else last
        return [output] + list(states) if self.return_state else output

    def _initial_states(self, x, initial_state):
        n = len(_sizes(self.cell.state_size))
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != n:
                raise ValueError(f"Layer {self.name!r} has {n} state(s) but was passed {len(states)} initial "
                                 "state(s).")
            return [torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in states]
        carried = carried_for_batch(self, x) if self.stateful else None
        return carried if carried is not None else self.get_initial_state(x)

    def _loop(self, x, states, mask, constants, training):
        cell = self.cell
        _reset_dropout_masks(cell)
        if isinstance(cell, _Cell) and not constants:
            # A built-in cell: its input projection runs once for the whole sequence.
            masks, rec_masks = cell._masks(x, states[0], training)
            fused = None
            if mask is None and masks is None and rec_masks is None and x.shape[1] > 0:
                fused = cell._fused(x, states, bool(training))
            if fused is not None:
                return fused[0][:, -1], fused[0], fused[1]
            xw = cell._project(x, masks)

            def step(t, states):
                return cell._recur(xw[:, t], states, rec_masks)
        else:
            def step(t, states):
                return _call_cell(cell, x[:, t], states, constants, training)
        outs, prev = [], None
        for t in range(x.shape[1]):
            out, new = step(t, states)
            if mask is not None:
                # A masked step keeps the states and repeats the previous output (Keras 2; zeros on request).
                # (batch, 1, ...): broadcast over states and outputs of any rank (ConvRNN2D's are 4-D)
                m = mask[:, t].to(torch.bool).reshape(-1, *[1] * (out.dim() - 1))
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
                if self.zero_output_for_mask or prev is None:
                    same = not self.zero_output_for_mask and states[0].shape == out.shape
                    prev = states[0] if same else torch.zeros_like(out)
                out = torch.where(m, out, prev)
            outs.append(out)
            states, prev = new, out
        if not outs:
            empty = x.new_zeros(x.shape[0], _output_size(cell))
            return empty, x.new_zeros(x.shape[0], 0, _output_size(cell)), states
        return outs[-1], torch.stack(outs, 1), states

    # -- shapes and config --------------------------------------------------------

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        if isinstance(self.cell, Layer) and not self.cell.built and getattr(self.cell, "output_size", None) is None:
            self.build(input_shape)  # a cell may set output_size in its build (Keras 2 allows it)
        batch, out = input_shape[0], _output_size(self.cell)
        shape = (batch, input_shape[1], out) if self.return_sequences else (batch, out)
        if self.return_state:
            return [shape] + [(batch, n) for n in _sizes(self.cell.state_size)]
        return shape

    def compute_mask(self, inputs, mask=None):
        """The sequence mask goes on with ``return_sequences`` only; the states carry none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * len(_sizes(self.cell.state_size)) if self.return_state else out

    def get_config(self):
        config = super().get_config()
        config.update({"return_sequences": self.return_sequences, "return_state": self.return_state,
                       "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll})
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        if self._num_constants is not None:
            config["num_constants"] = self._num_constants
        config["cell"] = serialize(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)
