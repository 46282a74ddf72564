"""``Layer``: the base of every Keras-named layer, a ``torch.nn.Module``.

A layer builds lazily: ``build(input_shape)`` runs on the first call (or at
once when the layer was given ``input_shape``/``input_dim`` and a model builds
it), then ``forward`` is a direct call to ``call``.  Weights are torch
parameters stored in whatever layout computes fastest; ``keras_weights()`` and
``set_keras_weights()`` convert to and from Keras's orientation.

Keras-2-style subclassing works::

    >>> import torch
    >>> from kerosene.layers import Layer
    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(name='w', shape=(input_shape[-1],),
    ...                                  initializer='ones')
    ...     def call(self, x):
    ...         return x * self.w
    >>> Scale()(torch.ones(2, 3)).shape
    torch.Size([2, 3])
"""

import functools

import torch
from torch import nn

from .._naming import reset as reset_name_counters  # noqa: F401 (kerosene.layers.reset_name_counters)
from .._naming import to_snake_case, uniquify
from ..backend.config import floatx
from ..legacy.interfaces import wrap_init as accept_keras1_arguments
from ..symbolic import call_symbolic, is_symbolic, object_list_uid, single_node
from ._utils import as_tensor_shape, get_regularizer, serialize_object, torch_dtype
from .input_spec import check_input_spec
from .weights import LayerWeights

__all__ = ["Layer", "to_snake_case", "reset_name_counters"]


def normalize_shape(shape):
    """A Keras shape as a tuple of ints/None; a list of shapes stays a list."""
    if shape is None:
        return None
    if isinstance(shape, torch.Size):
        return tuple(int(s) for s in shape)
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple, torch.Size)):
        return [normalize_shape(s) for s in shape]
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, torch.Size)):
        return [normalize_shape(s) for s in shape]
    return tuple(None if s is None else int(s) for s in shape)


def _shape_of(inputs):
    if isinstance(inputs, (list, tuple)):
        return [_shape_of(t) for t in inputs]
    return (None,) + tuple(int(s) for s in inputs.shape[1:])


def _first_tensor(inputs):
    while isinstance(inputs, (list, tuple)):
        inputs = inputs[0]
    return inputs


