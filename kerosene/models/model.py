"""``Model``: a ``torch.nn.Module`` with Keras's training API (from :class:`~kerosene.engine.trainer.Trainer`).

``Model`` is subclassed like any torch module (write ``forward``, or ``call`` as in
Keras); ``Model(inputs, outputs)`` builds a :class:`~kerosene.models.functional.Functional`.
"""
from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from .._naming import layer_name, to_snake_case, uniquify
from ..engine.trainer import Trainer, require_compiled
from ..saving import load_weights, save_model, save_weights
from ..engine.compile import check_trainable_consistency
from ..saving.config import model_config, subclassed_model_error, to_json
from ..utils.summary import format_summary
from ..utils.tree import map_tensors
from .added_losses import AddedLoss, add_model_loss
from .weights import expand_containers, module_weights, set_module_weights

__all__ = ["Model"]


class Model(Trainer, nn.Module):
    """A torch module with Keras's training API.

    Subclass it and write ``forward`` (or ``call``), then ``compile`` and ``fit``::

        class TwoLayer(kerosene.Model):
            def __init__(self):
                super().__init__()
                self.hidden = kerosene.layers.Dense(32, activation='relu')
                self.out = kerosene.layers.Dense(1)

            def call(self, x):
                return self.out(self.hidden(x))

        model = TwoLayer()
        model.compile(optimizer='adam', loss='mse')
        history = model.fit(x, y, epochs=5)

    ``Model(inputs, outputs)`` builds a functional model (see ``kerosene.Input``).
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and ({"inputs", "outputs", "input", "output"} & set(kwargs) or len(args) >= 2):
            from .functional import Functional  # the one circle: Functional is a Model
            return nn.Module.__new__(Functional)
        return nn.Module.__new__(cls)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Keras 2's ``Model.from_config``: the functional model a graph config describes (a
        subclass that defines its own ``from_config`` is rebuilt by that)."""
        from .functional import Functional  # the one circle: Functional is a Model
        if isinstance(config, dict) and "input_layers" in config and "layers" in config:
            return Functional.from_config(config, custom_objects=custom_objects)
        raise ValueError(f"{cls.__name__}.from_config: `config` must be a functional model's get_config() "
                         "(with 'layers' and 'input_layers'); a subclassed model is rebuilt from its own code")

    def __init__(self, *args, name=None, **kwargs):
        super().__init__()
        if args or kwargs:
            unknown = ", ".join(list(kwargs)) or f"{len(args)} positional arguments"
            raise TypeError(f"Model() got unexpected arguments: {unknown}")
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self.stop_training = False
        self.stop_reason = None
        self.history = None
        self._compile_state = None

    # --- forward --------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        call = type(self).__dict__.get("call") or getattr(type(self), "call", None)
        if call is None or call is Model.call:
            raise NotImplementedError(
                f"{type(self).__name__} must define forward(self, inputs) or call(self, inputs)")
        return self.call(*args, **kwargs)

    def call(self, inputs, training=None):  # pragma: no cover - replaced by subclasses
        raise NotImplementedError

    # --- structure ------------------------------------------------------------------
    @property
    def layers(self):
        """The model's layers in order (direct children; containers are expanded)."""
        return expand_containers(self.children(), Model)

    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or the one at ``index`` in :attr:`layers` (Keras 2 counts from 0,
        the input layer of a functional model included); a ValueError names what is missing."""
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: `index`={index!r} is out of range: the model has {len(layers)} layers "
                                 f"(0..{len(layers) - 1}, or negative from the end)")
            return layers[index]
        if name is None:
            raise ValueError("get_layer: give `name` (a layer's name) or `index` (its position in model.layers)")
        for layer in layers:
            if layer_name(layer) == name:
                return layer
        raise ValueError(f"No layer named {name!r}; layers: {[layer_name(l) for l in layers]}")

    @property
    def built(self):
        for module in self.modules():
            if module is not self and getattr(module, "built", True) is False:
                return False
        return not any(nn.parameter.is_lazy(p) for p in self.parameters())

    def _build_from_sample(self, x):
        """Run one forward pass on a couple of samples so lazy layers create their weights."""
        if self.built:
            return
        was_training = self.training
        params = list(self.parameters())
        device = params[0].device if params and not nn.parameter.is_lazy(params[0]) else None
        sample = map_tensors(lambda t: t[:2] if device is None else t[:2].to(device), x)
        self.eval()
        with torch.no_grad():
            self(sample)
        self.train(was_training)

    def build(self, input_shape=None):
        """Create the weights for inputs of ``input_shape`` (batch first, Keras 2), by one
        forward pass on zeros; ``build()`` of a built model does nothing."""
        if input_shape is None:
            if self.built:
                return
            raise ValueError(f"Model {self.name!r}.build() needs `input_shape` (batch first, e.g. (None, 16)): "
                             "the model does not know its input shape yet")
        shape = self._checked_build_shape(input_shape)
        self._build_from_sample(torch.zeros((2,) + tuple(d or 1 for d in shape[1:])))

    def _checked_build_shape(self, input_shape):
        shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else None
        if not shape or not all(d is None or (isinstance(d, (int, np.integer)) and d > 0) for d in shape):
            raise ValueError(f"Model {self.name!r}.build(): `input_shape` must be a batch-first tuple of sizes, "
                             f"such as (None, 16), got {input_shape!r}")
        return shape

    def add_loss(self, losses, inputs=None):
        """Keras 2's ``add_loss``: a symbolic expression of a functional model's tensors (computed
        each step from that step's tensors) or a callable taking no argument, added to the loss
        of every training and test step (see :mod:`kerosene.models.added_losses`). ``inputs`` is
        accepted for Keras 2 and unused."""
        add_model_loss(self, losses)

    @property
    def losses(self):
        """Keras's ``model.losses``: the penalty tensors of every layer inside (weight regularizers
        from the current weights, activity penalties and ``Layer.add_loss`` values of the last
        forward pass), then the model's own ``add_loss`` values. kerosene runs eagerly, so an
        activity penalty appears once the model has been called."""
        out = []
        for module in self.modules():
            if module is self:
                continue
            if hasattr(module, "_own_losses"):
                out.extend(module._own_losses())
            elif isinstance(module, AddedLoss) and (module.function is not None or module.value is not None
                                                     or module.constant is not None):
                out.append(module.regularization_loss())
        return out

    def reset_states(self):
        """Reset every stateful layer inside (Keras 2: the carried states of ``stateful=True`` RNNs)."""
        for module in self.modules():
            if module is not self and getattr(module, "stateful", False) and hasattr(module, "reset_states"):
                module.reset_states()

    @property
    def updates(self):
        """Keras 2's update ops: the state a training step changes besides the weights (the
        moving statistics of trainable BatchNormalization layers), as tensors."""
        return [b for m in self.modules() if m is not self and getattr(m, "trainable", True)
                and not isinstance(m, Model) for b in m.buffers(recurse=False) if b.is_floating_point()]

    def to_json(self, **kwargs):
        """The architecture as Keras 2's JSON (``kwargs`` go to ``json.dumps``)."""
        return to_json(model_config(self), **kwargs)

    def to_yaml(self, **kwargs):
        """The architecture as YAML (needs PyYAML, as in Keras 2)."""
        try:
            import yaml  # deferred: PyYAML is optional, only this method needs it
        except ImportError:
            raise ImportError("Model.to_yaml() needs PyYAML: pip install pyyaml (or use to_json())") from None
        return yaml.dump(json.loads(self.to_json()), **kwargs)

    @property
    def weights(self):
        return [p for p in self.parameters()] + [b for b in self.buffers()]

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self):
        return [p for p in self.parameters() if not p.requires_grad] + list(self.buffers())

    @property
    def trainable(self):
        return any(p.requires_grad for p in self.parameters())

    @trainable.setter
    def trainable(self, value):
        for layer in self.layers:
            if hasattr(type(layer), "trainable") and isinstance(getattr(type(layer), "trainable"), property):
                layer.trainable = value
            else:
                for p in layer.parameters():
                    p.requires_grad_(bool(value))

    def count_params(self):
        """The number of scalars in the model's parameters (trainable or not)."""
        if not self.built:
            raise ValueError(
                f"Model {self.name!r} is not built yet, so it has no weights to count: give the first "
                "layer an input_shape or call fit/predict first")
        return int(sum(p.numel() for p in self.parameters()))

    def get_weights(self):
        """Weights as numpy arrays in Keras's order and orientation (Dense kernel ``(in, out)``)."""
        return [w for layer in self.layers for w in module_weights(layer)]

    def set_weights(self, weights):
        """Set weights from arrays as :meth:`get_weights` returns them; checks all before changing any."""
        weights = list(weights)
        layers = self.layers
        counts = [len(module_weights(layer)) for layer in layers]
        if sum(counts) != len(weights):
            raise ValueError(
                f"set_weights: model {self.name!r} has {sum(counts)} weight arrays, got {len(weights)}")
        current = self.get_weights()
        for i, (have, new) in enumerate(zip(current, weights)):
            if tuple(np.shape(have)) != tuple(np.shape(new)):
                raise ValueError(
                    f"set_weights: weight {i} should have shape {tuple(np.shape(have))}, got {tuple(np.shape(new))}")
        i = 0
        for layer, count in zip(layers, counts):
            set_module_weights(layer, weights[i:i + count])
            i += count

    def summary(self, line_length=None, print_fn=None):
        """Print the Keras table of layers, output shapes and parameter counts; ``print_fn`` is
        called once per line, as in Keras 2 (``print`` by default)."""
        check_trainable_consistency(self)
        for line in format_summary(self, line_length=line_length).split("\n"):
            (print_fn or print)(line)

    # --- Keras 2's private graph-building steps ----------------------------------------
    # Keras 2 built a backend function per mode here; kerosene's compile() already prepared the
    # steps (eager, or compiled under jit_compile on their first batch), so only the check is left.
    def _make_train_function(self):
        require_compiled(self, "building its train function")

    def _make_test_function(self):
        require_compiled(self, "building its test function")

    def _make_predict_function(self):
        pass  # predict needs no compile in Keras 2 either

    # --- saving (implemented in kerosene.saving) ------------------------------------
    def save_weights(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Save weights: ``.h5``/``.hdf5`` in Keras's HDF5 layout, ``.pt``/``.pth`` as a state dict."""
        return save_weights(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, **kwargs):
        """Load weights saved by :meth:`save_weights` (or by Keras); the model is unchanged on failure."""
        return load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, **kwargs)

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        """Save architecture, weights, compile settings and optimizer state to one HDF5 file."""
        return save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer, **kwargs)

    def get_config(self):
        """A subclassed model's architecture is Python code: define ``get_config``/``from_config`` to save it."""
        raise subclassed_model_error(self)
