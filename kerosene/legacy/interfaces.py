"""Keras 1 argument names, accepted with a warning as Keras 2.2.4 does.

One table, ``LAYER_SPECS``, says for each layer class (by its ``__name__``)
which Keras 1 keyword arguments it renames, which of their values it converts
and which special rewrite it needs (``Conv2D(5, 3, 3)``'s kernel dimensions,
``LSTM(input_dim=...)``, ``ZeroPadding2D(padding={...})``...).  ``Layer``'s
``__init_subclass__`` calls :func:`wrap_init` for every kerosene class the
table names, so each layer file stays as it is.  Methods (``fit_generator``,
``Model(input=, output=)``) can use :func:`legacy_support` with a spec of
``METHOD_SPECS``.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter('always')
    ...     args, kwargs = convert("Dense", LAYER_SPECS["Dense"], (), {"output_dim": 3, "bias": False})
    >>> kwargs
    {'units': 3, 'use_bias': False}
    >>> print(caught[0].message)
    Update your `Dense` call to the Keras 2 API: `Dense(units=3, use_bias=False)`

This module imports nothing from kerosene: it sits on the bottom floor.
"""

import functools
import warnings

__all__ = ["Spec", "LAYER_SPECS", "METHOD_SPECS", "convert", "wrap_init", "legacy_support",
           "call_signature"]

_DIM_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": None}
_CONSUME_LESS = {"cpu": 0, "mem": 1, "gpu": 2}
_PAD_KEYS = ("top_pad", "bottom_pad", "left_pad", "right_pad")


class Spec:
    """How one class's Keras 1 arguments become Keras 2 ones.

    ``renames``: ``(old, new)`` keyword pairs; ``values``: for an old name, the
    Keras 1 values it accepts mapped to Keras 2 ones (any other value is a
    ``ValueError``); ``rewrites``: functions ``f(name, args, kwargs, converted)
    -> (args, kwargs)`` run first, for what a plain rename cannot say.

        >>> Spec(renames=[("p", "rate")]).renames
        (('p', 'rate'),)
    """

    def __init__(self, renames=(), values=None, rewrites=()):
        self.renames = tuple(tuple(pair) for pair in renames)
        self.values = dict(values or {})
        self.rewrites = tuple(rewrites)


def _show(value):
    if isinstance(value, str):
        return '"' + value + '"'
    text = "array" if type(value).__name__ == "ndarray" else str(value)
    return text if len(text) <= 10 else text[:10] + "..."


def call_signature(name, args, kwargs):
    """The Keras 2 call as the warning shows it: ``Dense(units=3, use_bias=False)``."""
    parts = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _both_names(name, old, new, kwargs_old, kwargs_new):
    return TypeError(f"`{name}` received both the Keras 1 argument `{old}` (value {kwargs_old!r}) and "
                     f"its Keras 2 name `{new}` (value {kwargs_new!r}); pass only `{new}`.")


def convert(name, spec, args, kwargs):
    """``(args, kwargs)`` of a call to ``name`` with Keras 1 arguments in Keras 2 form.

    Warns ``Update your `name` call to the Keras 2 API: `...``` when anything
    changed; raises ``TypeError`` when an argument comes under both its names,
    ``ValueError`` for a Keras 1 value that has no Keras 2 meaning.
    """
    args, kwargs, converted = tuple(args), dict(kwargs), []
    for rewrite in spec.rewrites:
        args, kwargs = rewrite(name, args, kwargs, converted)
    for old, new in spec.renames:
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        if new in kwargs:
            raise _both_names(name, old, new, value, kwargs[new])
        if old in spec.values:
            table = spec.values[old]
            if not isinstance(value, (str, int)) or value not in table:
                raise ValueError(f"`{name}`: argument `{old}` must be one of {sorted(table)}, got {value!r}.")
            value = table[value]
        kwargs[new] = value
        converted.append(old)
    if converted:
        warnings.warn(f"Update your `{name}` call to the Keras 2 API: `{call_signature(name, args, kwargs)}`",
                      UserWarning, stacklevel=3)
    return args, kwargs


