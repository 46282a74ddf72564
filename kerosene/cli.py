"""The ``kerosene`` command: ``demo``, ``plot`` and ``inspect``.

Example::

    kerosene demo                              # train the spec's model on the digits
    kerosene plot training.csv -o curves.png   # curves from a CSVLogger file
    kerosene inspect best.h5                   # layers, weight shapes, training config, Keras-loadable?
    kerosene inspect best.keras                # the same for a Keras 3 archive
"""
from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["main", "inspect_h5", "format_inspection", "build_parser"]

# Keras's built-in layer classes (Keras 2 names). A saved config naming any other class
# needs `custom_objects` before Keras can rebuild the model.
KERAS_LAYER_CLASSES = frozenset("""
    InputLayer Dense Activation Dropout Flatten Reshape Permute RepeatVector Masking ActivityRegularization
    Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose SeparableConv1D SeparableConv2D
    DepthwiseConv1D DepthwiseConv2D MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D
    AveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D
    GlobalAveragePooling2D GlobalAveragePooling3D BatchNormalization LayerNormalization GroupNormalization
    UnitNormalization Embedding SimpleRNN LSTM GRU ConvLSTM1D ConvLSTM2D Bidirectional TimeDistributed
    Add Subtract Multiply Average Maximum Minimum Concatenate Dot GaussianNoise GaussianDropout AlphaDropout
    SpatialDropout1D SpatialDropout2D SpatialDropout3D ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D
    Cropping2D Cropping3D UpSampling1D UpSampling2D UpSampling3D LeakyReLU PReLU ELU ReLU Softmax
    Attention MultiHeadAttention Rescaling Normalization
""".split())
KERAS_MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
KERAS2_ROOT_ATTRS = ("layer_names", "backend", "keras_version")


# --- reading an HDF5 file ----------------------------------------------------------
def _text(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _string_list(group, name):
    """A list attribute, also when Keras split it over ``name0``, ``name1``... (64 KiB attribute cap)."""
    if name in group.attrs:
        return [_text(v) for v in group.attrs[name]]
    parts, index = [], 0
    while f"{name}{index}" in group.attrs:
        parts.extend(_text(v) for v in group.attrs[f"{name}{index}"])
        index += 1
    return parts if index else None


def _json_attr(group, name, problems):
    if name not in group.attrs:
        return None
    try:
        return json.loads(_text(group.attrs[name]))
    except ValueError as error:
        problems.append(f"the {name!r} attribute is not valid JSON ({error})")
        return None


def _weights_of(layer_group, weight_names):
    """``[(name, shape or None)]`` for one layer group (``None``: the name points at nothing)."""
    import h5py
    if weight_names is None:
        found = []
        layer_group.visititems(lambda name, obj: found.append((name, tuple(obj.shape)))
                               if isinstance(obj, h5py.Dataset) else None)
        return found
    out = []
    for name in weight_names:
        obj = layer_group.get(name)
        out.append((name, tuple(obj.shape) if isinstance(obj, h5py.Dataset) else None))
    return out


def _keras2_layers(group, problems):
    """Layers of a Keras 2 weights group, checking every link Keras's loader follows."""
    names = _string_list(group, "layer_names")
    if names is None:
        names = list(group.keys())
    layers = []
    for name in names:
        if name not in group:
            problems.append(f"layer {name!r} is listed in layer_names but has no group")
            continue
        weight_names = _string_list(group[name], "weight_names")
        if weight_names is None:
            problems.append(f"layer group {name!r} has no 'weight_names' attribute")
        weights = _weights_of(group[name], weight_names)
        for weight, shape in weights:
            if shape is None:
                problems.append(f"layer {name!r} names weight {weight!r}, which is not in the file")
        layers.append({"name": name, "weights": [{"name": w, "shape": s} for w, s in weights]})
    return layers


def _keras3_layers(group):
    """Layers of a Keras 3 ``.weights.h5`` file (``layers/<name>/vars/<i>``)."""
    import h5py
    layers = []

    def visit(path, obj):
        if isinstance(obj, h5py.Group) and path.startswith("layers/") and path.endswith("/vars") and len(obj):
            layers.append({"name": path[len("layers/"):-len("/vars")],
                           "weights": [{"name": key, "shape": tuple(obj[key].shape)}
                                       for key in sorted(obj, key=lambda k: int(k) if k.isdigit() else k)]})
    group.visititems(visit)
    return layers


def _config_classes(config):
    """Every layer class a model config names, wrappers' inner layers included."""
    found = []
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict):
            found.append(config["class_name"])
        for key in ("layers", "layer", "backward_layer"):
            inner = (config.get("config") or {}).get(key) if "config" in config else config.get(key)
            items = inner if isinstance(inner, list) else [inner] if isinstance(inner, dict) else []
            for item in items:
                found.extend(_config_classes(item))
    return found


