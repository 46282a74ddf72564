"""Whole models as Keras 3 ``.keras`` archives, and weights in Keras 3's ``.weights.h5`` layout.

``model.save('m.keras')`` writes what Keras 3's ``keras.saving.load_model`` opens;
``kerosene.models.load_model('m.keras')`` reads archives Keras 3 wrote (or kerosene):
architecture, weights, compile settings and the optimizer's state, so ``fit``
continues. A failed load raises before any model or weight is changed.

Example::

    model.save('model.keras')
    restored = kerosene.models.load_model('model.keras')
    model.save_weights('model.weights.h5')      # Keras 3's layout: keras model.load_weights reads it
"""
from __future__ import annotations

import datetime

import h5py

from .atomic import atomic_write
from .config import model_config, to_json
from .errors import SavedFileError
from .keras3_compile import compile_from_keras3, compile_to_keras3
from .keras3_config import model_from_keras3, model_to_keras3
from .keras3_optimizer import optimizer_from_keras3, optimizer_to_keras3
from .keras3_weights import read_keras3_plan, read_optimizer_arrays, write_keras3_weights
from .keras_archive import hdf5_bytes, read_archive, write_archive
from .training_config import compile_from_config, training_config
from .weights_io import _require_built, apply_plan, open_hdf5

__all__ = ["save_keras_model", "load_keras_model", "save_keras3_weights", "load_keras3_weights",
           "KERAS3_LAYOUT_VERSION"]

KERAS3_LAYOUT_VERSION = "3.15.1"   # the Keras 3 release whose archive layout this writer follows


def save_keras_model(model, path, include_optimizer=True):
    """Write ``model`` to the ``.keras`` archive ``path`` (atomically)."""
    model_config(model)               # refuses undescribable models (raw modules, subclasses) before any work
    config = model_to_keras3(model)
    _require_built(model, "be saved")
    train_config = training_config(model)
    if train_config is not None:
        config["compile_config"] = compile_to_keras3(train_config)
    optimizer_arrays = optimizer_to_keras3(model) if include_optimizer and train_config is not None else None
    weights = hdf5_bytes(lambda f: write_keras3_weights(f, model, optimizer_arrays))
    from .. import __version__   # set in kerosene/__init__ after this module is imported
    metadata = {"keras_version": KERAS3_LAYOUT_VERSION, "kerosene_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    to_json(config)                   # a value JSON cannot hold fails here, before the file is touched
    write_archive(path, config, metadata, weights)


def load_keras_model(path, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild the model in the ``.keras`` archive ``path``; nothing in it is executed."""
    with read_archive(path) as contents:
        config = contents.config
        model = _model_from(path, config, custom_objects, safe_mode)
        _require_built(model, "receive the saved weights")
        plan = read_keras3_plan(contents.weights, model, path)
        optimizer_arrays = read_optimizer_arrays(contents.weights, path)
    train_config = None
    if compile and config.get("compile_config"):
        train_config = compile_from_keras3(config["compile_config"])
    apply_plan(model, plan)
    if train_config is not None:
        compile_from_config(model, train_config, custom_objects=custom_objects)
        if optimizer_arrays:
            optimizer_from_keras3(model, optimizer_arrays, path)
    return model


def _model_from(path, config, custom_objects, safe_mode):
    try:
        return model_from_keras3(config, custom_objects=custom_objects, safe_mode=safe_mode)
    except SavedFileError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        raise type(err)(f"Cannot load {str(path)!r}: {err}") from None


def save_keras3_weights(model, path):
    """``model``'s weights (and optimizer state when compiled) in Keras 3's layout, atomically."""
    _require_built(model, "save its weights")
    optimizer_arrays = optimizer_to_keras3(model) if getattr(model, "_compile_state", None) else None
    with atomic_write(path, mode=None) as tmp:
        with h5py.File(tmp, "w") as f:
            write_keras3_weights(f, model, optimizer_arrays)


def load_keras3_weights(model, path, skip_mismatch=False):
    """Load a Keras 3 ``.weights.h5`` file, or the weights of a ``.keras`` archive, into ``model``."""
    _require_built(model, "load weights")
    if str(path).lower().endswith(".keras"):
        with read_archive(path) as contents:
            plan = read_keras3_plan(contents.weights, model, path, skip_mismatch=skip_mismatch)
    else:
        with open_hdf5(path) as f:
            plan = read_keras3_plan(f, model, path, skip_mismatch=skip_mismatch)
    apply_plan(model, plan)