# ---------------------------------------------------------------- rewrites

def _kernel_dims(dim_names):
    """A rewrite joining Keras 1's per-axis kernel sizes into ``kernel_size``.

    The dimensions may come positionally after ``filters`` (``Conv2D(5, 3, 3)``),
    by keyword (``nb_row=3, nb_col=3``) or both (``Conv2D(5, 3, nb_col=3)``).
    ``Conv2D(5, 3)`` and ``Conv3D(5, 3, 3)`` are Keras 2 (kernel_size=3, then
    strides=3) and are left alone.
    """
    rank = len(dim_names)

    def rewrite(name, args, kwargs, converted):
        after_filters = list(args[1:])
        given = []
        while len(given) < rank and len(given) < len(after_filters) and \
                isinstance(after_filters[len(given)], int) and not isinstance(after_filters[len(given)], bool):
            given.append(after_filters[len(given)])
        by_keyword = [d for d in dim_names[len(given):] if d in kwargs]
        if len(given) < rank and not by_keyword:
            return args, kwargs
        if len(given) + len(by_keyword) != rank or by_keyword != list(dim_names[len(given):]):
            missing = [d for d in dim_names[len(given):] if d not in kwargs]
            raise TypeError(f"`{name}`: Keras 1 kernel dimensions {list(dim_names)} are incomplete "
                            f"(missing {missing}); or pass Keras 2's `kernel_size`.")
        if not by_keyword:
            clash = [k for k in ("padding", "strides", "data_format") if k in kwargs]
            if clash:
                raise ValueError(f"`{name}{tuple(args)}`: the integers after `filters` read as Keras 1's "
                                 f"{list(dim_names)}, but Keras 2 arguments {clash} are given too; pass "
                                 "`kernel_size` (and `strides`) by keyword.")
        if "kernel_size" in kwargs:
            raise _both_names(name, "/".join(dim_names), "kernel_size",
                              tuple(given) + tuple(kwargs[d] for d in by_keyword), kwargs["kernel_size"])
        kernel = tuple(given) + tuple(kwargs.pop(d) for d in by_keyword)
        if args:
            args = (args[0], kernel) + tuple(after_filters[len(given):])
        else:
            kwargs["kernel_size"] = kernel
        converted.append("/".join(dim_names))
        return args, kwargs
    return rewrite


def _input_dim_to_shape(name, args, kwargs, converted):
    """Keras 1 sequence layers: ``input_dim``/``input_length`` mean ``input_shape=(length, dim)``."""
    if "input_dim" in kwargs:
        if "input_shape" in kwargs:
            raise _both_names(name, "input_dim", "input_shape", kwargs["input_dim"], kwargs["input_shape"])
        kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim"))
        converted.append("input_dim")
    return args, kwargs


def _forget_bias_init(name, args, kwargs, converted):
    """``forget_bias_init='one'`` is ``unit_forget_bias=True``; any other value is dropped, with a warning."""
    if "forget_bias_init" in kwargs:
        value = kwargs.pop("forget_bias_init")
        if value in ("one", "ones"):
            kwargs["unit_forget_bias"] = True
            converted.append("forget_bias_init")
        else:
            warnings.warn(f"`{name}`: the Keras 1 argument `forget_bias_init={value!r}` is ignored; "
                          "use `unit_forget_bias=True` to start the forget gate's bias at one.",
                          UserWarning, stacklevel=4)
    return args, kwargs


def _embedding_dropout(name, args, kwargs, converted):
    if "dropout" in kwargs:
        kwargs.pop("dropout")
        warnings.warn(f"`{name}` no longer takes `dropout`: put a `SpatialDropout1D` layer right after it "
                      "for the same effect.", UserWarning, stacklevel=4)
    return args, kwargs