def _model_layers_from_config(model_config):
    config = (model_config or {}).get("config") or {}
    layers = config.get("layers") if isinstance(config, dict) else None
    return [{"name": (l.get("config") or {}).get("name"), "class_name": l.get("class_name")}
            for l in layers or [] if isinstance(l, dict)]


def _input_shape(model_config):
    config = (model_config or {}).get("config") or {}
    if isinstance(config, dict):
        if config.get("build_input_shape"):
            return tuple(config["build_input_shape"])
        for layer in config.get("layers") or []:
            inner = layer.get("config") or {}
            for key in ("batch_input_shape", "batch_shape"):
                if inner.get(key):
                    return tuple(inner[key])
    return None


def inspect_h5(path):
    """Describe a kerosene or Keras HDF5 file: a dict with the layers, weight shapes,
    configs and a verdict on whether Keras can load it.

    Example::

        report = inspect_h5('best.h5')
        report['keras_loadable'], report['layers'][0]['weights']
    """
    import h5py

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    if path.lower().endswith(".keras"):
        from .saving.keras_inspect import inspect_keras   # the archive reader lives with the other savers
        return inspect_keras(path)
    if not h5py.is_hdf5(path):
        with open(path, "rb") as handle:
            head = handle.read(4)
        hint = ("it is a zip archive (a torch .pt file, or a Keras 3 archive: name it .keras); kerosene inspect "
                "reads HDF5 (.h5/.hdf5/.weights.h5) files and .keras archives" if head.startswith(b"PK") else
                "kerosene inspect reads HDF5 files (.h5/.hdf5/.weights.h5), as model.save and save_weights write them")
        raise ValueError(f"{path!r} is not an HDF5 file: {hint}")
    problems, notes = [], []
    with h5py.File(path, "r") as f:
        root_attrs = {k: _text(f.attrs[k]) for k in ("keras_version", "backend") if k in f.attrs}
        model_config = _json_attr(f, "model_config", problems)
        training_config = _json_attr(f, "training_config", problems)
        if "model_weights" in f:
            kind = "model"
            weights_group = f["model_weights"]
        elif "layers" in f and _string_list(f, "layer_names") is None:
            kind = "keras3_weights"
            weights_group = f
        else:
            kind = "weights"
            weights_group = f
        if kind == "keras3_weights":
            layers = _keras3_layers(f)
            keras2 = False
            problems.append("this is Keras 3's .weights.h5 layout, not Keras 2's: Keras 3 loads it with "
                            "model.load_weights into the same architecture, Keras 2 cannot read it")
        else:
            missing = [a for a in KERAS2_ROOT_ATTRS if _string_list(weights_group, a) is None
                       and a not in weights_group.attrs]
            where = "the model_weights group" if kind == "model" else "the file's root"
            for attr in missing:
                problems.append(f"{where} lacks the {attr!r} attribute Keras's HDF5 loader reads")
            layers = _keras2_layers(weights_group, problems)
            keras2 = not missing
        for attr in ("keras_version", "backend"):
            if attr in weights_group.attrs:
                root_attrs.setdefault(attr, _text(weights_group.attrs[attr]))
        optimizer_arrays = 0
        for name in ("optimizer_weights", "kerosene_optimizer_state", "optimizer"):
            if name in f:
                optimizer_arrays += sum(1 for _ in _datasets(f[name]))
        if "kerosene_optimizer_state" in f and "optimizer_weights" not in f:
            notes.append("the optimizer state is kerosene's own (Keras rebuilds a fresh optimizer from "
                         "training_config)")
        written_by_kerosene = any(k.startswith("kerosene") for k in list(f.attrs) + list(weights_group.attrs))
    if kind == "model":
        if model_config is None:
            problems.append("the file has model_weights but no 'model_config' attribute, so Keras cannot "
                            "rebuild the architecture (load it with load_weights instead)")
        classes = _config_classes(model_config) if model_config else []
        custom = sorted({c for c in classes[1:] if c not in KERAS_LAYER_CLASSES})
        if model_config and model_config.get("class_name") not in KERAS_MODEL_CLASSES:
            custom.insert(0, model_config.get("class_name"))
        if custom:
            problems.append(f"the config names classes that are not Keras built-ins: {custom}; Keras needs "
                            "them passed as custom_objects")
        first = (_model_layers_from_config(model_config) or [{}])[0]
        raw_layers = ((model_config or {}).get("config") or {}).get("layers") or []
        if (model_config or {}).get("class_name") == "Sequential" and first.get("class_name") != "InputLayer" \
                and raw_layers and "batch_input_shape" in (raw_layers[0].get("config") or {}):
            notes.append("the Sequential config has no InputLayer entry (Keras 2 writes one): Keras 3 then "
                         "takes the first layer's batch_input_shape as a shape without the batch axis and "
                         "builds the model for one dimension too many")
        config_layers = {l["name"]: l["class_name"] for l in _model_layers_from_config(model_config)}
        for layer in layers:
            layer["class_name"] = config_layers.get(layer["name"])
    total = sum(_size(w["shape"]) for layer in layers for w in layer["weights"] if w["shape"] is not None)
    return {
        "path": path,
        "bytes": os.path.getsize(path),
        "kind": kind,
        "keras_version": root_attrs.get("keras_version"),
        "backend": root_attrs.get("backend"),
        "written_by_kerosene": written_by_kerosene,
        "model_class": (model_config or {}).get("class_name"),
        "model_name": ((model_config or {}).get("config") or {}).get("name") if model_config else None,
        "input_shape": _input_shape(model_config),
        "layers": layers,
        "total_weights": total,
        "training_config": training_config,
        "optimizer_arrays": optimizer_arrays,
        "keras2_layout": keras2,
        "keras_loadable": not problems,
        "problems": problems,
        "notes": notes,
    }


