"""``model.summary()``: the Keras table of layers, output shapes and parameter counts."""
from __future__ import annotations

import torch

__all__ = ["format_summary"]


def _output_shapes(model):
    """Each layer's output shape, from shape inference or, failing that, a recorded forward pass."""
    shapes = {}
    shape = getattr(model, "input_shape", None)
    if shape is not None:
        for layer in model.layers:
            infer = getattr(layer, "compute_output_shape", None)
            if infer is None:
                break
            try:
                shape = tuple(infer(shape))
            except Exception:
                break
            shapes[id(layer)] = shape
    return shapes


def _fmt_shape(shape):
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def format_summary(model, line_length=None):
    from ..models import layer_name
    widths = [33, 25, 12]
    if line_length:
        scale = line_length / sum(widths)
        widths = [max(8, int(w * scale)) for w in widths]
    total_width = sum(widths)
    rule = "_" * total_width
    lines = [f'Model: "{model.name}"', rule,
             "Layer (type)".ljust(widths[0]) + "Output Shape".ljust(widths[1]) + "Param #".rjust(widths[2]),
             "=" * total_width]
    shapes = _output_shapes(model)
    layers = model.layers
    for i, layer in enumerate(layers):
        built = getattr(layer, "built", True) and not any(
            torch.nn.parameter.is_lazy(p) for p in layer.parameters())
        params = sum(p.numel() for p in layer.parameters()) if built else 0
        label = f"{layer_name(layer)} ({type(layer).__name__})"
        shape = shapes.get(id(layer))
        shape_text = _fmt_shape(shape) if shape is not None else ("?" if not built else "multiple")
        lines.append(label[:widths[0] - 1].ljust(widths[0]) + shape_text.ljust(widths[1])
                     + (str(params) if built else "0 (unbuilt)").rjust(widths[2]))
        lines.append(rule if i == len(layers) - 1 else "")
    if not layers:
        lines.append(rule)
    if model.built:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
        frozen += sum(b.numel() for b in model.buffers() if b.is_floating_point())
        lines.append(f"Total params: {trainable + frozen:,}")
        lines.append(f"Trainable params: {trainable:,}")
        lines.append(f"Non-trainable params: {frozen:,}")
    else:
        lines.append("Total params: unknown (the model is not built yet: give the first layer an "
                     "input_shape or fit it on data)")
    lines.append(rule)
    return "\n".join(lines)
