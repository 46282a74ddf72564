"""Whole models in one HDF5 file, laid out as Keras 2's ``model.save('m.h5')`` (``.keras`` paths go to
:mod:`.keras_model_io`).

Root attributes ``model_config`` and ``training_config`` (JSON), ``keras_version``,
``backend``; group ``model_weights`` in the Keras 2 weights layout; group
``kerosene_optimizer_state`` with the optimizer's torch state dict as datasets (no
pickle). A SHA-256 of the content guards against damage.

Example::

    model.save('model.h5')
    restored = kerosene.models.load_model('model.h5')

An open ``h5py.File`` or ``h5py.Group`` is accepted too, as Keras 2 does: the model is
written into it (no atomic replace: the caller owns that file) and read from it.
"""
from __future__ import annotations

import json
import os

import h5py

from .config import model_config, model_from_config, to_json
from .errors import file_error
from .formats import check_overwrite, model_format
from .hdf5_weights import KERAS_LAYOUT_VERSION, match_weights, read_saved_layers, write_weights_group
from .integrity import DIGEST_ATTR, verify_digest, write_digest
from .keras2_lambda import decode_keras2_lambdas, keras2_model_config
from .keras_model_io import load_keras_model, save_keras_model
from .layer_weights import refuse_sharded, writing_file_of
from .sharded_weights import full_tree
from .tensor_tree import read_tree, write_tree
from .training_config import compile_from_config, training_config
from .hdf5_files import apply_plan, open_hdf5, reading_errors, require_built, write_hdf5

__all__ = ["save_model", "load_model"]

OPTIMIZER_GROUP = "kerosene_optimizer_state"


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None, **kwargs):
    """Write architecture, weights, compile settings and optimizer state to ``filepath`` atomically."""
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"save() got unexpected keyword arguments {sorted(kwargs)}; accepted: filepath, "
                        "overwrite, include_optimizer")
    if save_format not in (None, "h5", "hdf5", "keras"):
        raise ValueError(f"`save_format` must be 'h5' or None, got {save_format!r}")
    if not isinstance(include_optimizer, bool):
        raise TypeError(f"`include_optimizer` must be True or False, got {include_optimizer!r}")
    if isinstance(filepath, h5py.Group):
        group = _writable_group(filepath, overwrite)
        config_json, train_config, optimizer_state = _model_parts(model, include_optimizer)
        # no digest: the caller owns this file and may add to it, which would read as damage
        _write_model(group, config_json, train_config, optimizer_state, model, digest=False)
        return
    fmt = model_format(filepath)
    path = os.fspath(filepath)
    check_overwrite(path, overwrite)
    if fmt == "keras":
        refuse_sharded(model, "save", path)
        save_keras_model(model, path, include_optimizer=include_optimizer)
        return
    with writing_file_of(model) as writes:
        config_json, train_config, optimizer_state = _model_parts(model, include_optimizer)
        if writes:
            write_hdf5(path, lambda f: _write_model(f, config_json, train_config, optimizer_state, model),
                       "saving the HDF5 model file")


def _model_parts(model, include_optimizer):
    # refuses undescribable models before any file work; Lambda functions go in as Keras 2 byte code
    config_json = to_json(keras2_model_config(model_config(model), model))
    require_built(model, "be saved")
    train_config = training_config(model)
    optimizer_state = None
    if include_optimizer and train_config is not None:
        optimizer_state = full_tree(model._compile_state.optimizer.state_dict())  # shards gathered
    return config_json, train_config, optimizer_state


def _write_model(f, config_json, train_config, optimizer_state, model, digest=True):
    f.attrs["model_config"] = config_json.encode("utf8")
    if train_config is not None:
        f.attrs["training_config"] = to_json(train_config).encode("utf8")
    f.attrs["keras_version"] = KERAS_LAYOUT_VERSION.encode("utf8")
    f.attrs["backend"] = b"torch"
    write_weights_group(f.create_group("model_weights"), model)
    if optimizer_state is not None:
        write_tree(f.create_group(OPTIMIZER_GROUP), optimizer_state)
    if digest:
        write_digest(f)


def _group_label(group):
    return group.file.filename + ("" if group.name == "/" else ":" + group.name)


