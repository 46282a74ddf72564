"""Keras 2's ``keras.engine.training``: where ``Model`` is imported from in Keras 2 code.

    from kerosene.engine.training import Model
    model = Model(inputs, outputs)
"""
from ..models import Model

__all__ = ["Model"]
