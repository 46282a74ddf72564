"""``save_weights``/``load_weights`` in Keras 3's ``.weights.h5`` layout (and a ``.keras`` archive's weights).

    save_keras3_weights(model, 'w.weights.h5')
    load_keras3_weights(model, 'm.keras')
"""
from __future__ import annotations

from .hdf5_files import apply_plan, open_hdf5, require_built, write_hdf5
from .keras3_optimizer import optimizer_to_keras3
from .keras3_weights import read_keras3_plan, write_keras3_weights
from .keras_archive import read_archive

__all__ = ["save_keras3_weights", "load_keras3_weights"]


def save_keras3_weights(model, path):
    """``model``'s weights (and optimizer state when compiled) in Keras 3's layout, atomically."""
    require_built(model, "save its weights")
    optimizer_arrays = optimizer_to_keras3(model) if getattr(model, "_compile_state", None) else None
    write_hdf5(path, lambda f: write_keras3_weights(f, model, optimizer_arrays), "saving the Keras 3 weights file")


def load_keras3_weights(model, path, skip_mismatch=False):
    """Load a Keras 3 ``.weights.h5`` file, or the weights of a ``.keras`` archive, into ``model``."""
    require_built(model, "load weights")
    if str(path).lower().endswith(".keras"):
        with read_archive(path) as contents:
            plan = read_keras3_plan(contents.weights, model, path, skip_mismatch=skip_mismatch)
    else:
        with open_hdf5(path) as f:
            plan = read_keras3_plan(f, model, path, skip_mismatch=skip_mismatch)
    apply_plan(model, plan)
