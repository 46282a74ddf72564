"""A model's ``config.json`` in a Keras 3 archive, read into a kerosene model and written from one.

Keras 3 describes Sequential and Functional models by their layers (each in Keras 3's
serialized form, see :mod:`.keras3_objects`), a Functional model's graph by
``inbound_nodes`` of ``{"args", "kwargs"}`` with ``__keras_tensor__`` references, and
any other model by its registered class and ``get_config()``. Reading translates all
of it into kerosene's (Keras 2's) config and builds the model with
:func:`~.config.model_from_config`; nothing in the file is executed, and a Lambda's
Python code is loaded only with ``safe_mode=False``.

Example::

    model = model_from_keras3(json.loads(archive_config_text), custom_objects=None)
    config = model_to_keras3(model)        # what model.save('m.keras') writes
"""
from __future__ import annotations

import base64
import importlib
import marshal
import types

import torch

from .._naming import layer_name
from .config import model_config, model_from_config
from .keras3_objects import UnsupportedKeras3Error, layer_from_keras3, layer_to_keras3, resolve_class, unwrap
from .registry import MODEL_CLASSES, lookup_objects, registered_name

__all__ = ["model_from_keras3", "model_to_keras3", "functional_layer_order", "is_functional_config"]

_FUNCTIONAL_CLASSES = ("Functional", "Model")


def is_functional_config(config):
    return config.get("class_name") in _FUNCTIONAL_CLASSES and str(config.get("module") or "").startswith("keras")


# --- reading ---------------------------------------------------------------------------
def model_from_keras3(config, custom_objects=None, safe_mode=True):
    """A kerosene model (fresh weights, built) from a Keras 3 ``config.json``."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) or not isinstance(
            config.get("config"), dict):
        raise ValueError("config.json does not describe a model: expected a dict with 'class_name' and 'config'")
    objects = lookup_objects(custom_objects)
    class_name, inner = config["class_name"], config["config"]
    registered = config.get("registered_name")
    if class_name == "Sequential" and str(config.get("module") or "") == "keras":
        specs = [_layer_spec(spec, objects, safe_mode) for spec in inner.get("layers") or []]
        kerosene = {"name": inner.get("name"), "layers": specs}
        if inner.get("build_input_shape") is not None:
            kerosene["build_input_shape"] = inner["build_input_shape"]
        return model_from_config({"class_name": "Sequential", "config": kerosene}, custom_objects=objects)
    if is_functional_config(config):
        return model_from_config({"class_name": "Functional", "config": _functional_config(inner, objects, safe_mode)},
                                 custom_objects=objects)
    name = registered if isinstance(registered, str) and registered not in _FUNCTIONAL_CLASSES else class_name
    cls = resolve_class(name, custom_objects, "model")
    model = _subclassed_from_config(cls, unwrap(inner, f"model {class_name!r}", safe_mode))
    _build_subclassed(model, (config.get("build_config") or {}).get("input_shape"))
    _build_layers(model, config.get(_LAYER_SHAPES_KEY))
    return model


# kerosene does not know a subclassed model's input shape, only each layer's: it stores those, in the order of
# model.layers, under a key of its own (Keras 3 ignores keys it does not know) and builds the layers from them.
_LAYER_SHAPES_KEY = "kerosene_layer_input_shapes"


def _layer_input_shapes(model):
    return [_plain_shape(getattr(layer, "_build_input_shape", None)) for layer in model.layers]


def _plain_shape(shape):
    return [_plain_shape(s) for s in shape] if isinstance(shape, (list, tuple)) else shape


def _build_layers(model, shapes):
    if getattr(model, "built", True) or not isinstance(shapes, list) or len(shapes) != len(model.layers):
        return
    for layer, shape in zip(model.layers, shapes):
        if isinstance(shape, list) and getattr(layer, "built", True) is False:
            layer.build([tuple(s) for s in shape] if shape and isinstance(shape[0], list) else tuple(shape))


def _subclassed_from_config(cls, config):
    """``cls.from_config(config)`` (or ``cls(**config)``, as Keras 3 does) without the base keys Keras 3's
    Model.get_config adds and kerosene's Model does not take."""
    config = dict(config)
    trainable = config.pop("trainable", True)
    dtype = config.pop("dtype", "float32")
    if dtype not in (None, "float32"):
        raise UnsupportedKeras3Error(f"model class {cls.__name__}: dtype={dtype!r} is not supported by kerosene "
                                     "for subclassed models (accepted: 'float32')")
    model = cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    if trainable is False:
        model.trainable = False
    return model


def _build_subclassed(model, shape):
    if getattr(model, "built", True) or not isinstance(shape, list) or not shape:
        return
    if not all(d is None or isinstance(d, int) for d in shape):
        raise UnsupportedKeras3Error(f"model {model.name!r}: a build input shape {shape!r} of several inputs is not "
                                     "supported for subclassed models")
    model._build_from_sample(torch.zeros(tuple(2 if d is None else d for d in shape)))


def _layer_spec(spec, objects, safe_mode):
    out = layer_from_keras3(spec, safe_mode)
    if out["class_name"] == "Lambda":
        _resolve_lambda_parts(out, spec, objects, safe_mode)
    return out