def _batchnorm_mode(name, args, kwargs, converted):
    if "mode" in kwargs:
        mode = kwargs.pop("mode")
        if mode != 0:
            raise TypeError(f"`{name}`: Keras 1's `mode={mode!r}` has no Keras 2 form; only `mode=0` "
                            "(the default behaviour) is accepted.")
        converted.append("mode")
    return args, kwargs


def _separable_init(name, args, kwargs, converted):
    if "init" in kwargs:
        for new in ("depthwise_initializer", "pointwise_initializer"):
            if new in kwargs:
                raise _both_names(name, "init", new, kwargs["init"], kwargs[new])
        kwargs["depthwise_initializer"] = kwargs["pointwise_initializer"] = kwargs.pop("init")
        converted.append("init")
    return args, kwargs


def _deconv_output_shape(name, args, kwargs, converted):
    """Keras 1's ``Deconvolution2D(..., output_shape)``: Keras 2 computes the shape itself."""
    if len(args) == 4 and isinstance(args[3], tuple) and all(isinstance(a, int) for a in args[1:3]):
        args = args[:3]
        converted.append("output_shape")
    if "output_shape" in kwargs:
        kwargs.pop("output_shape")
        converted.append("output_shape")
    return args, kwargs


def _padding_dict(name, args, kwargs, converted):
    """``ZeroPadding2D(padding={'top_pad': 1, ...})`` is ``((top, bottom), (left, right))``."""
    positional = len(args) >= 1 and isinstance(args[0], dict)
    value = args[0] if positional else kwargs.get("padding")
    if not isinstance(value, dict):
        return args, kwargs
    unknown = sorted(set(value) - set(_PAD_KEYS))
    if unknown:
        raise ValueError(f"`{name}`: a `padding` dict takes only the keys {list(_PAD_KEYS)}, got {unknown}.")
    top, bottom, left, right = (value.get(key, 0) for key in _PAD_KEYS)
    padding = ((top, bottom), (left, right))
    if positional:
        args = (padding,) + tuple(args[1:])
    else:
        kwargs["padding"] = padding
    warnings.warn(f"`{name}`: `padding` no longer takes a dict; pass `padding={padding}` instead.",
                  UserWarning, stacklevel=4)
    return args, kwargs


# ---------------------------------------------------------------- the table

_WEIGHTS = [("init", "kernel_initializer"), ("W_regularizer", "kernel_regularizer"),
            ("b_regularizer", "bias_regularizer"), ("W_constraint", "kernel_constraint"),
            ("b_constraint", "bias_constraint"), ("bias", "use_bias")]
_DATA_FORMAT = [("dim_ordering", "data_format")]
_DATA_FORMAT_VALUES = {"dim_ordering": _DIM_ORDERING}
_CONV = [("nb_filter", "filters"), ("subsample", "strides"), ("border_mode", "padding")] + _DATA_FORMAT
_RECURRENT = [("output_dim", "units"), ("init", "kernel_initializer"),
              ("inner_init", "recurrent_initializer"), ("inner_activation", "recurrent_activation"),
              ("W_regularizer", "kernel_regularizer"), ("b_regularizer", "bias_regularizer"),
              ("U_regularizer", "recurrent_regularizer"), ("dropout_W", "dropout"),
              ("dropout_U", "recurrent_dropout"), ("consume_less", "implementation")]

_POOL_1D = Spec([("pool_length", "pool_size"), ("stride", "strides"), ("border_mode", "padding")])
_POOL_ND = Spec([("border_mode", "padding")] + _DATA_FORMAT, _DATA_FORMAT_VALUES)
_DATA_FORMAT_ONLY = Spec(_DATA_FORMAT, _DATA_FORMAT_VALUES)
_DROPOUT = Spec([("p", "rate")])
_DROPOUT_ND = Spec([("p", "rate")] + _DATA_FORMAT, _DATA_FORMAT_VALUES)
_RNN = Spec(_RECURRENT, {"consume_less": _CONSUME_LESS}, [_forget_bias_init, _input_dim_to_shape])
_CONV_1D = Spec([("nb_filter", "filters"), ("filter_length", "kernel_size"),
                 ("subsample_length", "strides"), ("border_mode", "padding")] + _WEIGHTS,
                rewrites=[_input_dim_to_shape])
