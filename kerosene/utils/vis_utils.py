"""Keras 2's ``plot_model`` and ``model_to_dot``: a picture of a model's layers and connections.

``model_to_dot`` needs pydot, as in Keras 2. ``plot_model`` uses pydot and graphviz when both
work and otherwise draws the same boxes and arrows with matplotlib, so a script's
``plot_model(model, to_file='model.png', show_shapes=True)`` writes its picture on a machine
without graphviz too::

    plot_model(model, to_file='model.png', show_shapes=True)
    layers, edges, depths = model_graph(model)     # what is drawn, without drawing
"""
from __future__ import annotations

import os

from ..symbolic import as_keras_tensor
from .plotting import save_figure
from .summary import layer_output_shapes

__all__ = ["model_graph", "model_to_dot", "plot_model"]

_MISSING_PYDOT = ("model_to_dot needs pydot (and graphviz's `dot` program to render): `pip install pydot` and "
                  "install graphviz; plot_model draws with matplotlib without them")


def model_graph(model):
    """``(layers, edges, depths)`` of ``model``: its layers in order, ``(source, target)`` index
    pairs for each connection, and each layer's depth (longest path from an input). A functional
    model gives its recorded graph; a Sequential model or a plain torch module, its layers as a
    chain."""
    layers = list(model.layers)
    index = {id(layer): i for i, layer in enumerate(layers)}
    edges = []
    nodes = getattr(model, "_nodes", None)
    if nodes is not None:
        for node in nodes:
            for tensor in node.flat_inputs():
                source = as_keras_tensor(tensor).node.layer
                if id(source) in index and id(node.layer) in index:
                    edges.append((index[id(source)], index[id(node.layer)]))
    else:
        edges = [(i, i + 1) for i in range(len(layers) - 1)]
    depths = [0] * len(layers)
    for _ in layers:       # relax until stable: the graph is acyclic, so len(layers) rounds suffice
        changed = False
        for source, target in edges:
            if depths[target] < depths[source] + 1:
                depths[target], changed = depths[source] + 1, True
        if not changed:
            break
    return layers, sorted(set(edges), key=edges.index), depths


def _labels(model, layers, edges, show_shapes, show_layer_names):
    shapes = layer_output_shapes(model) if show_shapes else {}
    labels = []
    for i, layer in enumerate(layers):
        name = getattr(layer, "name", type(layer).__name__)
        wrapped = getattr(layer, "layer", None)
        if wrapped is not None and hasattr(wrapped, "name"):
            name = f"{name}({wrapped.name})"
        text = f"{name}: {type(layer).__name__}" if show_layer_names else type(layer).__name__
        if show_shapes:
            sources = [s for s, t in edges if t == i]
            inputs = [shapes.get(id(layers[s]), "multiple") for s in sources]
            own = getattr(layer, "batch_input_shape", None) if not sources else None
            shown_in = own if own is not None else (inputs[0] if len(inputs) == 1 else inputs or "?")
            text += f"\ninput: {shown_in}\noutput: {shapes.get(id(layer), '?')}"
        labels.append(text)
    return labels


def _check_rankdir(rankdir):
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"`rankdir` must be 'TB' (top to bottom) or 'LR' (left to right), got {rankdir!r}")


def _import_pydot():
    try:
        import pydot  # an optional extra: only model_to_dot and graphviz rendering need it
    except ImportError:
        raise ImportError(_MISSING_PYDOT) from None
    return pydot


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96):
    """The model as a ``pydot.Dot`` graph (Keras 2's record nodes and edges); an ImportError
    naming what to install when pydot is missing."""
    _check_rankdir(rankdir)
    pydot = _import_pydot()
    layers, edges, _ = model_graph(model)
    dot = pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set("dpi", dpi)
    dot.set_node_defaults(shape="record")
    for layer, label in zip(layers, _labels(model, layers, edges, show_shapes, show_layer_names)):
        dot.add_node(pydot.Node(str(id(layer)), label=label.replace("\n", "|")))
    for source, target in edges:
        dot.add_edge(pydot.Edge(str(id(layers[source])), str(id(layers[target]))))
    return dot


def _draw(model, layers, edges, depths, labels, rankdir):
    from matplotlib.figure import Figure  # an optional extra, needed only to draw

    rows = {}
    for i, depth in enumerate(depths):
        rows.setdefault(depth, []).append(i)
    width = max(len(r) for r in rows.values())
    lines = max(label.count("\n") + 1 for label in labels)
    box_w, box_h = 3.2, 0.45 * lines + 0.3
    positions = {}
    for depth, members in rows.items():
        for k, i in enumerate(members):
            across = (k - (len(members) - 1) / 2) * (box_w + 0.6)
            along = -depth * (box_h + 0.8)
            positions[i] = (across, along) if rankdir == "TB" else (-along * 2.0, -across / 2.0)
    size = ((width * (box_w + 0.6), len(rows) * (box_h + 0.8)) if rankdir == "TB"
            else (len(rows) * (box_w + 1.0), width * (box_h + 0.8)))
    fig = Figure(figsize=(max(size[0], 3.0), max(size[1], 1.5)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    xs, ys = [p[0] for p in positions.values()], [p[1] for p in positions.values()]
    ax.set_xlim(min(xs) - box_w, max(xs) + box_w)
    ax.set_ylim(min(ys) - box_h, max(ys) + box_h)
    for source, target in edges:
        ax.annotate("", xy=positions[target], xytext=positions[source],
                    arrowprops={"arrowstyle": "->", "shrinkA": 22, "shrinkB": 22, "color": "0.3"})
    for i, label in enumerate(labels):
        ax.text(*positions[i], label, ha="center", va="center", fontsize=9, family="monospace",
                bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.2"})
    return fig


def plot_model(model, to_file="model.png", show_shapes=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=96):
    """Write a picture of ``model`` to ``to_file`` (the format from its extension: png, svg, pdf,
    jpg; none means png). Through pydot and graphviz when both are installed, as Keras 2 does;
    else drawn with matplotlib (the same labels, layers placed by depth from the inputs)."""
    _check_rankdir(rankdir)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1].lower().lstrip(".") or "png"
    if getattr(model, "built", True) is False:
        raise ValueError("plot_model: the model is not built yet: give its first layer an input shape, call "
                         "model.build(input_shape), or fit/call it once")
    try:
        dot = model_to_dot(model, show_shapes, show_layer_names, rankdir, expand_nested, dpi)
        dot.write(to_file, format=extension)
        return None
    except (ImportError, OSError, FileNotFoundError, AssertionError):
        pass   # no pydot or no graphviz program: draw it ourselves
    layers, edges, depths = model_graph(model)
    if not layers:
        raise ValueError("plot_model: the model has no layers to draw")
    fig = _draw(model, layers, edges, depths, _labels(model, layers, edges, show_shapes, show_layer_names), rankdir)
    save_figure(fig, to_file, image_format=extension, dpi=dpi)
    return None
