"""What a ``.keras`` archive holds, for ``kerosene inspect``: the same report as for an HDF5 file.

The archive is opened with the same checks as :func:`~.keras_model_io.load_keras_model`
(a damaged or foreign zip is an error naming it) but no model is built: the layers
come from ``config.json`` and their weight shapes from ``model.weights.h5``.

Example::

    report = inspect_keras('m.keras')
    report['model_class'], [layer['name'] for layer in report['layers']]
"""
from __future__ import annotations

import math
import os

from .._naming import to_snake_case
from .keras3_compile import compile_from_keras3
from .keras3_config import is_functional_config
from .keras_archive import read_archive

__all__ = ["inspect_keras"]


def _weights_under(h5, path):
    """``[{"name", "shape"}]`` of every variable below ``path`` (own ``vars`` first, then sub-objects)."""
    import h5py
    if path not in h5:
        return []
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name.rsplit("/", 2)[-2] == "vars":
            prefix = name.rsplit("/", 2)[0] if name.count("/") >= 2 else ""
            # nested objects (a cell, a Bidirectional's two layers) are named with dots: '/' separates layers
            found.append({"name": (prefix.replace("/", ".") + "." if prefix else "") + name.rsplit("/", 1)[-1],
                          "shape": tuple(obj.shape)})

    h5[path].visititems(visit)
    def order(weight):   # own variables first; a Bidirectional's forward layer before its backward one
        prefix = weight["name"].rsplit(".", 1)[0] if "." in weight["name"] else ""
        return weight["name"].count("."), prefix.startswith("backward"), prefix, int(weight["name"].rsplit(".")[-1])

    found.sort(key=order)
    return found


def _config_layers(config):
    inner = config.get("config") or {}
    specs = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(specs, list):
        return None
    sequential = config.get("class_name") == "Sequential"
    counts, out = {}, []
    for spec in specs:
        if not isinstance(spec, dict) or (sequential and spec.get("class_name") == "InputLayer"):
            continue
        base = to_snake_case(str(spec.get("class_name")))
        n = counts.get(base, -1) + 1
        counts[base] = n
        out.append((f"layers/{base}" if n == 0 else f"layers/{base}_{n}", spec))
    return out


def _input_shape(config):
    for spec in (config.get("config") or {}).get("layers") or []:
        shape = (spec.get("config") or {}).get("batch_shape") if isinstance(spec, dict) else None
        if spec.get("class_name") == "InputLayer" and shape:
            return tuple(shape)
    shape = (config.get("build_config") or {}).get("input_shape")
    return tuple(shape) if isinstance(shape, list) and all(not isinstance(d, list) for d in shape) else None


def inspect_keras(path):
    """The ``kerosene inspect`` report (see :func:`kerosene.cli.inspect_h5`) for a ``.keras`` archive."""
    path = os.fspath(path)
    problems, notes = [], []
    with read_archive(path) as contents:
        config, metadata, h5 = contents.config, contents.metadata, contents.weights
        listed = _config_layers(config)
        if listed is None:   # a subclassed model: its weights are found by attribute names
            keys = [key for key in h5 if key not in ("optimizer", "vars", "layers")]
            keys += [f"layers/{key}" for key in h5.get("layers", {})]
            listed = [(key, {"class_name": None, "config": {"name": key}}) for key in keys]
        layers = [{"name": (spec.get("config") or {}).get("name", key), "class_name": spec.get("class_name"),
                   "weights": _weights_under(h5, key)} for key, spec in listed]
        optimizer_arrays = len(_weights_under(h5, "optimizer"))
    plain = config.get("class_name") == "Sequential" or is_functional_config(config)
    if not plain:
        problems.append(f"the model class {config.get('registered_name') or config.get('class_name')!r} is not a "
                        "Keras built-in: Keras needs it registered or passed as custom_objects")
    try:
        training = compile_from_keras3(config.get("compile_config"))
    except ValueError as err:
        training = None
        notes.append(f"kerosene cannot restore the compile settings: {err}")
    total = sum(math.prod(w["shape"]) for layer in layers for w in layer["weights"])
    written_by_kerosene = "kerosene_version" in metadata
    return {"path": path, "bytes": os.path.getsize(path), "kind": "keras_archive",
            "keras_version": metadata.get("keras_version"), "backend": None,
            "written_by_kerosene": written_by_kerosene, "model_class": config.get("class_name"),
            "model_name": (config.get("config") or {}).get("name"), "input_shape": _input_shape(config),
            "layers": layers, "total_weights": total, "training_config": training,
            "optimizer_arrays": optimizer_arrays, "keras2_layout": False, "keras_loadable": not problems,
            "problems": problems, "notes": notes}

