"""One layer's config between Keras 3's serialized form and kerosene's (Keras 2's).

Keras 3 wraps every object in a config as ``{"module", "class_name", "config",
"registered_name"}`` (initializers, regularizers, dtype policies, functions, tuples)
and adds arguments Keras 2 lacks. Reading, the wrappers are unwrapped and each
Keras-3-only argument is accepted only at its neutral value (where it changes
nothing); any other value is a clear error naming the layer, the argument and the
value, so a file never loads as a silently different model. Writing adds the
wrappers back and drops Keras 2 arguments Keras 3 refuses.

Example::

    spec = layer_from_keras3({"module": "keras.layers", "class_name": "Dense",
                              "config": {"units": 3, "quantization_config": None}})
    spec                                   # {'class_name': 'Dense', 'config': {'units': 3}}
    layer_to_keras3(spec)["module"]        # 'keras.layers'
"""
from __future__ import annotations

from .registry import lookup_objects

__all__ = ["layer_from_keras3", "layer_to_keras3", "unwrap", "wrap_object", "UnsupportedKeras3Error",
           "NESTED_LAYER_KEYS", "resolve_class"]

_ANY = object()   # an argument whose value never changes the computation here

# Keras-3-only arguments kerosene drops when they hold the neutral value given here.
_NEUTRAL = {
    "InputLayer": {"optional": False},
    "Dense": {"quantization_config": None, "lora_rank": None, "lora_alpha": None},
    "Embedding": {"quantization_config": None, "lora_rank": None, "lora_alpha": None},
    "BatchNormalization": {"renorm_clipping": None},
    "ZeroPadding1D": {"data_format": "channels_last"},   # Keras 2's ZeroPadding1D has none
}
# Keras 3 initializer arguments kerosene's initializers do not take, at their neutral value.
_INITIALIZER_NEUTRAL = {"input_axes": None, "output_axes": None}
# Layer arguments that hold a nested layer (Bidirectional, TimeDistributed).
NESTED_LAYER_KEYS = ("layer", "backward_layer")
# Keras 2 arguments that Keras 3's constructors refuse, dropped when writing at these values.
_KERAS2_ONLY = {"SpatialDropout1D": {"trainable": True}, "SpatialDropout2D": {"trainable": True},
                "SpatialDropout3D": {"trainable": True}}
# Keras 2 argument names Keras 3 renamed (it still takes the old name, with a deprecation warning).
_KERAS3_NAMES = {"LeakyReLU": {"alpha": "negative_slope"}}
_OBJECT_MODULES = (("initializer", "keras.initializers"), ("regularizer", "keras.regularizers"),
                   ("constraint", "keras.constraints"))


class UnsupportedKeras3Error(ValueError):
    """A Keras 3 file asks for a layer, argument or object kerosene does not implement.

    Example::

        try:
            kerosene.models.load_model('m.keras')
        except UnsupportedKeras3Error as err:
            print(err)     # names the layer and the argument
    """


def _is_wrapped(value):
    return isinstance(value, dict) and "class_name" in value and "config" in value and (
        "module" in value or "registered_name" in value)


def unwrap(value, where, safe_mode=True):
    """A Keras 3 config value with its object wrappers removed (Keras 2's form).

    Functions become their names (resolved later from ``custom_objects`` or the
    registry); tuples become tuples; a Keras 3 lambda's byte code stays a wrapper,
    for the Lambda layer alone to refuse or (``safe_mode=False``) to load.
    """
    if isinstance(value, list):
        return [unwrap(v, where, safe_mode) for v in value]
    if not isinstance(value, dict):
        return value
    if not _is_wrapped(value):
        return {k: unwrap(v, where, safe_mode) for k, v in value.items() if k != "shared_object_id"}
    class_name, inner = value["class_name"], value["config"]
    if class_name in ("DTypePolicy", "FloatDTypePolicy"):
        return inner.get("name", "float32") if isinstance(inner, dict) else "float32"
    if class_name == "__tuple__":
        return tuple(unwrap(v, where, safe_mode) for v in inner.get("value", []))
    if class_name == "function":
        return inner
    if class_name == "__lambda__":
        return value
    if class_name.startswith("__"):
        raise UnsupportedKeras3Error(f"{where}: a config value of Keras 3 type {class_name!r} is not supported "
                                     "by kerosene")
    registered = value.get("registered_name")
    name = registered if isinstance(registered, str) and ">" in registered else class_name
    config = unwrap(inner, where, safe_mode) if isinstance(inner, dict) else inner
    if isinstance(config, dict) and str(value.get("module") or "").endswith("initializers"):
        config = _drop_neutral(config, _INITIALIZER_NEUTRAL, f"{where}, initializer {class_name!r}")
    return {"class_name": name, "config": config}


