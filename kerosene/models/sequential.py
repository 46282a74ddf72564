"""``Sequential``: a linear stack of layers, kerosene's or any ``torch.nn.Module``."""
from __future__ import annotations

import torch
from torch import nn

from .._naming import layer_name
from ..layers import Input, InputLayer
from ..layers import deserialize as deserialize_layer
from ..layers.masking import attach_mask, call_with_mask, makes_masks, output_mask
from ..saving.config import layer_config
from ..saving.registry import MODEL_CLASSES
from ..symbolic import as_keras_tensor, call_symbolic, is_symbolic
from .model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers: kerosene layers or any ``torch.nn.Module``.

    Example (the Keras spec's model)::

        model = Sequential()
        model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
        model.add(Activation('softmax'))
        model.compile(loss='categorical_crossentropy', optimizer='rmsprop')

    A first layer with ``input_dim``/``input_shape`` (or an ``Input``) builds the model
    at once; otherwise it builds on the first data it sees.
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._stack = nn.ModuleList()
        self._input_shape = None   # Keras convention, without the batch dimension
        self._input_batch = None   # a fixed batch size (stateful RNNs' batch_input_shape), else None
        self._input_dtype = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (self._input_batch,) + tuple(self._input_shape)

    @property
    def input(self):
        """The symbolic input tensor (Keras 2's ``model.input``), once the input shape is known."""
        return self._symbolic_tensors()[0]

    @property
    def output(self):
        return self._symbolic_tensors()[-1]

    @property
    def inputs(self):
        return [self.input]

    @property
    def input_names(self):
        """Keras 2's ``model.input_names``: the name a dict ``x`` keys its one array by."""
        return [self.input.name]

    @property
    def outputs(self):
        return [self.output]

    @property
    def output_names(self):
        """Keras 2's ``model.output_names``: the last layer's name, in a list."""
        return [layer_name(self.layers[-1])] if self.layers else []

    def _output_names(self):
        return None   # one output: the engine keys nothing per output

    def _symbolic_tensors(self):
        return sequential_tensors(self)

    @property
    def output_shape(self):
        shape = self.input_shape
        if shape is None:
            return None
        for layer in self._stack:
            if not hasattr(layer, "compute_output_shape"):
                return None
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def add(self, layer):
        """Append a layer (or an ``Input``, which sets the input shape)."""
        shape = _declared_input_shape(layer)
        if _is_input_layer(layer):
            if len(self._stack):
                raise ValueError("An Input can only be the first element of a Sequential model")
            self._input_shape = shape
            self._input_batch = _declared_batch(layer)
            self._input_dtype = getattr(layer, "dtype", None)
            return
        if not isinstance(layer, nn.Module):
            raise TypeError(
                f"Sequential.add() takes a layer (a kerosene layer or a torch.nn.Module), got {type(layer).__name__}")
        names = {layer_name(m) for m in self._stack}
        if layer_name(layer) in names:
            raise ValueError(f"All layers in a Sequential model must have unique names; {layer_name(layer)!r} is taken")
        if not len(self._stack) and shape is not None and self._input_shape is None:
            self._input_shape = shape
            self._input_batch = _declared_batch(layer)
        elif len(self._stack) and shape is not None and hasattr(layer, "_set_input_check"):
            layer._set_input_check(None)  # Keras 2 ignores input_dim/input_shape after the first layer
        self._stack.append(layer)
        self.__dict__.pop("_mask_check", None)
        if self._input_shape is not None:
            self._build_declared()
            self._symbolic_tensors()  # so layer.input/output exist from here on, as in Keras 2

    def pop(self):
        """Remove the last layer."""
        if not len(self._stack):
            raise TypeError("There are no layers in the model to pop")
        layer = self._stack[-1]
        del self._stack[-1]
        self.__dict__.pop("_mask_check", None)
        return layer

    def build(self, input_shape=None):
        """Build the layers for ``input_shape`` (batch first); without it, from the declared one."""
        if input_shape is not None and self._input_shape is None:
            self._input_shape = self._checked_build_shape(input_shape)[1:]
        if self._input_shape is None:
            super().build(input_shape)
            return
        self._build_declared()

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            if not hasattr(layer, "compute_output_shape"):
                raise ValueError(f"Sequential {self.name!r}: layer {layer_name(layer)!r} (a raw torch module) "
                                 "cannot tell its output shape without data")
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def _build_declared(self):
        """Build every unbuilt layer from the declared input shape by shape inference."""
        shape = (None,) + tuple(self._input_shape)
        for layer in self._stack:
            if hasattr(layer, "compute_output_shape") and hasattr(layer, "build"):
                if not getattr(layer, "built", True):
                    layer.build(shape)
                    if not isinstance(layer, Model):  # a model's `built` is worked out from its layers
                        layer.built = True
                shape = tuple(layer.compute_output_shape(shape))
            else:
                dtype = torch.long if self._input_dtype in ("int32", "int64") else torch.float32
                sample = torch.zeros((2,) + tuple(d if d is not None else 1 for d in self._input_shape), dtype=dtype)
                self._build_from_sample(sample)
                return

    def check_input(self, x, samples=None):
        """A clear error when data does not match the declared input shape."""
        if self._input_shape is None or not isinstance(x, torch.Tensor):
            return
        expected = tuple(self._input_shape)
        got = tuple(x.shape[1:])
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
            raise ValueError(
                f"Input of model {self.name!r} is incompatible: expected shape {(None,) + expected}, "
                f"got data of shape {(samples if samples is not None else x.shape[0],) + got}")

    _attaches_masks = True  # a model gives its output's mask on the output tensor (layers.masking)

    def _makes_masks(self):
        found = self.__dict__.get("_mask_check")  # cleared by add() and pop()
        if found is None:
            found = self.__dict__["_mask_check"] = makes_masks(self._stack)
        return found

    def forward(self, x, mask=None):
        if not isinstance(x, torch.Tensor) and is_symbolic(x):
            # Called on symbolic tensors, the model is one layer of the new graph (Keras 2), not inlined.
            return call_symbolic(self, x)
        if mask is None and not self._makes_masks():
            for layer in self._stack:
                x = layer(x)
            return x
        # Keras 2 masks: each layer gets the mask the one before passes on.
        for layer in self._stack:
            out = call_with_mask(layer, x, mask)
            mask = output_mask(layer, x, mask, out)
            x = out
        return attach_mask(x, mask)

    def get_config(self):
        """Keras 2's ``{"name": ..., "layers": [{"class_name", "config"}...], "build_input_shape"}``
        (``model_config`` wraps it in ``{"class_name": "Sequential", "config": ...}``)."""
        layers = [layer_config(layer, self) for layer in self.layers]
        if self._input_shape is not None:
            # Keras 2.4+ writes the input as a first layer; Keras 3 needs it to know the input shape.
            dtype = str(self._input_dtype) if self._input_dtype is not None else "float32"
            layers.insert(0, {"class_name": "InputLayer", "config": {
                "batch_input_shape": [self._input_batch] + list(self._input_shape), "dtype": dtype, "sparse": False,
                "name": f"{self.name}_input"}})
        config = {"name": self.name, "layers": layers}
        built_for = self._built_input_shape()
        if built_for is not None:
            config["build_input_shape"] = list(built_for)
            if self._input_dtype not in (None, "float32"):  # float32 is the default
                config["input_dtype"] = str(self._input_dtype)
        return config

    def _built_input_shape(self):
        """The batch-first shape the model was declared or built for (from data too), or None."""
        if self._input_shape is not None:
            return self.input_shape
        first = self._stack[0] if len(self._stack) else None
        if isinstance(first, Sequential):
            return first._built_input_shape()
        shape = getattr(first, "_build_input_shape", None)
        return shape if isinstance(shape, tuple) else None

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the stack (fresh weights) from the ``config`` part of :meth:`get_config`
        (Keras 2.0's bare list of layers too)."""
        layer_specs = config.get("layers") if isinstance(config, dict) else config
        if not isinstance(layer_specs, list):
            raise ValueError(f"Sequential config must hold a list of layers, got {type(layer_specs).__name__}")
        model = cls(name=config.get("name") if isinstance(config, dict) else None)
        shape = config.get("build_input_shape") if isinstance(config, dict) else None
        starts_with_input = bool(layer_specs) and layer_specs[0].get("class_name") == "InputLayer"
        if shape is not None and not starts_with_input:
            model.add(Input(shape=tuple(shape[1:]), dtype=config.get("input_dtype")))
        for spec in layer_specs:
            if spec.get("class_name") == "InputLayer":   # Keras 2.4+ writes the input as a layer
                cfg = spec.get("config", {})
                batch_shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
                model.add(Input(batch_shape=tuple(batch_shape), dtype=cfg.get("dtype")))
                continue
            nested = MODEL_CLASSES.find(spec.get("class_name")) if spec.get("class_name") in MODEL_CLASSES else None
            if isinstance(nested, type) and issubclass(nested, Sequential):  # a Sequential used as a layer
                model.add(nested.from_config(spec.get("config") or {}, custom_objects=custom_objects))
            else:
                model.add(deserialize_layer(spec, custom_objects=custom_objects))
        return model


def _declared_batch(layer):
    """The batch size a first layer (or Input) fixes with ``batch_input_shape``, else None."""
    if isinstance(layer, Sequential):
        return layer._input_batch
    shape = getattr(layer, "batch_input_shape", None) or getattr(layer, "_batch_input_shape", None)
    return tuple(shape)[0] if shape else None


def _declared_input_shape(layer):
    if isinstance(layer, Sequential):
        return layer._input_shape
    for attr in ("batch_input_shape", "_batch_input_shape"):
        shape = getattr(layer, attr, None)
        if shape is not None:
            return tuple(shape)[1:]
    shape = getattr(layer, "input_shape_arg", None) or getattr(layer, "_input_shape_arg", None)
    if shape is not None:
        return tuple(shape)
    return None


def _is_input_layer(layer):
    return type(layer).__name__ in ("InputLayer", "KerasTensor", "SymbolicTensor") or getattr(
        layer, "is_input_layer", False)


def sequential_tensors(model):
    """The symbolic tensors of a Sequential ``model``: its input, then each layer's output,
    so ``model.input``, ``model.output`` and ``model.layers[i].output`` work as in Keras 2.

    Made when first asked for and kept in step with ``add``/``pop``: layers still in place
    keep their one symbolic call; a popped layer's call is forgotten.
    """
    if model.input_shape is None:
        raise AttributeError(f"Sequential model {model.name!r} has no input yet: give its first layer "
                             "input_shape/input_dim or build it")
    old, made_for = model.__dict__.get("_symbolic_chain", ([], []))
    layers = model.layers
    same_input = bool(old) and old[0].shape == tuple(model.input_shape)
    keep = 0
    while same_input and keep < min(len(made_for), len(layers)) and made_for[keep] is layers[keep]:
        keep += 1
    for layer, tensor in zip(made_for[keep:], old[keep + 1:]):
        nodes = layer.__dict__.get("_kerosene_nodes", [])
        layer.__dict__["_kerosene_nodes"] = [n for n in nodes if n is not tensor.node]
    if same_input:
        tensors, made_for = old[:keep + 1], made_for[:keep]
    else:
        first = layer_name(layers[0]) if layers else model.name
        source = InputLayer(batch_input_shape=model.input_shape, dtype=model._input_dtype, name=f"{first}_input")
        tensors, made_for = [as_keras_tensor(source)], []
    for layer in layers[keep:]:
        tensors.append(call_symbolic(layer, tensors[-1]))
        made_for.append(layer)
    model.__dict__["_symbolic_chain"] = (tensors, made_for)
    return tensors
