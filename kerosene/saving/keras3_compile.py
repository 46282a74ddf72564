"""A Keras 3 archive's ``compile_config``, to and from kerosene's training config.

Keras 3 writes ``{"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
"run_eagerly", "steps_per_execution", "jit_compile"}`` with the optimizer, losses and
metrics in its serialized form; kerosene's training config (see
:mod:`.training_config`) holds the same settings in Keras 2's form.

Example::

    train_config = compile_from_keras3(archive_config["compile_config"])
    compile_from_config(model, train_config)
    archive_config["compile_config"] = compile_to_keras3(training_config(model))
"""
from __future__ import annotations

from .keras3_objects import UnsupportedKeras3Error, unwrap, wrap_object

__all__ = ["compile_from_keras3", "compile_to_keras3"]

# Keras 2-only optimizer arguments Keras 3 refuses, dropped when writing at these values.
_KERAS2_OPTIMIZER_ONLY = {"decay": 0.0}


def compile_from_keras3(config):
    """kerosene's training config for a Keras 3 ``compile_config`` (None when there is none)."""
    if not config:
        return None
    if not isinstance(config, dict) or "optimizer" not in config:
        raise ValueError(f"the compile_config is not a dict with an 'optimizer': {config!r:.200}")
    where = "the compile_config"
    for key, neutral in (("weighted_metrics", None), ("steps_per_execution", 1)):
        if config.get(key, neutral) not in (neutral, [], {}):
            raise UnsupportedKeras3Error(f"{where}: {key}={config[key]!r} is not supported by kerosene "
                                         f"(accepted: {neutral!r})")
    optimizer = config["optimizer"]
    optimizer = {"class_name": optimizer, "config": {}} if isinstance(optimizer, str) else unwrap(optimizer, where)
    return {"optimizer_config": optimizer, "loss": unwrap(config.get("loss"), where),
            "metrics": unwrap(config.get("metrics"), where), "loss_weights": config.get("loss_weights"),
            "jit_compile": bool(config.get("jit_compile") is True)}


def _wrap_items(spec, module):
    if isinstance(spec, list):
        return [_wrap_items(s, module) for s in spec]
    if isinstance(spec, dict) and "class_name" in spec:
        return wrap_object(spec, module)
    if isinstance(spec, dict):
        return {k: _wrap_items(v, module) for k, v in spec.items()}
    return spec


def compile_to_keras3(train_config):
    """Keras 3's ``compile_config`` for kerosene's training config (None stays None)."""
    if train_config is None:
        return None
    optimizer = dict(train_config["optimizer_config"])
    inner = dict(optimizer.get("config") or {})
    for key, value in _KERAS2_OPTIMIZER_ONLY.items():
        if inner.get(key) == value:
            inner.pop(key)
    optimizer["config"] = inner
    return {"optimizer": wrap_object(optimizer, "keras.optimizers"),
            "loss": _wrap_items(train_config.get("loss"), "keras.losses"),
            "loss_weights": train_config.get("loss_weights"),
            "metrics": _wrap_items(train_config.get("metrics"), "keras.metrics"),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": bool(train_config.get("jit_compile"))}