def _drop_neutral(config, neutral, where):
    out = dict(config)
    for key, expected in neutral.items():
        if key not in out:
            continue
        value = out.pop(key)
        if expected is not _ANY and value != expected:
            raise UnsupportedKeras3Error(
                f"{where}: argument {key!r}={value!r} is not supported by kerosene (accepted: {expected!r})")
    return out


def layer_from_keras3(spec, safe_mode=True):
    """``{"class_name", "config"}`` (kerosene's form) for one Keras 3 layer spec."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ValueError(f"A layer in the Keras 3 config is not a dict with 'class_name': {spec!r:.200}")
    class_name = spec["class_name"]
    inner = spec.get("config") or {}
    name = inner.get("name", "?") if isinstance(inner, dict) else "?"
    where = f"layer {name!r} ({class_name})"
    config = unwrap(inner, where, safe_mode)
    config = _drop_neutral(config, _NEUTRAL.get(class_name, {}), where)
    if class_name == "BatchNormalization" and not config.get("renorm", False):
        config.pop("renorm_momentum", None)   # only read when renorm is on
    for key in NESTED_LAYER_KEYS:
        if _is_wrapped(inner.get(key) if isinstance(inner, dict) else None):
            config[key] = layer_from_keras3(inner[key], safe_mode)
    registered = spec.get("registered_name")
    out_name = registered if isinstance(registered, str) and ">" in registered else class_name
    return {"class_name": out_name, "config": config}


def wrap_object(value, module):
    """Keras 3's wrapper around a Keras 2 ``{"class_name", "config"}`` object."""
    class_name = value["class_name"]
    package, _, short = class_name.rpartition(">")
    return {"module": module if not package else None, "class_name": short,
            "config": value.get("config") or {}, "registered_name": class_name if package else None}


def _module_for(key):
    for suffix, module in _OBJECT_MODULES:
        if key.endswith(suffix):
            return module
    return None


def layer_to_keras3(spec, build_shape=None):
    """Keras 3's serialized form of a kerosene layer spec (``layer_config``'s output)."""
    class_name = spec["class_name"]
    config = dict(spec.get("config") or {})
    if class_name == "InputLayer":
        config["batch_shape"] = config.pop("batch_input_shape", None)
    else:
        config.pop("batch_input_shape", None)
    for key, value in _KERAS2_ONLY.get(class_name.rpartition(">")[2], {}).items():
        if config.get(key) == value:
            config.pop(key)
    for old, new in _KERAS3_NAMES.get(class_name.rpartition(">")[2], {}).items():
        if old in config:
            config[new] = config.pop(old)
    for key, value in list(config.items()):
        module = _module_for(key)
        if module is not None and isinstance(value, dict) and "class_name" in value:
            config[key] = wrap_object(value, module)
        elif key in NESTED_LAYER_KEYS and isinstance(value, dict) and "class_name" in value:
            config[key] = layer_to_keras3(value)
    out = wrap_object({"class_name": class_name, "config": config}, "keras.layers")
    if build_shape is not None and class_name != "InputLayer":
        out["build_config"] = {"input_shape": _listed(build_shape)}
    return out


def _listed(shape):
    if isinstance(shape, (list, tuple)):
        return [_listed(s) for s in shape]
    return shape


def resolve_class(class_name, custom_objects, what):
    """The class a Keras 3 config names, from ``custom_objects`` (first) or the registry, and nowhere else."""
    short = class_name.split(">", 1)[-1]
    custom = custom_objects or {}
    cls = custom.get(class_name, custom.get(short))   # custom_objects take precedence over the registry
    if cls is None:
        objects = lookup_objects(None)
        cls = objects.get(class_name, objects.get(short))
    if cls is None:
        raise UnsupportedKeras3Error(
            f"Unknown {what} class {class_name!r} in the Keras 3 config: register it with "
            "@kerosene.saving.register_serializable or pass it in custom_objects")
    return cls