def _datasets(group):
    import h5py
    found = []
    group.visititems(lambda _, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
    return found


def _size(shape):
    count = 1
    for d in shape:
        count *= d
    return count


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _optimizer_text(config):
    optimizer = (config or {}).get("optimizer_config")
    if not isinstance(optimizer, dict):
        return str(optimizer)
    settings = optimizer.get("config") or {}
    shown = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "name" and v is not None and v is not False)
    return f"{optimizer.get('class_name')} ({shown})"


def format_inspection(report):
    """The human-readable text ``kerosene inspect`` prints for :func:`inspect_h5`'s report.

    Example::

        print(format_inspection(inspect_h5('best.h5')))
    """
    kinds = {"model": "whole model (architecture + weights" +
             (" + training config)" if report["training_config"] else ")"),
             "weights": "weights only", "keras3_weights": "weights only, Keras 3 layout",
             "keras_archive": "whole model, Keras 3 .keras archive (config.json + model.weights.h5"
             + (" + compile config)" if report["training_config"] else ")")}
    lines = [f"File:    {report['path']} ({report['bytes']:,} bytes)",
             f"Content: {kinds[report['kind']]}" + (", written by kerosene" if report["written_by_kerosene"] else "")]
    if report["keras_version"] or report["backend"]:
        lines.append(f"Stamped: keras_version {report['keras_version']}"
                     + (f", backend {report['backend']}" if report["backend"] else ""))
    if report["model_class"]:
        shape = report["input_shape"]
        lines.append(f"Model:   {report['model_class']} {report['model_name']!r}"
                     + (f", input shape {_shape_text(shape)}" if shape else ""))
    lines.append("")
    lines.append("Layers and weights:")
    width = max([len(l["name"]) + len(l.get("class_name") or "") + 3 for l in report["layers"]] + [10])
    for layer in report["layers"]:
        label = layer["name"] + (f" ({layer['class_name']})" if layer.get("class_name") else "")
        weights = "  ".join(f"{w['name'].split('/')[-1]} {_shape_text(w['shape']) if w['shape'] else 'MISSING'}"
                            for w in layer["weights"]) or "no weights"
        lines.append(f"  {label.ljust(width)}  {weights}")
    arrays = sum(len(l["weights"]) for l in report["layers"])
    lines.append(f"  Total: {report['total_weights']:,} weight values in {arrays} arrays")
    config = report["training_config"]
    if config:
        lines.append("")
        lines.append("Training config:")
        lines.append(f"  optimizer: {_optimizer_text(config)}")
        lines.append(f"  loss:      {config.get('loss')}")
        lines.append(f"  metrics:   {config.get('metrics')}")
        if config.get("loss_weights") is not None:
            lines.append(f"  loss_weights: {config.get('loss_weights')}")
    elif report["kind"] == "model":
        lines.append("")
        lines.append("Training config: none (saved uncompiled or with include_optimizer=False)")
    if report["optimizer_arrays"]:
        lines.append(f"Optimizer state: {report['optimizer_arrays']} arrays")
    lines.append("")
    if report["keras_loadable"] and report["kind"] == "keras_archive":
        lines.append("Keras can load it: yes, Keras 3 with keras.saving.load_model (kerosene with "
                     "kerosene.models.load_model)")
    elif report["keras_loadable"]:
        how = "keras.models.load_model" if report["kind"] == "model" else "model.load_weights"
        lines.append(f"Keras can load it: yes, with {how} (Keras 2 HDF5 layout: root attributes "
                     "layer_names/backend/keras_version, weight_names on every layer"
                     + (", only Keras built-in layer classes" if report["kind"] == "model" else "") + ")")
    else:
        lines.append("Keras can load it: no")
        lines.extend(f"  - {problem}" for problem in report["problems"])
    lines.extend(f"Note: {note}" for note in report["notes"])
    return "\n".join(lines)