def _resolve_lambda_parts(out, spec, objects, safe_mode):
    """Keras 3 Lambda functions: a name (``custom_objects``, or its module with
    ``safe_mode=False``) or byte code (only with ``safe_mode=False``)."""
    config = out["config"]
    name = config.get("name", "?")
    raw = spec.get("config") or {}
    for key in ("function", "output_shape", "mask"):
        value = raw.get(key)
        if not isinstance(value, dict) or value.get("class_name") not in ("function", "__lambda__"):
            continue
        fn = _lambda_function(name, key, value, objects, safe_mode)
        slot = f"__keras3_lambda__{name}__{key}"
        objects[slot] = fn
        config[key] = slot
    config.pop("module", None)


def _lambda_function(layer, key, value, objects, safe_mode):
    if value["class_name"] == "function":
        fn_name, module = value.get("config"), value.get("module")
        if fn_name in objects:
            return objects[fn_name]
        if not safe_mode and isinstance(module, str) and module not in ("__main__", "builtins") and str(
                fn_name).isidentifier():
            return getattr(importlib.import_module(module), fn_name)
        raise ValueError(f"Lambda layer {layer!r}: its {key} is the Python function {fn_name!r} (module {module!r}), "
                         f"which is not loaded from files: pass custom_objects={{{fn_name!r}: function}}, or "
                         "safe_mode=False to import it from its module")
    if safe_mode:
        raise ValueError(f"Lambda layer {layer!r}: its {key} is Python byte code stored in the file; kerosene does not "
                         "run code from files in safe mode. Pass safe_mode=False only if you trust the file.")
    return _function_from_bytecode(value.get("config") or {})


def _function_from_bytecode(config):
    """Keras 3's lambda encoding: base64 of marshalled code, defaults, closure (``safe_mode=False`` only)."""
    code = marshal.loads(base64.b64decode(config["code"].encode("ascii")))
    defaults = tuple(config["defaults"]) if config.get("defaults") is not None else None
    closure = None
    if config.get("closure") is not None:
        closure = tuple(types.CellType(v) for v in config["closure"])
    return types.FunctionType(code, {"__builtins__": __builtins__}, code.co_name, defaults, closure)


def _tensor_ref(value, where):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value["config"]["keras_history"]
        return [history[0], int(history[1]), int(history[2])]
    raise UnsupportedKeras3Error(f"{where}: a layer call argument {str(value)[:120]} is not a tensor of the graph; "
                                 "kerosene supports layers called on tensors or lists of tensors")


def _node_entries(node, where):
    if isinstance(node, list):      # an older Keras 3 file, or a Keras 2 one: already [[name, i, j, kwargs]]
        return node
    args = node.get("args") or []
    kwargs = unwrap(node.get("kwargs") or {}, where)
    if len(args) != 1:
        raise UnsupportedKeras3Error(f"{where}: a layer call with {len(args)} positional arguments is not supported")
    for key, value in kwargs.items():
        if isinstance(value, (dict, list)):
            raise UnsupportedKeras3Error(f"{where}: the call argument {key}={str(value)[:80]} is not supported")
    first = args[0]
    refs = [_tensor_ref(t, where) for t in first] if isinstance(first, list) else [_tensor_ref(first, where)]
    kwargs = {k: v for k, v in kwargs.items() if k != "mask" or v is not None}
    return [ref + [kwargs] for ref in refs]


def _io_refs(value, what):
    """Keras 3 stores the inputs/outputs in their structure: one ref, a list or a dict of refs."""
    if isinstance(value, dict):
        return [value[k] for k in value], list(value), False
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value], None, True
    if isinstance(value, list) and all(isinstance(v, list) for v in value):
        return value, None, False
    raise ValueError(f"the Functional config's {what} {value!r:.100} is not a tensor structure")


def _functional_config(inner, objects, safe_mode):
    layers = []
    for spec in inner.get("layers") or []:
        out = _layer_spec(spec, objects, safe_mode)
        name = spec.get("name") or out["config"].get("name")
        if out["class_name"] == "InputLayer":
            shape = out["config"].pop("batch_shape", None)
            out["config"].setdefault("batch_input_shape", shape)
        out["name"] = name
        out["inbound_nodes"] = [_node_entries(node, f"layer {name!r}") for node in spec.get("inbound_nodes") or []]
        layers.append(out)
    inputs, input_keys, single_input = _io_refs(inner.get("input_layers"), "input_layers")
    outputs, output_keys, single_output = _io_refs(inner.get("output_layers"), "output_layers")
    return {"name": inner.get("name"), "layers": layers, "input_layers": inputs, "output_layers": outputs,
            "input_keys": input_keys, "output_keys": output_keys, "single_input": single_input,
            "single_output": single_output}


