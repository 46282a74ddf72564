"""Compile settings as Keras 2's ``training_config`` JSON, and the optimizer rebuilt from it.

Example::

    config = training_config(model)   # {'optimizer_config': ..., 'loss': 'mse', 'metrics': ['mae'], ...}
    compile_from_config(model, config, custom_objects=None)
"""
from __future__ import annotations

import inspect

import torch

from .._user_warning import warn_user
from .. import losses, metrics, optimizers
from .registry import lookup_objects, registered_name

__all__ = ["training_config", "compile_from_config", "Unserialisable"]


class Unserialisable(Exception):
    """Internal: a compile argument that a config cannot name (a lambda, a bound method)."""


def _callable_name(fn, what):
    name = registered_name(fn) if inspect.isfunction(fn) else getattr(fn, "__name__", None)
    if not name or name == "<lambda>" or not isinstance(name, str):
        raise Unserialisable(f"the {what} {fn!r} is an anonymous function")
    return name


def _serialize_item(item, module, what):
    if item is None or isinstance(item, str):
        return item
    if isinstance(item, (list, tuple)):
        return [_serialize_item(i, module, what) for i in item]
    if isinstance(item, dict):
        return {str(k): _serialize_item(v, module, what) for k, v in item.items()}
    base = getattr(module, "Loss", None) or getattr(module, "Metric", None)
    if base is not None and isinstance(item, base) and hasattr(item, "get_config"):
        fn = getattr(item, "fn", None) or getattr(item, "_fn_user", None)
        if type(item).__name__ == "LossFunctionWrapper" and fn is not None:
            return _callable_name(fn, what)
        return {"class_name": registered_name(item), "config": item.get_config()}
    if callable(item):
        return _callable_name(item, what)
    raise Unserialisable(f"the {what} {item!r} has no name or config")


def _optimizer_config(optimizer):
    torch_classes = [c for c in type(optimizer).__mro__
                     if getattr(torch.optim, c.__name__, None) is c and c is not torch.optim.Optimizer]
    if torch_classes and not isinstance(optimizer, optimizers.Optimizer):   # plain torch (adapted in place)
        cls = torch_classes[0]
        group = optimizer.param_groups[0]
        hyper = {k: v for k, v in group.items() if k != "params" and isinstance(
            v, (bool, int, float, str, type(None), tuple, list))}
        return {"class_name": f"torch.optim.{cls.__name__}", "config": hyper}
    if isinstance(optimizer, optimizers.Optimizer):
        config = optimizers.serialize(optimizer)
        config["class_name"] = registered_name(optimizer)
        return config
    raise Unserialisable(f"the optimizer {type(optimizer).__name__} is neither a kerosene nor a torch.optim optimizer")


def training_config(model):
    """Keras 2's ``training_config`` dict for a compiled model, or ``None`` with a warning."""
    state = model._compile_state
    if state is None:
        return None
    try:
        return {
            "optimizer_config": _optimizer_config(state.optimizer),
            "loss": _serialize_item(state.loss_spec, losses, "loss"),
            "metrics": _serialize_item(state.metrics_spec, metrics, "metric"),
            "loss_weights": state.loss_weights if state.loss_weights is None else list(state.loss_weights),
            "weighted_metrics": _serialize_item(state.weighted_spec, metrics, "metric"),
            "sample_weight_mode": _sample_weight_mode(state),
            "jit_compile": bool(state.jit_compile),
            "precision": state.precision,
        }
    except Unserialisable as err:
        warn_user(f"Model {model.name!r} is saved without its compile settings: {err}. load_model will "
                  "return an uncompiled model; compile it again after loading.", RuntimeWarning)
        return None


def _resolve_named(spec, objects, module):
    """Turn saved names of custom functions/classes back into objects (built-in names stay names)."""
    if spec is None:
        return None
    if isinstance(spec, list):
        return [_resolve_named(s, objects, module) for s in spec]
    if isinstance(spec, dict) and "class_name" in spec:
        return module.deserialize(spec, custom_objects=objects)
    if isinstance(spec, dict):
        return {k: _resolve_named(v, objects, module) for k, v in spec.items()}
    if isinstance(spec, str) and spec in objects:
        return objects[spec]
    return spec


def _strings(spec):
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, (list, tuple)):
        return [s for item in spec for s in _strings(item)]
    if isinstance(spec, dict) and "class_name" not in spec:
        return [s for item in spec.values() for s in _strings(item)]
    return []


def make_optimizer(config, model, objects):
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if isinstance(class_name, str) and class_name.startswith("torch.optim."):
        cls = getattr(torch.optim, class_name.split(".", 2)[2], None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise ValueError(f"Unknown torch optimizer {class_name!r} in the saved training config")
        hyper = dict(config.get("config") or {})
        for key in ("betas",):
            if isinstance(hyper.get(key), list):
                hyper[key] = tuple(hyper[key])
        accepted = inspect.signature(cls.__init__).parameters
        hyper = {k: v for k, v in hyper.items() if k in accepted}
        return cls([p for p in model.parameters() if p.requires_grad], **hyper)
    return optimizers.deserialize(config, custom_objects=objects)


def _sample_weight_mode(state):
    """Keras 2's form: None, one mode for the single output, or a list of modes per output."""
    modes = list(getattr(state, "sample_weight_modes", None) or [])
    if not any(modes):
        return None
    return modes[0] if len(modes) == 1 else modes


def compile_from_config(model, config, custom_objects=None):
    """``model.compile(...)`` with the settings :func:`training_config` saved."""
    objects = lookup_objects(custom_objects)
    try:
        optimizer = make_optimizer(config["optimizer_config"], model, objects)
        loss = _resolve_named(config.get("loss"), objects, losses)
        for name in _strings(loss):
            losses.get(name, custom_objects=objects)   # an unknown name fails here, with advice
        metric_specs = _resolve_named(config.get("metrics"), objects, metrics)
        weighted_specs = _resolve_named(config.get("weighted_metrics"), objects, metrics)
    except (KeyError, ValueError, TypeError) as err:
        raise ValueError(f"Cannot restore the compile settings ({err}). Pass the custom loss, metric or "
                         "optimizer in custom_objects, or load with compile=False.") from None
    model.compile(optimizer=optimizer, loss=loss, metrics=metric_specs, loss_weights=config.get("loss_weights"),
                  weighted_metrics=weighted_specs, sample_weight_mode=config.get("sample_weight_mode"),
                  jit_compile=bool(config.get("jit_compile", False)), precision=config.get("precision"))
    return model