# --- commands ----------------------------------------------------------------------
def _run_demo(args):
    from .demo import DEFAULT_EPOCHS, run_demo  # start-up time: `kerosene inspect` needs no torch model
    epochs = args.epochs
    if epochs is None:
        from_env = os.environ.get("KEROSENE_DEMO_EPOCHS")
        try:
            epochs = _positive_int(from_env) if from_env else DEFAULT_EPOCHS
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"KEROSENE_DEMO_EPOCHS: {error}") from None
    run_demo(args.output_dir, epochs=epochs, batch_size=args.batch_size, patience=args.patience,
             seed=args.seed, verbose=args.verbose)
    return 0


def _run_plot(args):
    from .utils.plotting import plot_history  # start-up time: matplotlib only for `kerosene plot`
    output = args.output or os.path.splitext(args.log)[0] + ".png"
    plot_history(args.log, metrics=args.metrics, title=args.title, filepath=output, separator=args.separator)
    print(f"Wrote {output}")
    return 0


def _run_inspect(args):
    report = inspect_h5(args.file)
    if args.json:
        print(json.dumps(report, indent=2, default=list))
    else:
        print(format_inspection(report))
    return 0 if report["keras_loadable"] or not args.strict else 3


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def build_parser():
    """The argparse parser behind ``kerosene`` (one sub-command per job)."""
    from .demo import DEFAULT_EPOCHS  # start-up time, as above
    parser = argparse.ArgumentParser(
        prog="kerosene", description="The Keras training API on PyTorch: demo, training curves, saved-file inspection.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo", help="train the Keras spec's model on the bundled digits",
        description="Train Dense(10)+softmax with rmsprop on scikit-learn's digits (validation split, progress "
                    "bar, LossHistory, ModelCheckpoint(save_best_only=True), CSVLogger, EarlyStopping), reload "
                    "the best checkpoint, print its test accuracy and draw the curves to a PNG.")
    demo.add_argument("--epochs", type=_positive_int, default=None,
                      help=f"most epochs to train; EarlyStopping may stop sooner (default {DEFAULT_EPOCHS}, "
                           "or $KEROSENE_DEMO_EPOCHS)")
    demo.add_argument("--output-dir", default="kerosene-demo",
                      help="folder for best.h5, training.csv and curves.png (default: kerosene-demo)")
    demo.add_argument("--batch-size", type=_positive_int, default=32, help="samples per step (default 32)")
    demo.add_argument("--patience", type=int, default=3, help="EarlyStopping patience in epochs (default 3)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                      help="fit's verbose: 1 progress bar, 2 one line per epoch, 0 silent (default 1)")
    demo.set_defaults(run=_run_demo)

    plot = commands.add_parser(
        "plot", help="draw training curves from a CSVLogger file",
        description="Draw one panel per metric from a CSVLogger file, training and validation curves together.")
    plot.add_argument("log", metavar="LOG.csv", help="a file written by kerosene.callbacks.CSVLogger")
    plot.add_argument("-o", "--output", metavar="IMAGE",
                      help="image to write (.png, .svg, .pdf, .jpg); default: LOG with a .png extension")
    plot.add_argument("--metrics", nargs="+", metavar="NAME", help="metrics to draw (default: all; loss first)")
    plot.add_argument("--title", help="a title above the panels")
    plot.add_argument("--separator", default=",", help="the CSVLogger separator (default ',')")
    plot.set_defaults(run=_run_plot)

    inspect = commands.add_parser(
        "inspect", help="show what an HDF5 or .keras model or weights file holds, and whether Keras can load it",
        description="List the layers and weight shapes of a .h5 file written by model.save, save_weights or "
                    "ModelCheckpoint (or by Keras), its saved training config, and whether it has the Keras 2 "
                    "HDF5 layout that Keras loads; or the same for a Keras 3 .keras archive.")
    inspect.add_argument("file", metavar="FILE", help="an HDF5 model or weights file, or a .keras archive")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.add_argument("--strict", action="store_true", help="exit with status 3 when Keras cannot load the file")
    inspect.set_defaults(run=_run_inspect)
    return parser


def main(argv=None):
    """Run the ``kerosene`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, TypeError, ImportError, OSError) as error:
        print(f"kerosene {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"kerosene {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
