"""``model.summary()``: the Keras 2 table of layers, output shapes and parameter counts.

The layout is Keras 2's: 65 characters wide, columns at 45% and 85% of the width, a
rule of underscores between layers, ``=`` rules around the body, then the totals with
thousands separators. Parameter counts include non-trainable weights (such as
BatchNormalization's moving statistics), as Keras counts them.

Example::

    print(format_summary(model))
    # Model: "sequential"
    # _________________________________________________________________
    # Layer (type)                 Output Shape              Param #
    # =================================================================
    # dense (Dense)                (None, 10)                650
    # ...
"""
from __future__ import annotations

import torch

from ..symbolic import as_keras_tensor
from .._naming import layer_name

__all__ = ["format_summary", "layer_output_shapes"]

DEFAULT_LINE_LENGTH = 65
DEFAULT_POSITIONS = (0.45, 0.85, 1.0)
HEADER = ("Layer (type)", "Output Shape", "Param #")


def _is_built(module):
    if getattr(module, "built", True) is False:
        return False
    return not any(torch.nn.parameter.is_lazy(p) for p in module.parameters())


def _shape_of(output):
    """Keras-style shape of a layer output: batch dimension as ``None``; lists for several outputs."""
    if isinstance(output, torch.Tensor):
        return (None,) + tuple(output.shape[1:])
    if isinstance(output, (list, tuple)):
        return [_shape_of(item) for item in output]
    return None


def _model_input_shape(model, layers):
    """The model's input shape, batch first; for a Sequential built lazily from data,
    the shape its first layer was built for (with the batch axis as ``None``)."""
    shape = getattr(model, "input_shape", None)
    # Only a Sequential's first child is sure to see the model's input; a subclassed
    # model's children are listed in definition order, not call order.
    if shape is None and layers and callable(getattr(model, "add", None)):
        built_for = getattr(layers[0], "input_shape", None) if not isinstance(layers[0], torch.nn.Sequential) else None
        if isinstance(built_for, (tuple, list)) and built_for and all(isinstance(d, int) or d is None for d in built_for):
            shape = (None,) + tuple(built_for[1:])
    return shape


def _inferred_shapes(model, layers):
    """Shapes from each layer's ``compute_output_shape``, as far as the chain goes."""
    shapes = {}
    shape = _model_input_shape(model, layers)
    if shape is None:
        return shapes
    for layer in layers:
        infer = getattr(layer, "compute_output_shape", None)
        if infer is None:
            break
        try:
            shape = tuple(infer(shape))
        except Exception:  # a layer that cannot infer: the traced pass may still know
            break
        shapes[id(layer)] = shape
    return shapes


def _traced_shapes(model, layers):
    """Shapes recorded by forward hooks during one pass on a zero sample (for plain torch modules).

    Runs in eval mode without gradients, so no running statistics change.
    """
    shape = _model_input_shape(model, layers)
    if not isinstance(shape, tuple) or any(not isinstance(d, int) for d in shape[1:]):
        return {}   # unknown, several inputs, or sizes known only with data
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    integer_input = getattr(model, "_input_dtype", None) in ("int32", "int64")
    sample = torch.zeros((1,) + tuple(shape[1:]), dtype=torch.long if integer_input else torch.float32,
                         device=device)
    shapes = {}

    def recorder(key):
        def hook(module, args, output):
            shapes.setdefault(key, _shape_of(output))   # returns None: the output is left as it is
        return hook

    handles = [layer.register_forward_hook(recorder(id(layer))) for layer in layers]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(sample)
    except Exception:  # the summary must print even when a dummy pass is impossible
        return shapes
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return shapes


def _graph_shapes(model, nodes):
    """A functional model's shapes, read from its recorded graph (its first call of each layer)."""
    shapes = {id(layer): layer.batch_input_shape for layer in model.layers if getattr(layer, "is_input_layer", False)}
    for node in nodes:
        outputs = node.outputs if isinstance(node.outputs, (list, tuple)) else [node.outputs]
        found = [as_keras_tensor(t).shape for t in outputs]
        shapes.setdefault(id(node.layer), found[0] if len(found) == 1 else found)
    return shapes


