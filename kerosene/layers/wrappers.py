"""Layer wrappers: Bidirectional and TimeDistributed."""

import torch

from ._serialization import deserialize, serialize
from .base import Layer, normalize_shape

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


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

    def build(self, input_shape):
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

    def call(self, inputs, training=None, mask=None, initial_state=None):
        kw = {}
        if training is not None:
            kw["training"] = training
        if mask is not None:
            kw["mask"] = mask
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
        inner = self.forward_layer.compute_output_shape(normalize_shape(input_shape))
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
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        if isinstance(config.get("backward_layer"), dict):
            config["backward_layer"] = deserialize(config["backward_layer"], custom_objects)
        return cls(**config)


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step (axis 1) of the input.

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

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"Layer {self.name!r}: TimeDistributed needs inputs of rank >= "
                             f"3 (batch, steps, ...), got shape {input_shape}.")
        if isinstance(self.layer, Layer) and not self.layer.built:
            self.layer.build((input_shape[0],) + tuple(input_shape[2:]))

    def call(self, inputs, training=None, mask=None):
        # The mask is passed on (compute_mask), not into the wrapped layer, which sees single steps.
        b, t = inputs.shape[0], inputs.shape[1]
        flat = inputs.reshape((b * t,) + tuple(inputs.shape[2:]))
        if training is not None and isinstance(self.layer, Layer) and "training" in (
                self.layer.call.__code__.co_varnames):
            y = self.layer(flat, training=training)
        else:
            y = self.layer(flat)
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
