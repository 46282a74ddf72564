"""Weight regularizers with Keras's names: ``l1``, ``l2``, ``l1_l2`` and their classes.

A regularizer is a callable ``fn(weight) -> scalar tensor`` whose value the model adds to
the loss at each step.

Example::

    from kerosene import regularizers
    Dense(64, kernel_regularizer=regularizers.l2(0.01))
"""
from ._registry import Registry, serialize_object


__all__ = ["L1L2", "L1", "L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


class L1L2:
    """Penalty ``l1 * sum(|w|) + l2 * sum(w**2)`` (the Keras regularizer).

    Example::

        Dense(64, kernel_regularizer=regularizers.l2(0.01))
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        out = w.new_zeros(())
        if self.l1:
            out = out + self.l1 * w.abs().sum()
        if self.l2:
            out = out + self.l2 * w.square().sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1(L1L2):
    """Penalty ``l1 * sum(|w|)``. Example: ``Dense(4, kernel_regularizer=L1(0.01))``."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """Penalty ``l2 * sum(w**2)``. Example: ``Dense(4, kernel_regularizer=L2(0.01))``."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_REGULARIZERS = Registry({"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01),
                          "L1": L1, "L2": L2, "L1L2": L1L2})


def get(identifier, arg_name="regularizer"):
    """A regularizer from a name (``'l2'``), a config dict, or a callable ``fn(weight) -> scalar``."""
    return _REGULARIZERS.resolve(identifier, "regularizer", arg_name,
                                 "'l1', 'l2', 'l1_l2', or a callable(weight) -> scalar tensor.")


def l1(l1=0.01):
    """Keras 2's ``regularizers.l1(0.01)``."""
    return L1(l1)


def l2(l2=0.01):
    """Keras 2's ``regularizers.l2(0.01)``."""
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    """Keras 2's ``regularizers.l1_l2(l1=0.01, l2=0.01)``."""
    return L1L2(l1=l1, l2=l2)


def serialize(regularizer):
    return serialize_object(regularizer)


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize``: a regularizer from ``{'class_name': 'L1L2', 'config': {...}}``
    or a name; ``custom_objects`` maps further names to regularizer classes or functions.

    >>> deserialize(serialize(L1L2(l2=0.5))).l2
    0.5
    """
    return _REGULARIZERS.resolve(config, "regularizer", "config", ", ".join(sorted(_REGULARIZERS)) + ".",
                                 custom_objects)
