"""The functional API: ``Model(inputs, outputs)`` over a graph of layer calls.

    >>> from kerosene.layers import Input, Dense, concatenate
    >>> from kerosene.models import Model
    >>> a, b = Input(shape=(4,), name='a'), Input(shape=(3,), name='b')
    >>> merged = concatenate([Dense(8, activation='relu')(a), b])
    >>> out, aux = Dense(1, name='out')(merged), Dense(2, activation='softmax', name='aux')(merged)
    >>> model = Model(inputs=[a, b], outputs=[out, aux])
    >>> model.output_names
    ['out', 'aux']

Calling a layer on symbolic tensors (``Input()`` or another layer's output) records a
:class:`~kerosene.symbolic.Node`; ``Model`` walks the nodes from the
outputs back to the inputs and runs them in that order on real tensors.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from .. import layers as layers_module
from .._naming import layer_name
from ..layers.base import Layer
from ..layers.masking import attach_mask, call_with_mask, makes_masks, output_mask
from ..legacy.interfaces import legacy_support
from ..saving.config import layer_config
from ..saving.registry import MODEL_CLASSES
from ..symbolic import as_keras_tensor, call_symbolic, is_symbolic, nodes_between, run_nodes
from .model import Model  # the one circle: Model() with inputs/outputs makes a Functional

__all__ = ["Functional"]


def _as_structure(value, argname):
    """(list of KerasTensors, names or None) from a tensor, a list or a dict of them."""
    if isinstance(value, dict):
        names = list(value)
        tensors = [value[k] for k in names]
    elif isinstance(value, (list, tuple)):
        names, tensors = None, list(value)
    else:
        names, tensors = None, [value]
    if not tensors:
        raise ValueError(f"Model(): `{argname}` must hold at least one tensor, got {value!r}")
    for t in tensors:
        if not is_symbolic(t) or isinstance(t, (list, tuple)):
            raise TypeError(f"Model(): `{argname}` must be symbolic tensors from Input() or from calling layers "
                            f"on them, got {type(t).__name__}")
    return [as_keras_tensor(t) for t in tensors], names


class Functional(Model):
    """A model defined by a graph of layer calls (see the module docstring).

    ``inputs``/``outputs`` are one symbolic tensor, a list, or a dict of them. Fit with
    arrays in the same structure (a dict keyed by input layer names also works); a
    model of several outputs takes per-output ``loss``/``loss_weights``/``metrics``
    (lists, or dicts keyed by output layer names) and logs ``<output>_loss``.
    """

    @legacy_support("Model")  # Keras 1's Model(input=, output=)
    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"Model() got unexpected keyword arguments {sorted(kwargs)}")
        if inputs is None or outputs is None:
            raise TypeError("Model(inputs, outputs): both `inputs` and `outputs` are required")
        super().__init__(name=name)
        self._inputs, self._input_keys = _as_structure(inputs, "inputs")
        self._single_input = not isinstance(inputs, (list, tuple, dict))
        self._outputs, self._output_keys = _as_structure(outputs, "outputs")
        self._single_output = len(self._outputs) == 1 and self._output_keys is None
        for t in self._inputs:
            # an Input(tensor=...) has the tensor it stands for as its node's input
            if t.node is None or t.node.inputs and getattr(type(t.node.layer), "is_input_layer", False) is not True:
                raise ValueError(f"Model(): every input must come from Input(); {t!r} is a layer's output")
        self._nodes = self._topological_nodes()
        ordered = []
        for t in self._inputs:
            ordered.append(t.node.layer)
        for node in self._nodes:
            if all(node.layer is not seen for seen in ordered):
                ordered.append(node.layer)
        names = [layer_name(layer) for layer in ordered]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Model(): layer names must be unique, these appear more than once: {duplicates}")
        self._graph_layers = nn.ModuleList(ordered)
        calls = [node.layer for node in self._nodes]
        self.__dict__["_shared_layers"] = [layer for layer in ordered if sum(c is layer for c in calls) > 1]

    # --- the graph ------------------------------------------------------------------
    def _topological_nodes(self):
        return nodes_between(self._inputs, self._outputs)

    @property
    def layers(self):
        return list(self._graph_layers)

    @property
    def inputs(self):
        return None if self.__dict__.get("_inputs_unset") else list(self._inputs)

    @inputs.setter
    def inputs(self, value):
        # Keras 2 code clears the inputs, then sets them back with _set_inputs.
        if value is not None:
            raise ValueError(f"Model {self.name!r}: `inputs` can only be set to None (then call _set_inputs); "
                             "to use other inputs, build a new Model(inputs, outputs)")
        self.__dict__["_inputs_unset"] = True

    def _set_inputs(self, inputs):
        """Keras 2's: set the inputs back after ``model.inputs = None`` (the graph's own inputs)."""
        if not self.__dict__.get("_inputs_unset"):
            raise ValueError(f"Model {self.name!r} already has its inputs; set model.inputs = None first")
        tensors, _ = _as_structure(inputs, "inputs")
        if [id(t) for t in tensors] != [id(t) for t in self._inputs]:
            raise ValueError(f"Model {self.name!r}: _set_inputs takes the model's own inputs "
                             f"{[t.name for t in self._inputs]}, got {[t.name for t in tensors]}")
        self.__dict__["_inputs_unset"] = False

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        """The input tensor, or the list of them for several inputs (Keras 2's ``model.input``)."""
        return self._inputs[0] if len(self._inputs) == 1 else list(self._inputs)

    @property
    def output(self):
        return self._outputs[0] if len(self._outputs) == 1 else list(self._outputs)

    @property
    def input_names(self):
        return [layer_name(t.node.layer) for t in self._inputs]

    @property
    def output_names(self):
        """The output layers' names, a list also for one output (Keras 2's ``model.output_names``)."""
        if self._output_keys is not None:
            return list(self._output_keys)
        return [layer_name(t.node.layer) for t in self._outputs]

    def _output_names(self):
        # The engine keys losses and logs per output only for several outputs.
        return None if self._single_output else self.output_names

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def built(self):
        return True

    # --- running --------------------------------------------------------------------
    def _bind_inputs(self, args):
        if len(args) == 1:
            data = args[0]
        else:
            data = list(args)
        n = len(self._inputs)
        if isinstance(data, dict):
            keys = self._input_keys or self.input_names
            missing = [k for k in keys if k not in data]
            if missing:
                raise ValueError(f"Model {self.name!r}: the input dict lacks {missing}; expected keys {keys}, "
                                 f"got {sorted(data)}")
            return [data[k] for k in keys]
        if isinstance(data, (list, tuple)):
            if len(data) != n:
                raise ValueError(f"Model {self.name!r} expects {n} input(s) {self.input_names}, got a "
                                 f"{type(data).__name__} of {len(data)}")
            return list(data)
        if n != 1:
            raise ValueError(f"Model {self.name!r} expects {n} inputs {self.input_names}, got one tensor")
        return [data]

    _attaches_masks = True  # a model gives its outputs' masks on the output tensors (layers.masking)

    def _makes_masks(self):
        found = self.__dict__.get("_mask_check")
        if found is None:
            found = self.__dict__["_mask_check"] = makes_masks(self._graph_layers)
        return found

    def forward(self, *args, mask=None, **kwargs):
        if args and not isinstance(args[0], torch.Tensor) and is_symbolic(args[0]):
            # Called on symbolic tensors, the model is one layer of the new graph (Keras 2), not inlined.
            return call_symbolic(self, *args, **kwargs)
        values = {id(t): v for t, v in zip(self._inputs, self._bind_inputs(args))}
        shared = self.__dict__.get("_shared_layers")
        if shared:
            with pooled_losses(shared):
                results = self._run(values, mask)
        else:   # most graphs: no context manager on the step's path
            results = self._run(values, mask)
        if self._single_output:
            return results[0]
        if self._output_keys is not None:
            return dict(zip(self._output_keys, results))
        return results

    def _run(self, values, mask):
        if mask is None and not self._makes_masks():
            run_nodes(self._nodes, values)
            return [values[id(t)] for t in self._outputs]
        return self._run_masked(values, mask)

    def _run_masked(self, values, mask):
        """The graph with Keras 2 masks: each call gets its inputs' masks, each output carries the
        mask its layer passes on; the model's outputs carry theirs (what the loss reads)."""
        given = mask if isinstance(mask, (list, tuple)) else [mask] * len(self._inputs)
        masks = {id(t): m for t, m in zip(self._inputs, given)}
        for node in self._nodes:
            if isinstance(node.inputs, (list, tuple)):
                arg, arg_mask = [values[id(t)] for t in node.inputs], [masks.get(id(t)) for t in node.inputs]
            else:
                arg, arg_mask = values[id(node.inputs)], masks.get(id(node.inputs))
            out = call_with_mask(node.layer, arg, arg_mask, **node.kwargs)
            out_mask = output_mask(node.layer, arg, arg_mask, out)
            outs = list(out) if isinstance(out, (list, tuple)) else [out]
            out_masks = list(out_mask) if isinstance(out_mask, (list, tuple)) else [out_mask] * len(outs)
            for t, value, m in zip(node.outputs, outs, out_masks):
                values[id(t)], masks[id(t)] = value, m
        return [attach_mask(values[id(t)], masks.get(id(t))) for t in self._outputs]

    def check_input(self, x, samples=None):
        """A clear error when array inputs do not match the declared input shapes."""
        data = self._bind_inputs((x,))
        for t, value in zip(self._inputs, data):
            if not isinstance(value, torch.Tensor):
                continue
            expected, got = t.shape[1:], tuple(value.shape[1:])
            if len(expected) != len(got) or any(e is not None and e != g for e, g in zip(expected, got)):
                raise ValueError(f"Input {t.name!r} of model {self.name!r} is incompatible: expected shape "
                                 f"{t.shape}, got data of shape {tuple(value.shape)}")

    # --- config ---------------------------------------------------------------------
    def get_config(self):
        """Keras 2's functional config: ``layers`` with ``inbound_nodes``, ``input_layers``,
        ``output_layers``. Lambda layers as Keras 2 has them (a lambda as byte code, a
        module-level function by name), with the function's module."""
        node_index = {}
        for layer in self.layers:
            nodes = [n for n in self._nodes if n.layer is layer]
            for i, node in enumerate(nodes):
                node_index[id(node)] = i
        for t in self._inputs:
            node_index[id(t.node)] = 0

        def ref(tensor):
            return [layer_name(tensor.node.layer), node_index[id(tensor.node)], tensor.index]

        layers = []
        for layer in self.layers:
            if isinstance(layer, layers_module.Lambda):
                spec = {"class_name": "Lambda", "config": layer.get_config()}
                spec["config"]["module"] = getattr(layer.function, "__module__", None)
            elif layer is not None and type(layer).__name__ == "InputLayer":
                spec = {"class_name": "InputLayer", "config": layer.get_config()}
            else:
                spec = layer_config(layer, self)
            inbound = []
            for node in (n for n in self._nodes if n.layer is layer):
                entries = [ref(t) + [dict(node.kwargs)] for t in node.flat_inputs()]
                inbound.append(entries)
            spec["name"] = layer_name(layer)
            spec["inbound_nodes"] = inbound
            layers.append(spec)
        return {"name": self.name, "layers": layers,
                "input_layers": [ref(t) for t in self._inputs],
                "output_layers": [ref(t) for t in self._outputs],
                "input_keys": self._input_keys, "output_keys": self._output_keys,
                "single_input": self._single_input, "single_output": self._single_output}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        """Rebuild the graph (fresh weights) from :meth:`get_config`'s output.

        A Lambda's function is the one its config describes when this process made the config;
        otherwise it comes from ``custom_objects`` (by its name), and only with ``safe_mode=False``
        from its byte code or the module it was saved from (``Lambda.from_config``).
        """
        custom_objects = dict(custom_objects or {})
        made = {}
        for spec in config["layers"]:
            name = spec.get("name") or spec["config"]["name"]
            layer_cfg = dict(spec.get("config") or {})
            if spec["class_name"] == "InputLayer":
                made[name] = layers_module.InputLayer(**layer_cfg)
                continue
            if spec["class_name"] == "Lambda" and "Lambda" not in custom_objects:
                made[name] = layers_module.Lambda.from_config(layer_cfg, custom_objects=custom_objects,
                                                              safe_mode=safe_mode)
                continue
            nested = MODEL_CLASSES.find(spec["class_name"]) if spec["class_name"] in MODEL_CLASSES else None
            if isinstance(nested, type) and issubclass(nested, Model):  # a model used as a layer
                made[name] = (nested.from_config(layer_cfg, custom_objects=custom_objects, safe_mode=safe_mode)
                              if issubclass(nested, Functional) else
                              nested.from_config(layer_cfg, custom_objects=custom_objects))
                continue
            made[name] = layers_module.deserialize({"class_name": spec["class_name"], "config": layer_cfg},
                                                   custom_objects=custom_objects)
        outputs = {}  # (layer name, node index) -> list of output tensors
        for name, layer in made.items():
            if isinstance(layer, layers_module.InputLayer):
                outputs[(name, 0)] = [as_keras_tensor(layer)]
        pending = [(spec.get("name") or spec["config"]["name"], i, entries)
                   for spec in config["layers"] for i, entries in enumerate(spec.get("inbound_nodes") or [])]
        while pending:
            progressed = False
            for item in list(pending):
                name, index, entries = item
                if not all((e[0], e[1]) in outputs for e in entries):
                    continue
                args = [outputs[(e[0], e[1])][e[2]] for e in entries]
                kwargs = entries[0][3] if len(entries[0]) > 3 else {}
                multi = _takes_list(made[name], len(args))
                result = call_symbolic(made[name], args if multi else args[0], **kwargs)
                outputs[(name, index)] = result if isinstance(result, list) else [result]
                pending.remove(item)
                progressed = True
            if not progressed:
                raise ValueError(f"The model config's layer graph cannot be rebuilt: unresolved nodes {pending[:3]}")

        def tensors(refs, keys, single):
            ts = [outputs[(r[0], r[1])][r[2]] for r in refs]
            if single:
                return ts[0]
            return dict(zip(keys, ts)) if keys else ts

        return cls(tensors(config["input_layers"], config.get("input_keys"), config.get("single_input", False)),
                   tensors(config["output_layers"], config.get("output_keys"), config.get("single_output", False)),
                   name=config.get("name"))


def _takes_list(layer, n_args):
    """Whether the recorded call passed a list (merge layers) rather than one tensor."""
    return n_args > 1 or getattr(layer, "_takes_list_input", False) or type(layer).__module__.endswith(".merge")


@contextlib.contextmanager
def pooled_losses(shared_layers):
    """While a graph runs, the activity penalties and ``add_loss`` values of the layers it calls
    more than once (and of the layers inside them) pool over the calls, as Keras 2 counts one per
    call; a layer's own call otherwise keeps only its latest. An enclosing graph's pass that
    already pools a layer is left to finish it."""
    opened = []
    for layer in shared_layers:
        for module in layer.modules():
            if isinstance(module, Layer) and not module.__dict__.get("_pooling_losses") and (
                    module.activity_regularizer is not None or module.__dict__.get("_adds_losses")):
                module._activity_losses, module.__dict__["_call_losses"] = [], []
                module.__dict__["_pooling_losses"] = True
                opened.append(module)
    try:
        yield
    finally:
        for module in opened:
            module.__dict__["_pooling_losses"] = False