def layer_output_shapes(model):
    """``{id(layer): shape}`` for the layers whose output shape can be known without data."""
    nodes = getattr(model, "_nodes", None)
    if nodes is not None:
        return _graph_shapes(model, nodes)
    layers = model.layers
    shapes = _inferred_shapes(model, layers)
    if len(shapes) < len(layers):
        traced = _traced_shapes(model, layers)
        for layer in layers:
            if id(layer) not in shapes and id(layer) in traced:
                shapes[id(layer)] = traced[id(layer)]
    return shapes


def _format_shape(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(tuple(shape))


def _weight_counts(layer):
    """``(trainable, non_trainable)`` scalars of one layer, counted as Keras counts them.

    A kerosene layer counts its Keras weights (BatchNormalization's moving statistics
    included, internal helper buffers excluded); a plain torch module counts its
    parameters and the floating-point tensors of its state dict.
    """
    if not _is_built(layer):
        return 0, 0
    trainable = sum(p.numel() for p in layer.parameters() if p.requires_grad)
    if hasattr(layer, "keras_weights"):
        total = sum(int(getattr(w, "size", 0)) for w in layer.keras_weights())
    else:
        total = sum(t.numel() for t in layer.state_dict().values() if t.is_floating_point())
    return trainable, max(total - trainable, 0)


def _row(fields, positions):
    """One table row: each field cut to its column, with at least one space before the next."""
    line = ""
    for field, end in zip(fields, positions):
        if line:
            line = line[:-1] + " "
        line += str(field)
        line = line[:end]
        line += " " * (end - len(line))
    return line


def format_summary(model, line_length=None, positions=None):
    """The summary table of ``model`` as one string (what ``model.summary()`` prints).

    ``line_length`` sets the width (65 by default); ``positions`` the right edge of each
    column, as fractions of the width or as absolute character positions.

    Example::

        text = format_summary(model, line_length=80)
    """

    if line_length is None:
        line_length = DEFAULT_LINE_LENGTH
    if not isinstance(line_length, int) or isinstance(line_length, bool) or line_length < 20:
        raise ValueError(f"summary(line_length=...): expected an int of at least 20, got {line_length!r}")
    positions = list(positions or DEFAULT_POSITIONS)
    if len(positions) != 3 or sorted(positions) != positions:
        raise ValueError(f"summary(positions=...): expected 3 increasing column edges, got {positions!r}")
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} has not been built yet, so its weights and shapes are unknown. Give the "
            "first layer an input_shape/input_dim (or start with an Input), or call fit/predict on some data "
            "first, then call summary().")
    shapes = layer_output_shapes(model)
    layers = model.layers
    lines = [f'Model: "{model.name}"', "_" * line_length, _row(HEADER, positions), "=" * line_length]
    trainable = frozen = 0
    for index, layer in enumerate(layers):
        shape = shapes.get(id(layer))
        label = f"{layer_name(layer)} ({type(layer).__name__})"
        counts = _weight_counts(layer)
        trainable += counts[0]
        frozen += counts[1]
        lines.append(_row((label, "multiple" if shape is None else _format_shape(shape), sum(counts)), positions))
        lines.append("=" * line_length if index == len(layers) - 1 else "_" * line_length)
    if not layers:
        lines.append("=" * line_length)
    # Parameters a subclassed model holds itself, outside any layer, count too.
    in_layers = {id(p) for layer in layers for p in layer.parameters()}
    for p in model.parameters():
        if id(p) not in in_layers:
            trainable += p.numel() if p.requires_grad else 0
            frozen += 0 if p.requires_grad else p.numel()
    lines.append(f"Total params: {trainable + frozen:,}")
    lines.append(f"Trainable params: {trainable:,}")
    lines.append(f"Non-trainable params: {frozen:,}")
    lines.append("_" * line_length)
    return "\n".join(lines)
