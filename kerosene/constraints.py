"""Weight constraints with Keras's names, applied after each optimizer step.

Example::

    from kerosene.constraints import max_norm
    Dense(64, kernel_constraint=max_norm(2.0))
"""
from ._registry import Registry, serialize_object


__all__ = ["MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg", "unit_norm",
           "min_max_norm", "get", "serialize", "deserialize"]


class MaxNorm:
    """Rescale so the norm along ``axis`` is at most ``max_value``.

    Example: ``Dense(64, kernel_constraint=MaxNorm(2.0))``
    """

    def __init__(self, max_value=2.0, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg:
    """Clip weights at zero from below.

    Example: ``Dense(4, kernel_constraint=NonNeg())``
    """

    def __call__(self, w):
        return w.clamp(min=0.0)

    def get_config(self):
        return {}


class UnitNorm:
    """Scale to unit norm along ``axis``.

    Example: ``Dense(4, kernel_constraint=UnitNorm())``
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (1e-7 + w.square().sum(dim=self.axis, keepdim=True).sqrt())

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm:
    """Keep the norm along ``axis`` within ``[min_value, max_value]``.

    Example: ``Dense(4, kernel_constraint=MinMaxNorm(0.5, 1.0))``
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = (self.rate * norms.clamp(self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


_CONSTRAINTS = Registry({"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                         "min_max_norm": MinMaxNorm, "MaxNorm": MaxNorm, "NonNeg": NonNeg,
                         "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
                         # Keras 2.2.4 keeps the Keras 1 names too
                         "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm})


def get(identifier, arg_name="constraint"):
    """A constraint from a name (``'max_norm'``), a config dict, or a callable ``fn(weight) -> weight``."""
    return _CONSTRAINTS.resolve(identifier, "constraint", arg_name, ", ".join(sorted(_CONSTRAINTS)) + ".")


# Keras 2's lower-case aliases.
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
maxnorm, nonneg, unitnorm = MaxNorm, NonNeg, UnitNorm  # Keras 1 names, still in Keras 2.2.4


def serialize(constraint):
    return serialize_object(constraint)


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize``: a constraint from ``{'class_name': 'MaxNorm', 'config': {...}}``
    or a name; ``custom_objects`` maps further names to constraint classes or functions.

    >>> deserialize(serialize(MaxNorm(3.0))).max_value
    3.0
    """
    return _CONSTRAINTS.resolve(config, "constraint", "config", ", ".join(sorted(_CONSTRAINTS)) + ".",
                                custom_objects)
