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
import re

import numpy as np
import torch
from torch import nn

from .. import initializers
from .._naming import reset as reset_name_counters
from .._naming import to_snake_case, uniquify
from ..symbolic import call_symbolic, is_symbolic, single_node
from ._utils import (as_tensor_shape, get_constraint, get_regularizer, serialize_object,
                     torch_dtype)
from .input_spec import check_input_spec

__all__ = ["Layer", "to_snake_case", "reset_name_counters"]


def _identity(t):
    return t


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


class _WeightSpec:
    """How one weight maps between torch storage and Keras orientation."""

    __slots__ = ("name", "attr", "trainable", "to_keras", "from_keras",
                 "regularizer", "constraint", "buffer")

    def __init__(self, name, attr, trainable, to_keras, from_keras, regularizer,
                 constraint, buffer):
        self.name, self.attr, self.trainable = name, attr, trainable
        self.to_keras, self.from_keras = to_keras, from_keras
        self.regularizer, self.constraint, self.buffer = regularizer, constraint, buffer


class Layer(nn.Module):
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
        self._dtype_name = str(dtype).replace("torch.", "") if dtype is not None else "float32"
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
            self.activity_regularizer is not None) or self.__dict__.get("input_spec") is not None

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
            self._activity_losses = [self.activity_regularizer(_first_tensor(out))]
        return out

    def call(self, inputs, *args, **kwargs):
        """Compute the output from ``inputs``; subclasses override it."""
        return inputs

    def compute_output_shape(self, input_shape):
        """Output shape (batch first) for ``input_shape``.  The base probes
        the layer with a zero batch of size 1 (building it if needed)."""
        input_shape = normalize_shape(input_shape)
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        probes = [torch.zeros(as_tensor_shape(s)) for s in shapes]
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

    def compute_mask(self, inputs, mask=None):
        """The mask to pass on: by default the incoming one."""
        return mask

    # ----------------------------------------------------------- weights

    def add_weight(self, name=None, shape=None, dtype=None, initializer=None,
                   regularizer=None, trainable=True, constraint=None, **kwargs):
        """Create a weight of Keras shape ``shape`` as an ``nn.Parameter``
        (stored in that same shape) and return it.

        ``initializer`` is a name, an Initializer or a callable (default
        ``'glorot_uniform'`` for floats, ``'zeros'`` otherwise).  Keras 3's
        keyword order (``add_weight(shape=..., initializer=..., name=...)``)
        works too; a tuple passed first is taken as the shape.
        """
        for key in ("use_resource", "synchronization", "aggregation", "autocast",
                    "partitioner", "experimental_autocast", "caching_device", "getter"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"add_weight(): unexpected keyword argument {next(iter(kwargs))!r}.")
        if isinstance(name, (tuple, list, torch.Size)) and (shape is None or isinstance(shape, str)):
            name, shape = shape, name
        if shape is None:
            shape = ()
        return self._add_weight(name or "variable", tuple(shape), initializer, trainable,
                                regularizer=regularizer, constraint=constraint, dtype=dtype)

    def _add_weight(self, name, keras_shape, initializer, trainable=True, *, to_keras=_identity,
                    from_keras=_identity, regularizer=None, constraint=None, buffer=False,
                    dtype=None):
        """Create a weight: initialise in Keras shape, store ``from_keras(value)``."""
        tdtype = torch_dtype(dtype) if dtype is not None else self._torch_dtype
        if initializer is None:
            initializer = "glorot_uniform" if tdtype.is_floating_point else "zeros"
        init = initializers.get(initializer)
        value = init(tuple(keras_shape), dtype=tdtype)
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(np.asarray(value), dtype=tdtype)
        value = from_keras(value.to(tdtype)).contiguous()
        attr = re.sub(r"\W", "_", name.split(":")[0]) or "variable"
        if self.__dict__.get(attr, False) is None:  # a placeholder like ``self.bias = None``
            del self.__dict__[attr]
        base, i = attr, 1
        while attr in self._parameters or attr in self._buffers or attr in self._modules or (
                attr in self.__dict__) or hasattr(type(self), attr):
            attr, i = f"{base}_{i}", i + 1
        if buffer:
            self.register_buffer(attr, value)
        else:
            self.register_parameter(attr, nn.Parameter(
                value, requires_grad=bool(trainable) and self._trainable and tdtype.is_floating_point))
        self._weight_specs.append(_WeightSpec(
            name.split(":")[0], attr, bool(trainable) and not buffer, to_keras, from_keras,
            get_regularizer(regularizer), get_constraint(constraint), buffer))
        return getattr(self, attr)

    def _entries_split(self, prefix=""):
        """(trainable, frozen) lists of (name, owner, spec-or-None, tensor)."""
        trainable, frozen = [], []
        for spec in self._weight_specs:
            (trainable if spec.trainable else frozen).append(
                (prefix + spec.name, self, spec, getattr(self, spec.attr)))
        # Parameters a custom layer assigned itself (``self.w = nn.Parameter(...)``) count too.
        declared = {spec.attr for spec in self._weight_specs}
        for pname, p in self._parameters.items():
            if p is not None and pname not in declared:
                trainable.append((prefix + pname, self, None, p))
        for child_name, child in self.named_children():
            if isinstance(child, Layer):
                t, f = child._entries_split(prefix + child.name + "/")
                trainable += t
                frozen += f
            else:
                for pname, p in child.named_parameters():
                    trainable.append((f"{prefix}{child_name}/{pname}", child, None, p))
                for bname, b in child.named_buffers():
                    if b.is_floating_point():
                        frozen.append((f"{prefix}{child_name}/{bname}", child, None, b))
        return trainable, frozen

    def _ordered_entries(self):
        """Every weight in Keras order: trainable-designated first, then the rest."""
        trainable, frozen = self._entries_split()
        return trainable + frozen

    @property
    def weights(self):
        """All weight tensors (torch storage, Keras order: trainable first)."""
        return [e[3] for e in self._ordered_entries()]

    @property
    def trainable_weights(self):
        """The weights that training updates (empty when ``trainable`` is False)."""
        if not self._trainable:
            return []
        return [e[3] for e in self._entries_split()[0] if e[3].requires_grad]

    @property
    def non_trainable_weights(self):
        """The weights training leaves alone (moving statistics, frozen weights)."""
        ids = {id(t) for t in self.trainable_weights}
        return [t for t in self.weights if id(t) not in ids]

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def variables(self):
        return self.weights

    def count_params(self):
        """Number of scalars in the layer's weights (trainable or not)."""
        if not self.built and not self.weights:
            raise ValueError(f"You tried to call count_params on layer {self.name!r}, but "
                             "the layer isn't built. Call it on data or build it first.")
        return int(sum(t.numel() for t in self.weights))

    def keras_weight_names(self):
        """Weight names as Keras writes them, e.g. ``['kernel:0', 'bias:0']``."""
        return [e[0] + ":0" for e in self._ordered_entries()]

    def keras_weights(self):
        """The weights as numpy arrays in Keras's order and orientation."""
        out = []
        for _, _, spec, t in self._ordered_entries():
            t = t.detach()
            if spec is not None:
                t = spec.to_keras(t)
            out.append(t.cpu().numpy().copy())
        return out

    def set_keras_weights(self, weights):
        """Set the weights from Keras-oriented arrays (the inverse of
        ``keras_weights``).  A wrong count or shape raises ``ValueError`` naming
        the layer, the weight and both shapes, and changes nothing."""
        entries = self._ordered_entries()
        weights = list(weights)
        if len(weights) != len(entries):
            hint = "" if self.built else " (the layer is not built yet: call it on data first)"
            raise ValueError(
                f"Layer {self.name!r} expects {len(entries)} weights "
                f"({', '.join(e[0] for e in entries) or 'none'}), but was given "
                f"{len(weights)}{hint}.")
        staged = []
        for (name, _, spec, t), w in zip(entries, weights):
            arr = torch.as_tensor(np.asarray(w))
            expected = tuple((spec.to_keras(t.detach()) if spec is not None else t).shape)
            if tuple(arr.shape) != expected:
                raise ValueError(f"Layer {self.name!r}, weight {name!r}: expected shape "
                                 f"{expected}, got {tuple(arr.shape)}.")
            arr = arr.to(dtype=t.dtype)
            if spec is not None:
                arr = spec.from_keras(arr)
            staged.append((t, arr.reshape(t.shape)))
        with torch.no_grad():
            for t, arr in staged:
                t.copy_(arr)

    def get_weights(self):
        """Alias of ``keras_weights()`` (Keras's ``layer.get_weights()``)."""
        return self.keras_weights()

    def set_weights(self, weights):
        """Alias of ``set_keras_weights()`` (Keras's ``layer.set_weights()``)."""
        self.set_keras_weights(weights)

    # ------------------------------------------------ penalties, constraints

    def _own_losses(self):
        out = []
        for spec in self._weight_specs:
            if spec.regularizer is not None:
                out.append(spec.regularizer(spec.to_keras(getattr(self, spec.attr))))
        out.extend(self._activity_losses)
        return out

    def regularization_loss(self):
        """This layer's own penalties: weight regularizers (applied to the
        Keras-oriented weights) plus the activity penalty of the last call.
        Sublayers are *not* included, so a model sums this over
        ``model.modules()``.  Returns a scalar tensor, or the float ``0.0`` when
        the layer has no regularizer (cheap to skip)."""
        losses = self._own_losses()
        if not losses:
            return 0.0
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    @property
    def losses(self):
        """Keras's ``layer.losses``: penalty tensors of this layer and its
        sublayers (weight regularizers, then activity penalties)."""
        out = self._own_losses()
        for child in self.children():
            if isinstance(child, Layer):
                out.extend(child.losses)
        return out

    def apply_constraints(self):
        """Project constrained weights back onto their constraint (call after
        each optimizer step)."""
        with torch.no_grad():
            for spec in self._weight_specs:
                if spec.constraint is not None:
                    t = getattr(self, spec.attr)
                    t.copy_(spec.from_keras(spec.constraint(spec.to_keras(t))).reshape(t.shape))
            for child in self.children():
                if isinstance(child, Layer):
                    child.apply_constraints()

    # ------------------------------------------------------------- config

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