# --- writing ---------------------------------------------------------------------------
def model_to_keras3(model):
    """Keras 3's ``config.json`` dict for ``model`` (no compile config; see keras3_compile)."""
    if isinstance(model, MODEL_CLASSES["Sequential"]):
        base = model_config(model)
        inner = base["config"]
        specs = []
        for spec, layer in zip(inner["layers"][-len(model.layers):] if model.layers else [], model.layers):
            specs.append(_lambda_to_keras3(spec, layer) if spec["class_name"] == "Lambda" else
                         layer_to_keras3(spec, getattr(layer, "input_shape", None)))
        if inner["layers"] and inner["layers"][0]["class_name"] == "InputLayer":
            specs.insert(0, layer_to_keras3(inner["layers"][0]))
        config = {"name": model.name, "trainable": True, "dtype": "float32", "layers": specs}
        if "build_input_shape" in inner:
            config["build_input_shape"] = inner["build_input_shape"]
        out = _wrap_model(model, "keras", config)
        if model.input_shape is not None:
            out["build_config"] = {"input_shape": list(model.input_shape)}
        return out
    if _is_functional(model):
        return _wrap_model(model, "keras.src.models.functional", _functional_to_keras3(model))
    out = _wrap_model(model, type(model).__module__, model_config(model)["config"])
    out[_LAYER_SHAPES_KEY] = _layer_input_shapes(model)
    return out


def _wrap_model(model, module, config):
    name = registered_name(model)
    plain = type(model) is MODEL_CLASSES["Sequential"] or _is_functional(model) and type(model).__name__ == "Functional"
    return {"module": module if plain else None, "class_name": type(model).__name__, "config": config,
            "registered_name": "Functional" if _is_functional(model) and plain else (None if plain else name)}


def _is_functional(model):
    return hasattr(model, "_nodes") and hasattr(model, "_inputs") and hasattr(model, "_outputs")


def functional_layer_order(model):
    """The layers of a functional model in Keras 3's order (deepest first, ties by first visit from
    the outputs): the order of its config and of its weights file."""
    input_ids = {id(t) for t in model._inputs}
    visit_index, finished, order_nodes = {}, set(), []

    def visit(tensor):
        node = tensor.node
        if id(node) in finished:
            return
        visit_index.setdefault(id(node.layer), len(visit_index))
        if id(tensor) not in input_ids:
            for parent in node.flat_inputs():
                visit(parent)
        finished.add(id(node))
        order_nodes.append(node)

    for t in model._outputs:
        visit(t)
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(order_nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        if node.inputs is not None and not _is_input_node(node):
            for parent in node.flat_inputs():
                node_depth[id(parent.node)] = max(depth + 1, node_depth.get(id(parent.node), 0))
    ordered = sorted(layers.values(), key=lambda l: (-layer_depth[id(l)], visit_index[id(l)]))
    names = [layer_name(l) for l in ordered]
    missing = [l for l in model.layers if layer_name(l) not in names]
    return ordered + missing


def _is_input_node(node):
    return not node.flat_inputs() or type(node.layer).__name__ == "InputLayer"


def _functional_to_keras3(model):
    legacy = {spec["name"]: spec for spec in model.get_config()["layers"]}
    node_index = {}
    for layer in model.layers:
        for i, node in enumerate(n for n in model._nodes if n.layer is layer):
            node_index[id(node)] = i
    for t in model._inputs:
        node_index[id(t.node)] = 0

    def tensor(t):
        return {"class_name": "__keras_tensor__", "config": {
            "shape": list(t.shape), "dtype": t.dtype,
            "keras_history": [layer_name(t.node.layer), node_index[id(t.node)], t.index]}}

    layers = []
    for layer in functional_layer_order(model):
        name = layer_name(layer)
        spec = legacy[name]
        plain = {"class_name": spec["class_name"], "config": spec["config"]}
        if plain["class_name"] == "Lambda":
            out = _lambda_to_keras3(plain, layer)
        else:
            out = layer_to_keras3(plain, getattr(layer, "input_shape", None) if plain["class_name"] != "InputLayer"
                                  else None)
        out["name"] = name
        out["inbound_nodes"] = []
        for node in (n for n in model._nodes if n.layer is layer):
            arg = [tensor(t) for t in node.inputs] if isinstance(node.inputs, (list, tuple)) else tensor(node.inputs)
            out["inbound_nodes"].append({"args": [arg], "kwargs": dict(node.kwargs)})
        layers.append(out)

    def refs(tensors, keys, single):
        items = [tensor(t)["config"]["keras_history"] for t in tensors]
        if single:
            return items[0]
        return dict(zip(keys, items)) if keys else items

    return {"name": model.name, "trainable": True, "layers": layers,
            "input_layers": refs(model._inputs, model._input_keys, model._single_input),
            "output_layers": refs(model._outputs, model._output_keys, model._single_output)}


def _lambda_to_keras3(spec, layer):
    config = dict(spec["config"])
    module = config.pop("module", None)
    for key in ("function_type", "output_shape_type", "output_shape_module"):
        config.pop(key, None)
    # A .keras archive names the function (custom_objects gives it back); a callable output_shape is left out.
    config["function"] = {"module": module, "class_name": "function",
                          "config": getattr(layer.function, "__name__", repr(layer.function)),
                          "registered_name": "function"}
    if callable(layer._output_shape):
        config["output_shape"] = None
    return {"module": "keras.layers", "class_name": "Lambda", "config": config, "registered_name": None}

