"""Keras 2 masks: the ``Masking`` layer and how a model passes masks from layer to layer.

A mask marks which time steps of a sequence are real (True) and which are padding.
``Masking`` and ``Embedding(mask_zero=True)`` make one; layers that support masking
(``supports_masking = True``: Dense, Activation, Dropout, TimeDistributed, ...) pass it
on, recurrent layers skip the masked steps (keeping their states), and the mask of a
model's output weighs the loss (masked steps count for nothing)::

    model = Sequential([Masking(mask_value=0., input_shape=(5, 3)), LSTM(4)])

A model runs its layers through :func:`call_with_mask` / :func:`output_mask` only when
one of them can make a mask (:func:`makes_masks`), so models without masks pay nothing.
"""
import torch

from ..symbolic import apply_symbolic, is_symbolic
from .base import Layer

__all__ = ["Masking", "accepts_mask", "call_with_mask", "output_mask", "makes_masks", "attach_mask",
           "mask_of"]

MASK_ATTR = "_keras_mask"  # where a model's output tensor carries its mask (Keras 3 on torch uses the same)


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``.

    The output is the input with those steps set to 0; the layers after it that support
    masking pass the mask on, recurrent layers skip those steps, and the loss ignores them.

    >>> import torch
    >>> x = torch.tensor([[[1.], [0.]]])
    >>> Masking(mask_value=0.).compute_mask(x)
    tensor([[ True, False]])
    """

    supports_masking = True
    _checked_axis = None

    def __init__(self, mask_value=0., **kwargs):
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise TypeError(f"Masking: `mask_value` must be a number, got {mask_value!r}")
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _keep(self, inputs):
        return torch.any(inputs != self.mask_value, dim=-1)

    def compute_mask(self, inputs, mask=None):
        """The steps kept; on a symbolic tensor, a symbolic one (``K.function`` computes it)."""
        if not isinstance(inputs, torch.Tensor) and is_symbolic(inputs):
            return apply_symbolic(self._keep, (inputs,), {}, "masking_mask")
        return self._keep(inputs)

    def call(self, inputs):
        return inputs * self._keep(inputs).unsqueeze(-1).to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


def accepts_mask(layer):
    """Whether ``layer`` takes a ``mask`` argument: a kerosene layer whose ``call`` names one (as Keras 2
    checks before passing one), or a model. A plain torch module's ``mask`` (an attention mask, say)
    means something else, so it never gets one."""
    if getattr(layer, "_attaches_masks", False):
        return True
    if not isinstance(layer, Layer):
        return False
    # Read from the code object, not cached in a dict: torch.compile would guard on such a
    # dict and recompile every compiled step each time another layer class is added to it.
    code = getattr(type(layer).call, "__code__", None)
    return code is not None and "mask" in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def _no_mask(mask):
    if isinstance(mask, (list, tuple)):
        return all(m is None for m in mask)
    return mask is None


def call_with_mask(layer, inputs, mask, **kwargs):
    """``layer(inputs, **kwargs)``, with ``mask=`` added when there is one and the layer's call takes it.

    A plain torch module (no kerosene layer, no model) refuses a mask before it runs, as a Keras 2
    layer without ``supports_masking`` does."""
    if _no_mask(mask):
        return layer(inputs, **kwargs)
    if not isinstance(layer, Layer) and not getattr(layer, "_attaches_masks", False):
        raise TypeError(f"Layer {getattr(layer, 'name', type(layer).__name__)!r} ({type(layer).__name__}, a "
                        "torch module) does not support masking, but was passed an input mask; put it before "
                        "the Masking/Embedding(mask_zero=True) layer or wrap it in a kerosene Layer")
    if accepts_mask(layer):
        kwargs["mask"] = mask
    return layer(inputs, **kwargs)


def output_mask(layer, inputs, mask, output=None):
    """The mask ``layer`` passes on for ``inputs`` carrying ``mask``.

    A model (which attaches its output masks) gives the one on ``output``; a torch module
    that is no kerosene layer passes none (:func:`call_with_mask` refused an incoming one).
    """
    if getattr(layer, "_attaches_masks", False) and output is not None:
        outs = output if isinstance(output, (list, tuple)) else [output]
        masks = [mask_of(o) for o in outs]
        return masks if isinstance(output, (list, tuple)) else masks[0]
    compute = getattr(layer, "compute_mask", None)
    return compute(inputs, mask) if compute is not None else None


def makes_masks(modules):
    """Whether any of ``modules`` can make a mask from none: a ``Masking``, an
    ``Embedding(mask_zero=True)``, a wrapper (``TimeDistributed``) of one, a model that makes
    masks, or a user layer with its own ``compute_mask``."""
    for module in modules:
        if isinstance(module, Masking) or getattr(module, "mask_zero", False):
            return True
        inner = module.__dict__.get("_modules", {}).get("layer") if isinstance(module, Layer) else None
        if inner is not None and makes_masks([inner]):
            return True
        if getattr(module, "_attaches_masks", False):
            if module._makes_masks():
                return True
            continue
        if isinstance(module, Layer) and type(module).compute_mask is not Layer.compute_mask and not (
                type(module).__module__.startswith("kerosene.")):
            return True
    return False


def attach_mask(tensor, mask):
    """Record ``mask`` on a model's output ``tensor`` (what the loss reads); returns ``tensor``."""
    if mask is not None and isinstance(tensor, torch.Tensor):
        setattr(tensor, MASK_ATTR, mask)
    return tensor


def mask_of(tensor):
    """The mask a model attached to its output ``tensor``, or None."""
    return getattr(tensor, MASK_ATTR, None) if isinstance(tensor, torch.Tensor) else None
