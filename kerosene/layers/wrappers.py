"""Layer wrappers: Bidirectional and TimeDistributed."""

import torch

from ..symbolic import apply_symbolic, as_keras_tensor, is_symbolic, object_list_uid
from ._serialization import deserialize, serialize
from .base import Layer, normalize_shape
from .masking import accepts_mask

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _fold_steps(x):
    """``(batch, steps, ...)`` as ``(batch * steps, ...)``."""
    return x.reshape((x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


def _probe_shape(shape):
    return tuple(2 if d is None else int(d) for d in shape)


def _probe(tensor):
    """Zeros shaped like the symbolic ``tensor`` (unknown sizes 2), of its kind of dtype."""
    integer = str(tensor.dtype).startswith(("int", "uint"))
    return torch.zeros(_probe_shape(tensor.shape), dtype=torch.long if integer else torch.float32)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards over the
    sequence and merges the two outputs (``merge_mode`` one of ``'concat'``,
    ``'sum'``, ``'mul'``, ``'ave'`` or None for a list).  The backward output
    of ``return_sequences=True`` is put back in forward time order.  Keras
    weights: the forward layer's, then the backward layer's.

    >>> import torch
    >>> from kerosene.layers import LSTM
    >>> Bidirectional(LSTM(4, return_sequences=True))(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError("Argument 'layer' of Bidirectional must be a recurrent layer "
                             f"(SimpleRNN, LSTM, GRU), got {layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid value for argument 'merge_mode': {merge_mode!r}. "
                             "Accepted values: 'concat', 'sum', 'mul', 'ave', None.")
        super().__init__(weights=weights, **kwargs)
        if self.batch_input_shape is None and layer.batch_input_shape is not None:
            self.batch_input_shape = layer.batch_input_shape
            self._set_input_check(-1)
        self._inner_name = layer.name
        if backward_layer is None:
            config = layer.get_config()
            config.pop("batch_input_shape", None)
            config["go_backwards"] = not layer.go_backwards
            config["name"] = "backward_" + layer.name
            backward_layer = type(layer).from_config(config)
        elif backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("Argument 'backward_layer' must have the opposite "
                             "'go_backwards' of 'layer'.")
        layer.name = "forward_" + layer.name
        self.forward_layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self._num_constants = None
        if getattr(layer, "_num_constants", None) is not None:
            self._set_num_constants(layer._num_constants)

    @property
    def layer(self):
        """The wrapped recurrent layer (Keras 2's ``Bidirectional.layer``): the forward one."""
        return self.forward_layer

    def _set_num_constants(self, n):
        self._num_constants = n
        for sub in (self.forward_layer, self.backward_layer):
            sub._num_constants = n

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and initial_state is None and constants is None:
            return super().__call__(list(inputs), **kwargs)  # [inputs, *states, *constants]: split in call
        as_list = (lambda v: None if v is None else list(v) if isinstance(v, (list, tuple)) else [v])
        initial_state, constants = as_list(initial_state), as_list(constants)
        if initial_state is not None and len(initial_state) % 2:
            raise ValueError(f"Layer {self.name!r}: `initial_state` of a Bidirectional layer must be a list of the "
                             "forward layer's states followed by the backward layer's (an even number of "
                             f"tensors), got {len(initial_state)}.")
        if constants is not None:
            self._set_num_constants(len(constants))
        extras = (initial_state or []) + (constants or [])
        if not extras:
            return super().__call__(inputs, **kwargs)
        symbolic = [is_symbolic(t) for t in extras]
        if any(symbolic) and not (all(symbolic) and is_symbolic(inputs)):
            raise ValueError(f"Layer {self.name!r}: `initial_state` and `constants` must all be symbolic tensors "
                             "(Input() or layer outputs) on symbolic inputs, or all tensors; got "
                             f"{[type(t).__name__ for t in extras]} on {type(inputs).__name__} inputs.")
        # One list input, as Keras 2 records it (so build sees every shape); call() splits it.
        return super().__call__([inputs] + extras, **kwargs)

    def _split(self, items):
        n = self._num_constants or 0
        constants = items[len(items) - n:] if n else None
        items = items[:len(items) - n] if n else items
        states = items[1:] or None
        if states is not None and len(states) % 2:
            raise ValueError(f"Layer {self.name!r}: the states after the input must be the forward layer's "
                             f"followed by the backward layer's (an even number), got {len(states)}.")
        return items[0], states, constants

    def build(self, input_shape):
        # A list: the input's shape, then the states' and the constants' (the sub-layers pick theirs).
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(input_shape)

    def compute_mask(self, inputs, mask=None):
        """As the wrapped layer: the mask goes on with ``return_sequences`` only."""
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] * (1 if self.merge_mode else 2) + [None] * (2 * getattr(self.forward_layer, "_n_states", 1))
        return [out, out] if self.merge_mode is None else out

    def _merge(self, y, y_rev):
        mode = self.merge_mode
        if mode == "concat":
            return torch.cat([y, y_rev], dim=-1)
        if mode == "sum":
            return y + y_rev
        if mode == "ave":
            return (y + y_rev) / 2
        if mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def call(self, inputs, training=None, mask=None, initial_state=None, constants=None):
        if isinstance(inputs, (list, tuple)):
            inputs, states_in, consts_in = self._split(list(inputs))
            initial_state = states_in if states_in is not None else initial_state
            constants = consts_in if consts_in is not None else constants
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
        kw = {}
        if training is not None:
            kw["training"] = training
        if mask is not None:
            kw["mask"] = mask
        if constants is not None:
            kw["constants"] = list(constants)
        fkw, bkw = dict(kw), dict(kw)
        if initial_state is not None:
            half = len(initial_state) // 2
            fkw["initial_state"] = list(initial_state[:half])
            bkw["initial_state"] = list(initial_state[half:])
        y = self.forward_layer(inputs, **fkw)
        y_rev = self.backward_layer(inputs, **bkw)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        out = self._merge(y, y_rev)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        inner = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            inner, states = inner[0], list(inner[1:]) * 2
        if self.merge_mode == "concat":
            out = tuple(inner[:-1]) + (None if inner[-1] is None else inner[-1] * 2,)
        elif self.merge_mode is None:
            out = [tuple(inner), tuple(inner)]
        else:
            out = tuple(inner)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def get_config(self):
        config = super().get_config()
        layer = serialize(self.forward_layer)
        layer["config"]["name"] = self._inner_name
        config.update({"layer": layer, "merge_mode": self.merge_mode})
        if self._num_constants is not None:
            config["num_constants"] = self._num_constants
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        num_constants = config.pop("num_constants", None)
        config["layer"] = deserialize(config["layer"], custom_objects)
        if isinstance(config.get("backward_layer"), dict):
            config["backward_layer"] = deserialize(config["backward_layer"], custom_objects)
        layer = cls(**config)
        if num_constants is not None:
            layer._set_num_constants(num_constants)
        return layer


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step (axis 1) of the input.

    The mask it passes on (Keras 2): the wrapped layer's mask of the steps (a ``Masking`` or
    ``Embedding(mask_zero=True)`` inside makes one), else the incoming mask reduced to
    ``(batch, steps)``. A wrapped model passes the incoming mask on.

    >>> import torch
    >>> from kerosene.layers import Dense
    >>> TimeDistributed(Dense(8))(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, torch.nn.Module):
            raise ValueError(f"Argument 'layer' of TimeDistributed must be a layer, got "
                             f"{layer!r}.")
        super().__init__(**kwargs)
        self.layer = layer
        # Keras 2's record, per symbolic input the wrapper was called on (object_list_uid), of the
        # wrapped layer's input: the steps folded into the batch, (batch * steps, ...).
        self._input_map = {}

    def _symbolic_call_shapes(self, inputs, kwargs):
        if not isinstance(inputs, (list, tuple)) and len(inputs.shape) >= 3:
            self._input_map[object_list_uid(inputs)] = apply_symbolic(_fold_steps, (inputs,), {}, "reshape")
        return None

    def compute_mask(self, inputs, mask=None):
        """The wrapped layer's mask of the steps, ``(batch, steps, ...)``; else the incoming
        mask with its axes after the steps reduced by ``any``; None without either. On symbolic
        tensors the mask is a symbolic tensor (``K.function`` computes it)."""
        if is_symbolic(inputs) or (mask is not None and not isinstance(mask, torch.Tensor) and is_symbolic(mask)):
            return self._symbolic_mask(inputs, mask)
        return self._step_mask(inputs, mask)

    def _symbolic_mask(self, inputs, mask):
        x = as_keras_tensor(inputs)
        m = None if mask is None else as_keras_tensor(mask) if is_symbolic(mask) else mask
        # Whether a mask comes out depends on the shapes only: a zero probe tells.
        probe_m = None if m is None else torch.ones(_probe_shape(m.shape), dtype=torch.bool)
        if self._step_mask(_probe(x), probe_m) is None:
            return None
        if m is None:
            return apply_symbolic(lambda v: self._step_mask(v, None), (x,), {}, "time_distributed_mask")
        if isinstance(m, torch.Tensor):
            return apply_symbolic(lambda v: self._step_mask(v, m), (x,), {}, "time_distributed_mask")
        return apply_symbolic(self._step_mask, (x, m), {}, "time_distributed_mask")

    def _step_mask(self, inputs, mask):
        b, t = inputs.shape[0], inputs.shape[1]
        out = None
        if isinstance(self.layer, Layer) and not getattr(self.layer, "_attaches_masks", False):
            inner_mask = None if mask is None else mask.reshape((b * t,) + tuple(mask.shape[2:]))
            out = self.layer.compute_mask(_fold_steps(inputs), inner_mask)
        if out is None:
            if mask is None:
                return None
            while mask.dim() > 2:
                mask = mask.any(dim=-1)
            return mask
        return out.reshape((b, t) + tuple(out.shape[1:]))

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"Layer {self.name!r}: TimeDistributed needs inputs of rank >= "
                             f"3 (batch, steps, ...), got shape {input_shape}.")
        if isinstance(self.layer, Layer) and not self.layer.built:
            self.layer.build((input_shape[0],) + tuple(input_shape[2:]))

    def call(self, inputs, training=None, mask=None):
        b, t = inputs.shape[0], inputs.shape[1]
        flat = _fold_steps(inputs)
        kwargs = {}
        if training is not None and isinstance(self.layer, Layer) and "training" in (
                self.layer.call.__code__.co_varnames):
            kwargs["training"] = training
        # As Keras 2, a wrapped layer that takes a mask gets its part: a mask of the steps' own
        # axes (batch, steps, inner steps...); a (batch, steps) mask is only passed on.
        if mask is not None and mask.dim() > 2 and accepts_mask(self.layer):
            kwargs["mask"] = _fold_steps(mask)
        y = self.layer(flat, **kwargs)
        return y.reshape((b, t) + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if isinstance(self.layer, Layer):
            inner = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
            return (input_shape[0], input_shape[1]) + tuple(inner[1:])
        return super().compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        return cls(**config)