class Layer(LayerWeights, nn.Module):
    """Base class of kerosene layers (see the module docstring for an example).

    Arguments common to every layer: ``name``, ``trainable``, ``dtype``, and,
    for a model's first layer, ``input_shape`` (without batch), ``input_dim``
    (``input_shape=(input_dim,)``), ``batch_input_shape`` or ``batch_size``.
    ``weights`` sets initial Keras-oriented weights once built;
    ``activity_regularizer`` adds a penalty on the output.
    """

    # Axis of the input whose size is checked against ``input_shape``; None
    # turns the check off (e.g. Embedding, merge layers).
    _checked_axis = -1
    # Keras 2.2: a layer that keeps state between calls (a stateful RNN, a stateful metric)
    stateful = False
    # Keras 2: whether the layer passes an incoming mask on (compute_mask); those that do not refuse one.
    supports_masking = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_kerosene_wrapped", False):
            @functools.wraps(build)
            def wrapped(self, input_shape=None, *args, **kw):
                input_shape = normalize_shape(input_shape)
                out = build(self, input_shape, *args, **kw)
                self._on_built(input_shape)
                return out
            wrapped._kerosene_wrapped = True
            cls.build = wrapped
        accept_keras1_arguments(cls)  # Keras 2.2.4: Dense(output_dim=3), Conv2D(5, 3, 3), ... with a warning

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 input_dim=None, batch_input_shape=None, batch_size=None, weights=None,
                 activity_regularizer=None, **kwargs):
        for key in ("autocast", "dynamic"):
            kwargs.pop(key, None)
        if kwargs:
            key = next(iter(kwargs))
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument {key!r} "
                            f"(value {kwargs[key]!r}).")
        nn.Module.__init__(self)
        self.name = name if name is not None else uniquify(to_snake_case(type(self).__name__))
        if not isinstance(self.name, str):
            raise TypeError(f"Argument 'name' must be a string, got {name!r}.")
        self._trainable = bool(trainable)
        if isinstance(dtype, dict):  # Keras 3 DTypePolicy config
            dtype = dtype.get("config", {}).get("name", "float32")
        self._dtype_name = str(dtype).replace("torch.", "") if dtype is not None else floatx()  # Keras 2: K.floatx()
        self._torch_dtype = torch_dtype(self._dtype_name)
        self._weight_specs = []
        self.built = False
        self._build_input_shape = None
        self._initial_weights = weights
        self.activity_regularizer = get_regularizer(activity_regularizer, "activity_regularizer")
        self._activity_losses = []

        if batch_input_shape is None and input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is None and input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = normalize_shape(batch_input_shape)
        self._set_input_check(self._checked_axis)

    def _set_input_check(self, axis):
        """Check axis ``axis`` of inputs against ``batch_input_shape`` (None: off)."""
        self._checked_axis = axis
        self._check_dim = 0
        shape = self.batch_input_shape
        if shape is not None and axis is not None and -len(shape) <= axis < len(shape):
            dim = shape[axis]
            self._check_dim = int(dim) if dim is not None else 0
        self._update_slow()

    # ------------------------------------------------------------ properties

    def __setattr__(self, name, value):
        # Re-assigning a weight made by add_weight to another attribute name
        # (``self.w = self.add_weight(name='kernel')``) moves it, so it is not
        # listed twice in the state dict.
        if isinstance(value, nn.Parameter) and "_weight_specs" in self.__dict__:
            params = self.__dict__["_parameters"]
            for spec in self._weight_specs:
                if spec.attr != name and params.get(spec.attr) is value:
                    del params[spec.attr]
                    spec.attr = name
                    break
        super().__setattr__(name, value)
        if name == "input_spec" and "_slow" in self.__dict__:
            self._update_slow()

    @property
    def dtype(self):
        """The Keras dtype name of the layer's weights, e.g. ``'float32'``."""
        return self._dtype_name

    @property
    def trainable(self):
        """Whether the layer's weights are trained; setting it sets
        ``requires_grad`` on them (and on every sublayer's)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for spec in self._weight_specs:
            if spec.trainable and not spec.buffer:
                getattr(self, spec.attr).requires_grad_(value)
        for child in self.children():
            if isinstance(child, Layer):
                child.trainable = value
            else:
                for p in child.parameters():
                    p.requires_grad_(value)

    @property
    def input_shape(self):
        """Keras input shape, batch first: the shape the layer was built for,
        or the one given with ``input_shape``/``batch_input_shape``."""
        if self._build_input_shape is not None:
            return self._build_input_shape
        return self.batch_input_shape

    @property
    def input(self):
        """The symbolic tensor(s) the layer was called on (Keras 2's ``layer.input``)."""
        return single_node(self).inputs

    @property
    def output(self):
        """The symbolic tensor(s) the layer's one symbolic call returned."""
        outputs = single_node(self).outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @property
    def output_shape(self):
        """``compute_output_shape(self.input_shape)`` (needs a known input shape)."""
        if self.input_shape is None:
            raise AttributeError(f"Layer {self.name!r} has no defined input shape yet: "
                                 "call it on data or build it first.")
        return self.compute_output_shape(self.input_shape)

    # ---------------------------------------------------------- building

    def build(self, input_shape):
        """Create the layer's weights for ``input_shape`` (batch first).
        Subclasses override it; the base creates nothing."""

    def _on_built(self, input_shape):
        self.built = True
        self._build_input_shape = input_shape
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_keras_weights(weights)
        self._update_slow()

    def _update_slow(self):
        # forward() takes the cheap path (a bool test, then call) unless the
        # layer must build, check its input or record an activity penalty.
        self._slow = (not self.built) or bool(self._check_dim) or (
            self.activity_regularizer is not None) or self.__dict__.get("input_spec") is not None or (
            self.__dict__.get("_adds_losses", False))

    def _build_from(self, inputs):
        shape = _shape_of(inputs)
        if self.batch_input_shape is not None and not isinstance(shape, list):
            shape = (self.batch_input_shape[0],) + tuple(shape[1:])
        self.build(shape)
        if not self.built:  # a build() that was not wrapped (called via super chain)
            self._on_built(normalize_shape(shape))
        ref = _first_tensor(inputs)
        if isinstance(ref, torch.Tensor):
            for t in self._all_tensors():
                if t.device != ref.device:
                    self.to(device=ref.device)
                    break

    def _all_tensors(self):
        yield from self.parameters()
        yield from self.buffers()

    def __call__(self, *args, **kwargs):
        # Called on symbolic tensors (functional API): record the call instead of computing.
        if args and not isinstance(args[0], torch.Tensor) and is_symbolic(args[0]):
            return call_symbolic(self, *args, **kwargs)
        return nn.Module.__call__(self, *args, **kwargs)

    def forward(self, inputs, *args, **kwargs):
        if self._slow:
            return self._forward_slow(inputs, *args, **kwargs)
        return self.call(inputs, *args, **kwargs)

    def _forward_slow(self, inputs, *args, **kwargs):
        pooling = self.__dict__.get("_pooling_losses", False)  # a shared layer: every call of the pass counts
        if self.__dict__.get("_adds_losses") and not pooling:
            self._call_losses = []      # add_loss tensors count for the step whose call made them
            self._call_loss_keys = []
        if not self.built:
            self._build_from(inputs)
        spec = self.__dict__.get("input_spec")
        if spec is not None:
            check_input_spec(self.name, spec, inputs)
        if self._check_dim:
            t = _first_tensor(inputs)
            if t.dim() == 0 or t.shape[self._checked_axis] != self._check_dim:
                raise ValueError(
                    f"Input 0 of layer {self.name} is incompatible: expected shape "
                    f"{self.batch_input_shape}, got {tuple(t.shape)}")
        out = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            penalty = self.activity_regularizer(_first_tensor(out))
            if pooling:
                self._activity_losses.append(penalty)
            else:
                self._activity_losses = [penalty]
        return out

    def call(self, inputs, *args, **kwargs):
        """Compute the output from ``inputs``; subclasses override it."""
        return inputs

    def compute_output_shape(self, input_shape):
        """Output shape (batch first) for ``input_shape``.  The base probes
        the layer with a zero batch of size 1 (building it if needed)."""
        input_shape = normalize_shape(input_shape)
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        probes = [torch.zeros(as_tensor_shape(s), dtype=self._probe_dtype()) for s in shapes]
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                out = self(probes if isinstance(input_shape, list) else probes[0])
        finally:
            self.train(was_training)
        if isinstance(out, (list, tuple)):
            return [(input_shape[0] if not isinstance(input_shape, list) else None,)
                    + tuple(o.shape[1:]) for o in out]
        batch = shapes[0][0]
        return (batch,) + tuple(int(s) for s in out.shape[1:])

    def _probe_dtype(self):
        return self._torch_dtype if self._torch_dtype.is_floating_point else torch.float32

    def compute_mask(self, inputs, mask=None):
        """The mask to pass on (Keras 2): the incoming one when the layer ``supports_masking``;
        a layer that does not refuses a mask with a TypeError."""
        if not self.supports_masking:
            if mask is not None and not (isinstance(mask, (list, tuple)) and all(m is None for m in mask)):
                raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) does not support masking, but was "
                                "passed an input mask (from a Masking or Embedding(mask_zero=True) layer before it)")
            return None
        return mask

    @property
    def updates(self):
        """Keras 2's update ops of this layer: the floating-point state a training step changes
        besides the weights (BatchNormalization's moving statistics), empty when not trainable."""
        if not self.trainable:
            return []
        return [b for b in self.buffers() if b.is_floating_point()]

    def add_update(self, updates, inputs=None):
        """Keras 2's ``add_update``. Tensors made by ``K.update``/``K.update_add``/... are already
        applied (kerosene runs eagerly), so they need nothing more; a callable is called now
        (as tf.keras does in eager mode). ``inputs`` is accepted for Keras 2 and unused.

        >>> import torch
        >>> from kerosene import backend as K
        >>> count = K.variable(0.0)
        >>> Layer().add_update(K.update_add(count, 1.0)); float(count)
        1.0
        """
        for update in updates if isinstance(updates, (list, tuple)) else [updates]:
            if callable(update) and not isinstance(update, torch.Tensor):
                update()
            elif not isinstance(update, torch.Tensor) and update is not None:
                raise TypeError(f"add_update: `updates` must be tensors from K.update*/K.update_add or "
                                f"callables, got {type(update).__name__}")

    def add_loss(self, losses, inputs=None):
        """Keras 2's ``add_loss``, from inside ``call``: a tensor computed from this call's inputs
        joins the loss of the step that made it (the layer's next call replaces it); a callable
        taking no argument, or a number (a constant), counts at every step. ``inputs`` says what
        the loss is conditional on, for :meth:`get_losses_for` (None: on nothing).

        >>> import torch
        >>> class Penalised(Layer):
        ...     def call(self, x):
        ...         self.add_loss(0.1 * x.abs().mean())
        ...         return x
        >>> layer = Penalised()
        >>> _ = layer(torch.ones(2, 3)); layer.losses
        [tensor(0.1000)]
        """
        key = None if inputs is None else object_list_uid(inputs)
        for loss in losses if isinstance(losses, (list, tuple)) else [losses]:
            if isinstance(loss, (int, float)) and not isinstance(loss, bool):
                loss = functools.partial(torch.tensor, float(loss))
            if isinstance(loss, torch.Tensor):
                self.__dict__.setdefault("_call_losses", []).append(loss)
                self.__dict__.setdefault("_call_loss_keys", []).append(key)
            elif callable(loss) and not is_symbolic(loss):
                self.__dict__.setdefault("_loss_functions", []).append(loss)
                self.__dict__.setdefault("_loss_function_keys", []).append(key)
            else:
                raise TypeError(f"Layer {self.name!r}.add_loss: `losses` must be tensors computed in call() or "
                                f"callables taking no argument, got {type(loss).__name__} (for an expression of a "
                                "functional model's symbolic tensors, use model.add_loss)")
        if not self.__dict__.get("_adds_losses"):
            self.__dict__["_adds_losses"] = True
            self._update_slow()

    def get_losses_for(self, inputs):
        """Keras 2's losses of this layer and its sublayers conditional on ``inputs``: with None,
        the weight regularizers' and those added with ``inputs=None``; else those added with
        these ``inputs``. (Activity penalties belong to the last call: ``losses`` lists them.)"""
        key = None if inputs is None else object_list_uid(inputs)
        out = []
        for layer in self.modules():
            if not isinstance(layer, LayerWeights):
                continue
            if key is None:
                out.extend(layer._weight_losses())
            found = layer.__dict__
            out.extend(loss for loss, k in zip(found.get("_call_losses", ()), found.get("_call_loss_keys", ()))
                       if k == key)
            out.extend(fn() for fn, k in zip(found.get("_loss_functions", ()), found.get("_loss_function_keys", ()))
                       if k == key)
        return out

    def reset_states(self):
        """Reset a stateful layer's state (nothing for a layer without state)."""

    def get_config(self):
        """Keras 2 config: ``name``, ``trainable``, ``dtype`` (plus
        ``batch_input_shape`` when given); subclasses add their arguments."""
        config = {"name": self.name, "trainable": self._trainable, "dtype": self._dtype_name}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = self.batch_input_shape
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize_object(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Create a layer from ``get_config()``'s output.  A string value that
        names an entry of ``custom_objects`` (a user activation, initializer,
        regularizer or function) is replaced by that object."""
        config = dict(config)
        if custom_objects:
            for key, value in config.items():
                if isinstance(value, str) and value in custom_objects:
                    config[key] = custom_objects[value]
        return cls(**config)

    def extra_repr(self):
        return f"name={self.name!r}"
