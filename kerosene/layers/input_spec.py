"""``InputSpec``: what a layer accepts (rank, shape, sizes of given axes), checked on call.

A Keras 2 layer declares it in ``__init__`` or ``build``; kerosene checks every input
against it before ``call`` and raises a ValueError naming the layer and the mismatch::

    >>> import torch
    >>> from kerosene.layers import Layer, InputSpec
    >>> class Rows(Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.input_spec = InputSpec(ndim=2)
    >>> Rows()(torch.zeros(3, 4)).shape
    torch.Size([3, 4])
"""

__all__ = ["InputSpec", "check_input_spec"]


class InputSpec:
    """The rank, shape and axis sizes a layer's input must have (``None`` checks nothing).

    ``shape`` may hold ``None`` for unchecked axes and sets ``ndim``; ``axes`` maps an
    axis (negative counts from the end) to the size it must have.

    Example::

        spec = InputSpec(min_ndim=2, axes={-1: 16})
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def __repr__(self):
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        parts = [f"{f}={getattr(self, f)}" for f in fields if getattr(self, f)]
        return f"InputSpec({', '.join(parts)})"

    def problem(self, shape):
        """Why an input of ``shape`` does not satisfy this spec, or None when it does."""
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            return f"expected ndim={self.ndim}, found ndim={rank}"
        if self.max_ndim is not None and rank > self.max_ndim:
            return f"expected max_ndim={self.max_ndim}, found ndim={rank}"
        if self.min_ndim is not None and rank < self.min_ndim:
            return f"expected min_ndim={self.min_ndim}, found ndim={rank}"
        for axis, size in self.axes.items():
            if size is not None and (axis >= rank or axis < -rank or shape[axis] != size):
                return f"expected axis {axis} of input to have value {size}, found shape {tuple(shape)}"
        if self.shape is not None:
            for want, got in zip(self.shape[1:], shape[1:]):
                if want is not None and want != got:
                    return f"expected shape {self.shape}, found shape {tuple(shape)}"
        return None


def check_input_spec(layer_name, spec, inputs):
    """Raise a ValueError naming ``layer_name`` when ``inputs`` do not satisfy ``spec``.

    ``spec`` is one InputSpec or a list (one per input; ``None`` entries check nothing).
    """
    specs = spec if isinstance(spec, (list, tuple)) else [spec]
    tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    for i, (one, tensor) in enumerate(zip(specs, tensors)):
        if one is None or not hasattr(tensor, "shape"):
            continue
        problem = one.problem(tuple(tensor.shape))
        if problem is not None:
            raise ValueError(f"Input {i} of layer {layer_name} is incompatible with the layer: {problem}")
