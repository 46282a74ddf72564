"""The training engine: data adapters, the loops, logs and distributed set-up.

Keras 2's public names live here too, as in ``keras.engine``::

    from kerosene.engine import Input, Layer, InputSpec, Model
    from kerosene.engine.training import Model
"""
import importlib

__all__ = ["Input", "InputLayer", "InputSpec", "Layer", "Model", "get_source_inputs"]

# Keras 2 name -> the module that defines it, looked up on first use: models sits a floor
# above the engine (Model is a Trainer), so importing it here would be a cycle, and importing
# any engine submodule would pull in every model.
_LAZY = {
    "Input": "kerosene.layers",
    "InputLayer": "kerosene.layers",
    "InputSpec": "kerosene.layers",
    "Layer": "kerosene.layers",
    "Model": "kerosene.models",
    "get_source_inputs": "kerosene.engine.topology",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerosene.engine' has no attribute {name!r}")
