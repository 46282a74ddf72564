"""Models: a ``torch.nn.Module`` with Keras's ``compile``/``fit``/``evaluate``/``predict``.

``Model`` is subclassed like any torch module (write ``forward``, or ``call`` as in
Keras); ``Sequential`` stacks layers, kerosene's or any ``nn.Module``.
"""
from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn

from .engine import loop
from .engine.compile_state import CompileState, resolve_device
from .engine.data import map_tensors, per_output

__all__ = ["Model", "Sequential", "load_model", "NotCompiledError"]

_COMPILE_KWARGS_IGNORED = ("sample_weight_mode", "weighted_metrics", "run_eagerly", "steps_per_execution",
                           "target_tensors", "auto_scale_loss")
_PRECISIONS = (None, "float32", "mixed_float16", "mixed_bfloat16", "float16", "bfloat16")


class NotCompiledError(RuntimeError, ValueError):
    """Raised when a model is trained or evaluated before ``compile``."""


def _snake(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


_name_counts = {}


def unique_name(base):
    """Keras-style names: ``dense``, ``dense_1``, ``dense_2`` ..."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def layer_name(module):
    """The Keras name of a layer; raw torch modules get one on first ask."""
    name = getattr(module, "name", None)
    if isinstance(name, str):
        return name
    name = module.__dict__.get("_kerosene_name")
    if name is None:
        name = unique_name(_snake(type(module).__name__))
        module.__dict__["_kerosene_name"] = name
    return name


def _is_kerosene_layer(module):
    return hasattr(module, "keras_weights") and hasattr(module, "set_keras_weights")


def module_weights(module):
    """A layer's weights as numpy arrays in Keras's orientation (raw modules: state-dict order)."""
    if _is_kerosene_layer(module):
        return [np.asarray(w) for w in module.keras_weights()]
    return [t.detach().cpu().numpy().copy() for t in module.state_dict().values()]


def set_module_weights(module, weights):
    if _is_kerosene_layer(module):
        module.set_keras_weights(weights)
        return
    state = module.state_dict()
    for (key, tensor), value in zip(state.items(), weights):
        if tuple(tensor.shape) != tuple(np.shape(value)):
            raise ValueError(
                f"Layer {layer_name(module)!r} weight {key!r} has shape {tuple(tensor.shape)}, "
                f"got an array of shape {tuple(np.shape(value))}")
    with torch.no_grad():
        for tensor, value in zip(state.values(), weights):
            tensor.copy_(torch.as_tensor(np.asarray(value), dtype=tensor.dtype))


def _expand_containers(modules):
    out = []
    for module in modules:
        if isinstance(module, (nn.ModuleList, nn.Sequential)) and not _is_kerosene_layer(module) \
                and not isinstance(module, Model):
            out.extend(_expand_containers(module.children()))
        elif isinstance(module, nn.ModuleDict):
            out.extend(_expand_containers(module.values()))
        else:
            out.append(module)
    return out


class Model(nn.Module):
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
        if cls is Model and ("inputs" in kwargs or "outputs" in kwargs or len(args) >= 2):
            from .engine.functional import Functional
            return nn.Module.__new__(Functional)
        return nn.Module.__new__(cls)

    def __init__(self, *args, name=None, **kwargs):
        super().__init__()
        if args or kwargs:
            unknown = ", ".join(list(kwargs)) or f"{len(args)} positional arguments"
            raise TypeError(f"Model() got unexpected arguments: {unknown}")
        self.name = name or unique_name(_snake(type(self).__name__))
        self.stop_training = False
        self.stop_reason = None
        self.history = None
        self._compile_state = None
        self._loop_state = None

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
        return _expand_containers(self.children())

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            return layers[index]
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
        """Print the Keras table of layers, output shapes and parameter counts."""
        from .utils.summary import format_summary
        text = format_summary(self, line_length=line_length)
        (print_fn or print)(text)

    # --- compile --------------------------------------------------------------------
    @property
    def optimizer(self):
        return self._compile_state.optimizer if self._compile_state is not None else None

    @optimizer.setter
    def optimizer(self, value):
        from . import optimizers
        if self._compile_state is None:
            raise NotCompiledError("Set the optimizer through compile(optimizer=...)")
        self._compile_state.optimizer = optimizers.get(value)

    @property
    def compiled(self):
        return self._compile_state is not None

    @property
    def loss(self):
        state = self._compile_state
        return None if state is None else (state.loss_spec if state.loss_spec is not None else state.losses)

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, device="auto",
                jit_compile=False, precision=None, **kwargs):
        """Choose the optimizer, loss and metrics (Keras names, objects, or torch optimizers).

        ``device='auto'`` trains on CUDA when present. ``jit_compile=True`` runs the
        forward pass through ``torch.compile`` (``'auto'``, Keras 3's default, stays eager);
        ``precision='mixed_bfloat16'`` or ``'mixed_float16'`` trains under autocast.
        """
        from . import losses as losses_module
        from . import optimizers
        for key in kwargs:
            if key not in _COMPILE_KWARGS_IGNORED:
                raise TypeError(f"compile() got an unexpected keyword argument {key!r}")
        if precision not in _PRECISIONS:
            raise ValueError(f"`precision` must be one of {_PRECISIONS}, got {precision!r}")
        if jit_compile not in (True, False, "auto", None):
            raise ValueError(f"`jit_compile` must be True or False, got {jit_compile!r}")
        if optimizer is None:
            raise ValueError("`optimizer` must be a Keras optimizer name, a kerosene optimizer or a "
                             "torch.optim.Optimizer, got None")
        opt = optimizers.get(optimizer)
        output_names = self._output_names()
        loss_list = _per_output(loss, output_names, "loss")
        resolved_losses = [None if l is None else losses_module.get(l) for l in loss_list]
        weights = _per_output(loss_weights, output_names, "loss_weights") if loss_weights is not None else None
        if weights is not None:
            for w in weights:
                if not isinstance(w, (int, float)):
                    raise TypeError(f"`loss_weights` must hold numbers, got {w!r}")
        metric_specs = _metrics_per_output(metrics, output_names)
        device = resolve_device(device)
        self._compile_state = CompileState(
            opt, resolved_losses, weights, metric_specs, device, jit_compile=jit_compile is True,
            precision=precision, output_names=output_names, loss_spec=loss, metrics_spec=metrics)
        if self.built:
            self.to(device)
            _bind_optimizer(self)

    def _output_names(self):
        """Names of the outputs (``None`` for a single-output model)."""
        return getattr(self, "output_names", None)

    # --- steps (Keras 3 style; override to customise one step) --------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        state = self._compile_state
        losses = state.losses
        if len(losses) == 1:
            if losses[0] is None:
                raise ValueError("compile() was given no loss; pass loss=... to train or evaluate")
            total = losses[0](y, _loss_dtype(y_pred), sample_weight)
        else:
            total, ys, preds = 0.0, per_output(y, state.output_names), per_output(y_pred, state.output_names)
            preds = [_loss_dtype(p) for p in preds]
            weights = state.loss_weights
            for i, loss_fn in enumerate(losses):
                if loss_fn is None:
                    continue
                term = loss_fn(ys[i], preds[i], sample_weight)
                total = total + (term if weights is None else term * weights[i])
        penalty = self._regularization_penalty()
        if penalty is not None:
            total = total + penalty
        return total

    def _regularization_penalty(self):
        # fit/evaluate find the regularizable modules once (engine.loop.prepare); scan otherwise.
        modules = getattr(self._compile_state, "regularized", None)
        if modules is None:
            modules = [m for m in self.modules() if m is not self and hasattr(m, "regularization_loss")]
        terms = [m.regularization_loss() for m in modules]
        terms = [t for t in terms if t is not None and not (isinstance(t, (int, float)) and t == 0)]
        return sum(terms) if terms else None

    def compute_metrics(self, x, y, y_pred, sample_weight=None, loss=None):
        """The step's logs: ``loss`` and each metric's batch value, as detached tensors."""
        state = self._compile_state
        logs = {"loss": loss.detach()} if loss is not None else {}
        metrics = state.metrics
        if not metrics or (state.output_names is None and not metrics[0]):
            return logs
        with torch.no_grad():
            if len(metrics) == 1 and state.output_names is None:
                pred = y_pred.detach() if isinstance(y_pred, torch.Tensor) else y_pred
                for metric in metrics[0]:
                    logs[metric.name] = metric(y, pred)
            else:
                ys, preds = per_output(y, state.output_names), per_output(y_pred, state.output_names)
                for i, name in enumerate(state.output_names):
                    if state.losses[i] is not None and len(state.losses) > 1:
                        logs[f"{name}_loss"] = state.losses[i](ys[i], preds[i].detach(), sample_weight).detach()
                    for metric in metrics[i]:
                        logs[f"{name}_{metric.name}"] = metric(ys[i], preds[i].detach())
        return logs

    def train_step(self, data):
        """One optimisation step on a batch ``(x, y, sample_weight)``; returns a dict of tensors."""
        x, y, sample_weight = data
        state = self._compile_state
        optimizer = state.optimizer
        # jit_compile=True: the same forward through torch.compile.
        y_pred = self(x) if state.compiled_forward is None else state.compiled_forward(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        optimizer.zero_grad(set_to_none=True)
        scaler = state.loss_scaler
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:  # float16: scale the loss, unscale before the update, skip steps with inf/nan grads
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        for layer in state.constrained:
            layer.apply_constraints()
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)

    def test_step(self, data):
        """Loss and metrics on a batch without updating anything."""
        x, y, sample_weight = data
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight) if y is not None else None
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)

    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self(x)

    # --- training API ---------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Train for ``epochs`` epochs; returns a :class:`~kerosene.callbacks.History`."""
        return loop.fit(self, x=x, y=y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_split=validation_split,
                        validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                        sample_weight=sample_weight, initial_epoch=initial_epoch,
                        steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                        validation_batch_size=validation_batch_size, validation_freq=validation_freq,
                        **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on the data: a scalar with no metrics, else ``[loss, metric...]``."""
        return loop.evaluate(self, x=x, y=y, batch_size=batch_size, verbose=verbose,
                             sample_weight=sample_weight, steps=steps, callbacks=callbacks,
                             return_dict=return_dict, **kwargs)

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None, **kwargs):
        """The model's outputs for ``x`` as numpy arrays."""
        return loop.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps,
                            callbacks=callbacks, **kwargs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """One step on one batch; returns the loss (or ``[loss, metric...]``)."""
        return loop.train_on_batch(self, x, y, sample_weight=sample_weight, class_weight=class_weight,
                                   return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        return loop.test_on_batch(self, x, y, sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        return loop.predict_on_batch(self, x)

    @property
    def metrics_names(self):
        """Names of what ``evaluate`` returns, in order (``['loss', 'acc']``)."""
        return loop.metric_names(self)

    # --- saving (implemented in kerosene.saving) ------------------------------------
    def save_weights(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Save weights: ``.h5``/``.hdf5`` in Keras's HDF5 layout, ``.pt``/``.pth`` as a state dict."""
        from .saving import save_weights
        return save_weights(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, **kwargs):
        """Load weights saved by :meth:`save_weights` (or by Keras); the model is unchanged on failure."""
        from .saving import load_weights
        return load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, **kwargs)

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        """Save architecture, weights, compile settings and optimizer state to one HDF5 file."""
        from .saving import save_model
        return save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer, **kwargs)

    def get_config(self):
        from .saving import model_config
        return model_config(self)

    # --- Keras 2 names --------------------------------------------------------------
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Keras 2's generator training: the same as ``fit(generator, ...)``."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_proba(self, x, batch_size=32, verbose=0):
        """Keras 2 Sequential: the predicted probabilities (the same as ``predict``)."""
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Keras 2 Sequential: class indices (argmax, or a 0.5 threshold for one output unit)."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")


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
        self._input_dtype = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

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
    def outputs(self):
        return [self.output]

    def _symbolic_tensors(self):
        from .engine.functional import sequential_tensors  # functional.py imports this module
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
        self._stack.append(layer)
        if self._input_shape is not None:
            self._build_declared()
            self._symbolic_tensors()  # so layer.input/output exist from here on, as in Keras 2

    def pop(self):
        """Remove the last layer."""
        if not len(self._stack):
            raise TypeError("There are no layers in the model to pop")
        layer = self._stack[-1]
        del self._stack[-1]
        return layer

    def _build_declared(self):
        """Build every unbuilt layer from the declared input shape by shape inference."""
        shape = (None,) + tuple(self._input_shape)
        for layer in self._stack:
            if hasattr(layer, "compute_output_shape") and hasattr(layer, "build"):
                if not getattr(layer, "built", True):
                    layer.build(shape)
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

    def forward(self, x):
        for layer in self._stack:
            x = layer(x)
        return x

    def get_config(self):
        from .saving import model_config
        return model_config(self)


def _loss_dtype(y_pred):
    """Losses are computed in float32 as in Keras (its Loss dtype), even when a mixed
    precision forward produced bfloat16/float16 outputs."""
    if isinstance(y_pred, torch.Tensor) and y_pred.dtype in (torch.bfloat16, torch.float16):
        return y_pred.float()
    return y_pred


def _declared_input_shape(layer):
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


def _per_output(spec, output_names, argname):
    """Expand a loss/loss_weights spec into a list with one entry per output."""
    if output_names is None:
        if isinstance(spec, (list, tuple)) and argname == "loss":
            if len(spec) != 1:
                raise ValueError(f"`{argname}` has {len(spec)} entries but the model has one output")
            return [spec[0]]
        if isinstance(spec, dict):
            raise ValueError(f"`{argname}` is a dict but the model has a single unnamed output")
        return [spec] if not isinstance(spec, (list, tuple)) else list(spec)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(f"`{argname}` names unknown outputs {unknown}; outputs: {output_names}")
        return [spec.get(n) for n in output_names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(output_names):
            raise ValueError(f"`{argname}` has {len(spec)} entries but the model has {len(output_names)} outputs")
        return list(spec)
    return [spec] * len(output_names)


def _metrics_per_output(metrics, output_names):
    if metrics is None:
        metrics = []
    if output_names is None:
        if isinstance(metrics, dict):
            raise ValueError("`metrics` is a dict but the model has a single unnamed output")
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"`metrics` must be a list of metrics, got {type(metrics).__name__}")
        return [list(metrics)]
    if isinstance(metrics, dict):
        unknown = [k for k in metrics if k not in output_names]
        if unknown:
            raise ValueError(f"`metrics` names unknown outputs {unknown}; outputs: {output_names}")
        return [_listify(metrics.get(n)) for n in output_names]
    if metrics and all(isinstance(m, (list, tuple)) for m in metrics) and len(metrics) == len(output_names):
        return [list(m) for m in metrics]
    return [list(metrics) for _ in output_names]


def _listify(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _bind_optimizer(model):
    """Give a kerosene optimizer the model's trainable parameters (once it has them)."""
    optimizer = model._compile_state.optimizer
    if getattr(optimizer, "built", True) is False:
        optimizer.build([p for p in model.parameters() if p.requires_grad])


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by :meth:`Model.save` (never runs code from the file)."""
    from .saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
