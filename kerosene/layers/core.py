"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute,
RepeatVector, Lambda, InputLayer and Input."""

import torch
import torch.nn.functional as F

from .. import activations
from .._naming import input_name
from ..symbolic import KerasTensor, Node, as_keras_tensor, constant_source, is_symbolic
from ._utils import check_positive_int, normalize_data_format, prod, set_weight_options, weight_options_config
from .activity_regularization import ActivityRegularization  # noqa: F401 (Keras 2's keras.layers.core)
from .base import Layer, normalize_shape
from .dropout import Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D  # noqa: F401 (Keras 2's core)
from .masking import Masking  # noqa: F401 (Keras 2's keras.layers.core)
from .lambda_functions import described_config, resolved_config

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute",
           "RepeatVector", "Lambda", "InputLayer", "Input"]


def _transpose(t):
    return t.t()


def _is_linear(fn):
    return fn is activations.linear


class Dense(Layer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)`` on the
    last axis of inputs of any rank.

    Weights are stored as torch's ``(units, in)`` and computed with
    ``F.linear``; ``get_weights()`` gives Keras's kernel ``(in, units)``.

    >>> import torch
    >>> layer = Dense(4, activation='relu', input_shape=(3,))
    >>> layer(torch.ones(2, 3)).shape
    torch.Size([2, 4])
    >>> [w.shape for w in layer.get_weights()]
    [(3, 4), (4,)]
    """

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_positive_int(units, "units")
        set_weight_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                           bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        self._act = None if _is_linear(self.activation) else self.activation
        self.bias = None

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Layer {self.name!r}: the last dimension of the inputs to "
                             f"Dense must be defined, got input shape {input_shape}.")
        self.kernel = self._add_weight(
            "kernel", (in_dim, self.units), self.kernel_initializer, to_keras=_transpose,
            from_keras=_transpose, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self._add_weight("bias", (self.units,), self.bias_initializer,
                                         regularizer=self.bias_regularizer,
                                         constraint=self.bias_constraint)

    def call(self, inputs):
        out = F.linear(inputs, self.kernel, self.bias)
        if self._act is not None:
            out = self._act(out)
        return out

    def compute_output_shape(self, input_shape):
        return tuple(normalize_shape(input_shape)[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, **weight_options_config(self)})
        return config


class Activation(Layer):
    """Applies an activation function.

    >>> import torch
    >>> Activation('relu')(torch.tensor([[-1.0, 2.0]]))
    tensor([[0., 2.]])
    """

    supports_masking = True

    _checked_axis = None

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Flatten(Layer):
    """Flattens every axis but the batch axis.  With
    ``data_format='channels_first'`` the input is first put in channels-last
    order, so weights keep their meaning across data formats.

    >>> import torch
    >>> Flatten()(torch.zeros(2, 3, 4)).shape
    torch.Size([2, 12])
    """

    _checked_axis = None

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        if self._channels_first and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        rest = input_shape[1:]
        return (input_shape[0], None if any(s is None for s in rest) else prod(rest))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes to ``target_shape`` (batch excluded; one entry may be -1).

    >>> import torch
    >>> Reshape((3, -1))(torch.zeros(2, 12)).shape
    torch.Size([2, 3, 4])
    """

    _checked_axis = None

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, int):
            target_shape = (target_shape,)
        try:
            self.target_shape = tuple(int(s) for s in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Argument 'target_shape' must be a tuple of ints, "
                             f"got {target_shape!r}.") from None
        if sum(1 for s in self.target_shape if s == -1) > 1 or any(
                s < -1 or s == 0 for s in self.target_shape):
            raise ValueError(f"Argument 'target_shape' may hold positive ints and at most "
                             f"one -1, got {target_shape!r}.")

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        target = list(self.target_shape)
        if -1 in target:
            rest = input_shape[1:]
            if any(s is None for s in rest):
                target[target.index(-1)] = None
            else:
                known = prod(s for s in target if s != -1)
                total = prod(rest)
                if known == 0 or total % known:
                    raise ValueError(f"Layer {self.name!r}: cannot reshape input shape "
                                     f"{input_shape} to {self.target_shape}.")
                target[target.index(-1)] = total // known
        return (input_shape[0],) + tuple(target)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` is 1-indexed as in Keras.

    >>> import torch
    >>> Permute((2, 1))(torch.zeros(5, 3, 4)).shape
    torch.Size([5, 4, 3])
    """

    _checked_axis = None

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Argument 'dims' must be a permutation of 1..{len(self.dims)}, "
                             f"got {dims!r}.")

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    >>> import torch
    >>> RepeatVector(3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3, 4])
    """

    _checked_axis = None

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int(n, "n")

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``function(inputs, **arguments)``.

    ``output_shape`` (a shape without batch, or a function of the input shape)
    answers ``compute_output_shape``; otherwise the function is probed.
    ``get_config`` describes the function as Keras 2 does (a lambda or nested function as
    byte code, a module-level one by name); ``from_config`` of a config made in this process
    gives the same function back, anything else comes from ``custom_objects`` (byte code runs
    only with ``safe_mode=False``). A ``.h5`` model file holds the byte code, as Keras 2's
    does (see docs/saving.md for when that runs).

    >>> import torch
    >>> Lambda(lambda x: x * 2)(torch.ones(1, 2))
    tensor([[2., 2.]])
    """

    _checked_axis = None

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Argument 'function' of Lambda must be callable, got "
                            f"{function!r}; pass functions loaded from files through "
                            "custom_objects.")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs, mask=None):
        """Keras 2: ``mask`` given to Lambda (a function of inputs and mask, or a fixed mask); else none."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        input_shape = normalize_shape(input_shape)
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return normalize_shape(self._output_shape(input_shape))
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(normalize_shape(self._output_shape))

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        """A Lambda from :meth:`get_config`'s output (Keras 2's forms, or kerosene's by-name form);
        see :func:`~kerosene.layers.lambda_functions.resolved_config` for where functions come from."""
        return cls(**resolved_config(config, custom_objects, safe_mode))

    def get_config(self):
        """Keras 2's config: ``function``/``output_shape`` as byte code (``'lambda'``) or a name
        (``'function'``) with their modules, and ``arguments``."""
        config = super().get_config()
        config.update(described_config(self.function, self._output_shape))
        config["arguments"] = self.arguments
        return config


class InputLayer(Layer):
    """The input of a model: records the input shape; passes data through.

    ``InputLayer(input_shape=(784,))`` (or ``batch_input_shape=(None, 784)``);
    ``.input_shape`` is ``(None, 784)``.  Usually made by ``Input(shape)``.

    >>> InputLayer(input_shape=(784,)).input_shape
    (None, 784)
    """

    is_input_layer = True   # how the symbolic floor knows an input without importing layers
    __torch_function__ = KerasTensor.__torch_function__   # torch.tanh(Input(...)) records a node too

    def __init__(self, input_shape=None, batch_size=None, dtype=None, sparse=False,
                 name=None, ragged=False, batch_input_shape=None, shape=None,
                 batch_shape=None, input_tensor=None, **kwargs):
        if input_shape is None and shape is not None:
            input_shape = shape
        if batch_input_shape is None and batch_shape is not None:
            batch_input_shape = batch_shape
        if input_shape is None and batch_input_shape is None:
            raise ValueError("InputLayer needs 'input_shape' (or 'shape') or "
                             "'batch_input_shape'.")
        if name is None:
            name = input_name()
        super().__init__(name=name, dtype=dtype, input_shape=input_shape,
                         batch_size=batch_size, batch_input_shape=batch_input_shape, **kwargs)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self._on_built(self.batch_input_shape)

    @property
    def shape(self):
        """The batch-first input shape, like a Keras symbolic tensor's."""
        return self.batch_input_shape

    @property
    def input(self):
        """The layer's own symbolic tensor (it is both its input and its output)."""
        return as_keras_tensor(self)

    output = input

    @property
    def _keras_shape(self):
        return self.batch_input_shape

    @property
    def _keras_history(self):
        return as_keras_tensor(self)._keras_history

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return normalize_shape(input_shape)

    def get_config(self):
        return {"batch_input_shape": self.batch_input_shape, "dtype": self._dtype_name,
                "sparse": self.sparse, "ragged": self.ragged, "name": self.name}


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,
          ragged=None, batch_shape=None, **kwargs):
    """Declare a model input of ``shape`` (batch excluded); returns an
    ``InputLayer`` that ``Sequential`` takes as its first element.

    >>> Input(shape=(28, 28)).input_shape
    (None, 28, 28)

    ``tensor``, a symbolic tensor (``K.concatenate`` of variables and a ``K.placeholder``, as
    Keras 2's style-transfer scripts give ``VGG19(input_tensor=...)``), makes an input that
    stands for it: a model built on it takes its value as input, and ``K.function`` from
    the placeholder runs through it. A backend tensor (``K.variable``) is a fixed value the
    graph reads there (Keras 2's neural doodle masks).
    """
    if tensor is not None:
        return _input_for_tensor(tensor, name, dtype)
    if shape is None and batch_shape is None:
        raise ValueError("Input() needs 'shape' (without the batch dimension) or "
                         "'batch_shape'.")
    if isinstance(shape, int):
        shape = (shape,)
    return InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                      sparse=bool(sparse), ragged=bool(ragged), batch_input_shape=batch_shape,
                      **kwargs)


def _input_for_tensor(tensor, name, dtype):
    if isinstance(tensor, torch.Tensor):
        source = constant_source(tensor.detach(), name="input_tensor")
    elif is_symbolic(tensor):
        source = as_keras_tensor(tensor)
    else:
        raise ValueError(f"Input(tensor=...): `tensor` must be a symbolic tensor (a K.placeholder, Input() or "
                         f"an expression of them) or a backend tensor (K.variable, K.constant), got "
                         f"{type(tensor).__name__}; for data, use Input(shape=...) and feed the data to the model")
    layer = InputLayer(batch_input_shape=source.shape, dtype=dtype or source.dtype, name=name)
    out = as_keras_tensor(layer)
    out.node = Node(layer, source, {}, [out])   # InputLayer.call passes the tensor's value on
    return layer


def _as_its_tensor(name):
    def method(self, *args):
        return getattr(as_keras_tensor(self), name)(*args)
    method.__name__ = name
    return method


# Input(...) * 2, -x, x[:, 0] as on the Input's symbolic tensor (Keras 2's Input is a tensor)
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__pow__", "__neg__", "__getitem__"):
    setattr(InputLayer, _name, _as_its_tensor(_name))