_CONV_2D = Spec(_CONV + _WEIGHTS, _DATA_FORMAT_VALUES, [_kernel_dims(("nb_row", "nb_col"))])

LAYER_SPECS = {
    "Dense": Spec([("output_dim", "units")] + _WEIGHTS),
    "Dropout": _DROPOUT,
    "SpatialDropout1D": _DROPOUT,
    "SpatialDropout2D": _DROPOUT_ND,
    "SpatialDropout3D": _DROPOUT_ND,
    "GaussianDropout": _DROPOUT,
    "GaussianNoise": Spec([("sigma", "stddev")]),
    "Embedding": Spec([("init", "embeddings_initializer"), ("W_regularizer", "embeddings_regularizer"),
                       ("W_constraint", "embeddings_constraint")], rewrites=[_embedding_dropout]),
    "PReLU": Spec([("init", "alpha_initializer")]),
    "BatchNormalization": Spec([("beta_init", "beta_initializer"), ("gamma_init", "gamma_initializer")],
                               rewrites=[_batchnorm_mode]),
    "InputLayer": Spec([("input_dtype", "dtype")]),
    "MaxPooling1D": _POOL_1D,
    "AveragePooling1D": _POOL_1D,
    "MaxPooling2D": _POOL_ND,
    "AveragePooling2D": _POOL_ND,
    "MaxPooling3D": _POOL_ND,
    "AveragePooling3D": _POOL_ND,
    "GlobalMaxPooling2D": _DATA_FORMAT_ONLY,
    "GlobalAveragePooling2D": _DATA_FORMAT_ONLY,
    "GlobalMaxPooling3D": _DATA_FORMAT_ONLY,
    "GlobalAveragePooling3D": _DATA_FORMAT_ONLY,
    "UpSampling1D": Spec([("length", "size")]),
    "UpSampling2D": _DATA_FORMAT_ONLY,
    "UpSampling3D": _DATA_FORMAT_ONLY,
    "ZeroPadding2D": Spec(_DATA_FORMAT, _DATA_FORMAT_VALUES, [_padding_dict]),
    "ZeroPadding3D": _DATA_FORMAT_ONLY,
    "Cropping2D": _DATA_FORMAT_ONLY,
    "Cropping3D": _DATA_FORMAT_ONLY,
    "SimpleRNN": _RNN,
    "GRU": _RNN,
    "LSTM": _RNN,
    "Conv1D": _CONV_1D,
    "LocallyConnected1D": _CONV_1D,
    "Conv2D": _CONV_2D,
    "LocallyConnected2D": _CONV_2D,
    "Conv2DTranspose": Spec(_CONV + _WEIGHTS, _DATA_FORMAT_VALUES,
                            [_deconv_output_shape, _kernel_dims(("nb_row", "nb_col"))]),
    "SeparableConv2D": Spec(_CONV + [("b_regularizer", "bias_regularizer"), ("b_constraint", "bias_constraint"),
                                     ("bias", "use_bias")], _DATA_FORMAT_VALUES,
                            [_separable_init, _kernel_dims(("nb_row", "nb_col"))]),
    "Conv3D": Spec(_CONV + _WEIGHTS, _DATA_FORMAT_VALUES,
                   [_kernel_dims(("kernel_dim1", "kernel_dim2", "kernel_dim3"))]),
    "ConvLSTM2D": Spec(_CONV + [("init", "kernel_initializer"), ("inner_init", "recurrent_initializer"),
                                ("W_regularizer", "kernel_regularizer"), ("U_regularizer", "recurrent_regularizer"),
                                ("b_regularizer", "bias_regularizer"), ("inner_activation", "recurrent_activation"),
                                ("dropout_W", "dropout"), ("dropout_U", "recurrent_dropout"), ("bias", "use_bias")],
                       _DATA_FORMAT_VALUES, [_forget_bias_init, _kernel_dims(("nb_row", "nb_col"))]),
}