def _writable_group(group, overwrite):
    """An open group to save into: refuse a read-only file, and a saved model unless ``overwrite``, whose
    entries are then removed (so the group holds one model, not two mixed)."""
    if not isinstance(overwrite, bool):
        raise TypeError(f"`overwrite` must be True or False, got {overwrite!r}")
    if not group:
        raise ValueError(f"`filepath` is a closed h5py object: {group!r}; pass an open h5py.File or Group")
    label = _group_label(group)
    if group.file.mode != "r+":
        raise ValueError(f"`filepath` is the h5py object {label!r}, opened read-only; open it with mode 'r+', "
                         "'w' or 'a' to save a model into it")
    if "model_config" in group.attrs or "model_weights" in group:
        if not overwrite:
            raise FileExistsError(f"{label!r} already holds a saved model and overwrite=False; pass "
                                  "overwrite=True to replace it")
        for name in ("model_config", "training_config", "keras_version", "backend", DIGEST_ATTR):
            if name in group.attrs:
                del group.attrs[name]
        for name in ("model_weights", OPTIMIZER_GROUP, "optimizer_weights"):
            if name in group:
                del group[name]
    return group


def _json_attr(f, name, path):
    raw = f.attrs[name]
    if isinstance(raw, bytes):
        raw = raw.decode("utf8")
    try:
        return json.loads(raw)
    except ValueError as err:
        raise file_error(path, f"its {name} is not valid JSON", err) from None


def _read_model(f, path):
    verify_digest(f, path)
    if "model_config" not in f.attrs or "model_weights" not in f:
        what = "a weights-only file; load it with model.load_weights()" if "layer_names" in f.attrs else \
            "no 'model_config' attribute or 'model_weights' group: not a whole-model file"
        raise file_error(path, what)
    config = _json_attr(f, "model_config", path)
    train_config = _json_attr(f, "training_config", path) if "training_config" in f.attrs else None
    saved = read_saved_layers(f["model_weights"], path)
    optimizer_state = read_tree(f[OPTIMIZER_GROUP], path) if OPTIMIZER_GROUP in f else None
    return config, train_config, saved, optimizer_state


def load_model(filepath, custom_objects=None, compile=True, safe_mode=None):
    """Rebuild a model saved by :func:`save_model` (or Keras 2's ``model.save('m.h5')``, or Keras 3's
    ``model.save('m.keras')``).

    Only kerosene's classes, registered ones and ``custom_objects`` are resolved. The one
    exception is a Lambda layer's Python byte code: an ``.h5`` file's is run unless
    ``safe_mode=True`` (Keras 2's behaviour, and Keras 3's for ``.h5``); a ``.keras``
    archive's only with ``safe_mode=False``.
    """
    if not isinstance(compile, bool):
        raise TypeError(f"`compile` must be True or False, got {compile!r}")
    if safe_mode is not None and not isinstance(safe_mode, bool):
        raise TypeError(f"`safe_mode` must be True, False or None (the format's default), got {safe_mode!r}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"`custom_objects` must be a dict of name -> class or function, got "
                        f"{type(custom_objects).__name__}")
    if isinstance(filepath, h5py.Group):
        if not filepath:
            raise ValueError(f"`filepath` is a closed h5py object: {filepath!r}; pass an open h5py.File or Group")
        path = _group_label(filepath)
        with reading_errors(path):
            config, train_config, saved, optimizer_state = _read_model(filepath, path)
    else:
        fmt = model_format(filepath)
        path = os.fspath(filepath)
        if fmt == "keras":
            return load_keras_model(path, custom_objects=custom_objects, compile=compile,
                                    safe_mode=safe_mode is not False)
        with reading_errors(path), open_hdf5(path) as f:
            config, train_config, saved, optimizer_state = _read_model(f, path)
    config, lambda_objects = decode_keras2_lambdas(config, custom_objects, safe_mode)
    model = model_from_config(config, custom_objects=lambda_objects)
    require_built(model, "receive the saved weights")
    apply_plan(model, match_weights(model, saved, path))
    if compile and train_config is not None:
        compile_from_config(model, train_config, custom_objects=custom_objects)
        if optimizer_state is not None:
            try:
                model.optimizer.load_state_dict(optimizer_state)
            except (ValueError, KeyError, RuntimeError) as err:
                raise file_error(path, "its optimizer state does not fit the model's optimizer", err) from None
    return model
