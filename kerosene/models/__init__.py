"""Models: ``Model`` (a ``torch.nn.Module`` with Keras's training API), ``Sequential``,
``Functional`` and ``load_model``.

    >>> from kerosene.models import Sequential
    >>> from kerosene.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=3)])
    >>> model.compile(optimizer='sgd', loss='mse')
"""
from __future__ import annotations

from .._naming import layer_name  # noqa: F401 (kerosene.models.layer_name, as before)
from ..errors import NotCompiledError
from ..saving import load_model as _load_model
from ..saving import model_from_config, save_model
from ..saving.architecture import model_from_json, model_from_yaml
from ..saving.registry import MODEL_CLASSES
from .cloning import clone_model
from .functional import Functional
from .model import Model
from .sequential import Sequential
from .weights import module_weights, set_module_weights  # noqa: F401 (public helpers of this package)

__all__ = ["Model", "Sequential", "Functional", "load_model", "NotCompiledError",
           # Keras 2's keras.models functions
           "save_model", "clone_model", "model_from_json", "model_from_yaml", "model_from_config"]

# Saved configs name these classes; kerosene.saving finds them here without importing models.
MODEL_CLASSES.update({"Sequential": Sequential, "Functional": Functional, "Model": Functional})


def load_model(filepath, custom_objects=None, compile=True, safe_mode=None):
    """Load a model saved by :meth:`Model.save`. A ``.h5`` file's Lambda byte code is run unless
    ``safe_mode=True``, as in Keras 2; a ``.keras`` archive's only with ``safe_mode=False``."""
    return _load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
