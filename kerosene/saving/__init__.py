"""Saving and loading: Keras-layout HDF5 and torch files, written atomically, loaded safely.

Example::

    model.save_weights('w.h5')                 # Keras 2 HDF5 layout (Keras 3 loads it too)
    model.load_weights('w.h5', by_name=True)
    model.save('model.h5')                     # architecture + weights + optimizer state
    model = kerosene.models.load_model('model.h5', custom_objects={'Scale': Scale})
"""
from .atomic import atomic_write, atomic_write_bytes, fsync_dir
from .config import NotSerializableError, model_config, model_from_config
from .errors import SavedFileError
from .model_io import load_model, save_model
from .registry import get_registered_objects, register_serializable
from .weights_io import load_weights, save_weights

__all__ = ["atomic_write", "atomic_write_bytes", "fsync_dir", "save_weights", "load_weights", "save_model",
           "load_model", "model_config", "model_from_config", "register_serializable",
           "get_registered_objects", "SavedFileError", "NotSerializableError"]
