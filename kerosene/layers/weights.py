"""How a layer declares its weights and shows them in Keras's order and orientation.

:class:`LayerWeights` is mixed into :class:`~kerosene.layers.Layer`: ``add_weight``
creates a torch parameter (or buffer) and records a spec for it; ``keras_weights()``
lists the weights as Keras does (trainable first, Keras orientation), and
``regularization_loss``/``apply_constraints`` act on the recorded specs.

    >>> import torch
    >>> from kerosene.layers import Dense
    >>> dense = Dense(2)
    >>> _ = dense(torch.zeros(1, 3))
    >>> [tuple(w.shape) for w in dense.keras_weights()]
    [(3, 2), (2,)]
"""
from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn

from .. import initializers
from ._utils import get_constraint, get_regularizer, torch_dtype

__all__ = ["LayerWeights"]


def _identity(t):
    return t


class _WeightSpec:
    """How one weight maps between torch storage and Keras orientation."""

    __slots__ = ("name", "attr", "trainable", "to_keras", "from_keras",
                 "regularizer", "constraint", "buffer")

    def __init__(self, name, attr, trainable, to_keras, from_keras, regularizer,
                 constraint, buffer):
        self.name, self.attr, self.trainable = name, attr, trainable
        self.to_keras, self.from_keras = to_keras, from_keras
        self.regularizer, self.constraint, self.buffer = regularizer, constraint, buffer


class LayerWeights:
    """The weight bookkeeping of a layer (a mixin for ``Layer``; see the module docstring)."""

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
            if isinstance(child, LayerWeights):
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

    def _weight_losses(self):
        return [spec.regularizer(spec.to_keras(getattr(self, spec.attr)))
                for spec in self._weight_specs if spec.regularizer is not None]

    def _own_losses(self):
        out = self._weight_losses()
        out.extend(self._activity_losses)
        out.extend(self.__dict__.get("_call_losses", ()))       # Layer.add_loss
        out.extend(fn() for fn in self.__dict__.get("_loss_functions", ()))
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
            if isinstance(child, LayerWeights):
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
                if isinstance(child, LayerWeights):
                    child.apply_constraints()

    # ------------------------------------------------------------- config
