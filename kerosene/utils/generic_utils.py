"""Keras 2's ``keras.utils.generic_utils``: the ``Progbar`` progress bar.

    bar = Progbar(target=10)
    for i in range(10):
        bar.update(i + 1, [('loss', 0.5)])
"""
from ..callbacks.progbar import Progbar

__all__ = ["Progbar"]