def _samples_to_steps(name, args, kwargs, converted):
    """Keras 1 counted samples; Keras 2 counts batches (``samples // generator.batch_size`` when known)."""
    if "samples_per_epoch" in kwargs and "steps_per_epoch" not in kwargs and len(args) < 2:
        generator = args[0] if args else kwargs.get("generator")
        samples = kwargs.pop("samples_per_epoch")
        batch_size = getattr(generator, "batch_size", None)
        kwargs["steps_per_epoch"] = samples // batch_size if isinstance(batch_size, int) and batch_size else samples
        converted.append("samples_per_epoch")
    if {"samples_per_epoch", "val_samples", "nb_val_samples"} & set(kwargs):
        warnings.warn("Keras 2 counts batches, not samples: `steps_per_epoch`, `validation_steps` and `steps` "
                      "are numbers of batches drawn from the generator (samples / batch_size).",
                      UserWarning, stacklevel=4)
    return args, kwargs


def _shape_first(name, args, kwargs, converted):
    """Keras 1's ``add_weight(shape, ...)``: a leading tuple/list is ``shape``, and a string
    after it ``name`` (Keras 2.2.4's reading; no warning, as there)."""
    if args and isinstance(args[0], (tuple, list)):
        kwargs["shape"] = tuple(args[0])
        args = args[1:]
        if args and isinstance(args[0], str):
            kwargs["name"] = args[0]
            args = args[1:]
    return args, kwargs


_GENERATOR = [("samples_per_epoch", "steps_per_epoch"), ("val_samples", "steps"), ("nb_epoch", "epochs"),
              ("nb_val_samples", "validation_steps"), ("nb_worker", "workers"),
              ("pickle_safe", "use_multiprocessing"), ("max_q_size", "max_queue_size")]

# For methods and functions outside kerosene.layers (the engine and models decorate them).
METHOD_SPECS = {
    "fit_generator": Spec(_GENERATOR, rewrites=[_samples_to_steps]),
    "evaluate_generator": Spec(_GENERATOR, rewrites=[_samples_to_steps]),
    "predict_generator": Spec(_GENERATOR, rewrites=[_samples_to_steps]),
    "add_weight": Spec(rewrites=[_shape_first]),
    "Model": Spec([("input", "inputs"), ("output", "outputs")]),
    "Input": Spec([("input_dtype", "dtype")]),
}


# ---------------------------------------------------------------- hooks

def _legacy_owner(cls):
    """The first class in ``cls``'s MRO that :func:`wrap_init` wrapped (its table entry applies)."""
    for klass in cls.__mro__:
        if klass.__dict__.get("_kerosene_legacy_spec") is not None:
            return klass
    return None


def wrap_init(cls):
    """Make ``cls.__init__`` accept the Keras 1 arguments ``LAYER_SPECS[cls.__name__]`` names.

    Only kerosene's own classes are wrapped; a user's subclass inherits the
    conversion of the kerosene class it extends.  When a wrapped class calls a
    wrapped parent's ``__init__``, only the outermost one converts.
    """
    spec = LAYER_SPECS.get(cls.__name__)
    if spec is None or not cls.__module__.startswith("kerosene.") or "_kerosene_legacy_spec" in cls.__dict__:
        return cls
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        if _legacy_owner(type(self)) is cls:
            args, kwargs = convert(type(self).__name__, spec, args, kwargs)
        init(self, *args, **kwargs)

    cls._kerosene_legacy_spec = spec
    cls.__init__ = __init__
    return cls


def legacy_support(spec_name, method=True):
    """Decorator converting the Keras 1 keywords of a method (``method=False``: a function)
    that ``METHOD_SPECS[spec_name]`` describes; the warning names ``spec_name``."""
    spec = METHOD_SPECS[spec_name]

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            head, rest = (args[:1], args[1:]) if method else ((), args)
            rest, kwargs = convert(spec_name, spec, rest, kwargs)
            return func(*head, *rest, **kwargs)
        return wrapper
    return decorate
