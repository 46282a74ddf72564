"""An optimizer's state as Keras 3 stores it (``optimizer/vars/0..n``), to and from kerosene's.

Keras 3 lists an optimizer's variables as ``iterations``, ``learning_rate``, then
each group of slots it builds: a group of several slot names is interleaved per model
variable (Adam: ``momentum, velocity`` of the first variable, then of the second ...),
groups follow one another (RMSprop: every ``velocity``, then every ``momentum``).
Model variables come in Keras's order (layer by layer, trainable ones) and Keras's
orientation; kerosene's optimizers keep the same slots, by the same names, per torch
parameter, in torch's orientation. This module converts between the two.

Example::

    arrays = optimizer_to_keras3(model)             # what model.save('m.keras') writes
    optimizer_from_keras3(model, arrays, 'm.keras')  # after compile: fit continues
"""
from __future__ import annotations

import numpy as np
import torch

from .. import optimizers
from .errors import file_error
from .keras3_weights import trainable_entries

__all__ = ["optimizer_to_keras3", "optimizer_from_keras3", "slot_groups"]


def slot_groups(optimizer):
    """Keras 3's groups of slot names for a kerosene optimizer, or None when unknown."""
    hyper = optimizer.defaults
    if isinstance(optimizer, optimizers.Adam):
        return [("momentum", "velocity")] + ([("velocity_hat",)] if hyper.get("amsgrad") else [])
    table = {optimizers.Nadam: [("momentum", "velocity")], optimizers.Adamax: [("momentum", "norm")],
             optimizers.Adagrad: [("accumulator",)],
             optimizers.Adadelta: [("accumulated_grad", "accumulated_delta_var")]}
    for cls, groups in table.items():
        if isinstance(optimizer, cls):
            return groups
    if isinstance(optimizer, optimizers.RMSprop):
        return [("velocity",)] + ([("momentum",)] if hyper.get("momentum", 0) > 0 else []) + (
            [("average_gradient",)] if hyper.get("centered") else [])
    if isinstance(optimizer, optimizers.SGD):
        return [("momentum",)] if hyper.get("momentum", 0) != 0 else []
    return None


def _keras_variables(model, optimizer):
    """(param, to_keras, from_keras) for each variable the optimizer trains, in Keras's order."""
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    out, seen = [], set()
    for param, to_keras, from_keras in trainable_entries(model):
        if id(param) in owned and id(param) not in seen:
            seen.add(id(param))
            out.append((param, to_keras, from_keras))
    missing = len(owned) - len(out)
    if missing:
        raise ValueError(f"the optimizer trains {missing} parameters that are not weights of the model's layers")
    return out


def _initial_slot(optimizer, name, param):
    if name == "accumulator":
        return torch.full_like(param, optimizer.defaults.get("initial_accumulator_value", 0.0))
    return torch.zeros_like(param)


def optimizer_to_keras3(model):
    """Keras 3's list of optimizer arrays for ``model``'s compiled optimizer, or None when its
    slots have no Keras 3 equivalent (a plain torch optimizer)."""
    state = getattr(model, "_compile_state", None)
    optimizer = getattr(state, "optimizer", None)
    groups = slot_groups(optimizer) if optimizer is not None else None
    if groups is None or not getattr(optimizer, "built", False):
        return None
    arrays = [np.asarray(optimizer.iterations, dtype="int64"),
              np.asarray(float(optimizer.learning_rate), dtype="float32")]
    variables = _keras_variables(model, optimizer)
    for group in groups:
        for param, to_keras, _ in variables:
            slots = optimizer.state.get(param, {})
            for name in group:
                value = slots.get(name)
                value = _initial_slot(optimizer, name, param) if value is None else value
                arrays.append(to_keras(value.detach()).cpu().numpy().copy())
    if groups == [("momentum", "velocity")] and type(optimizer).__name__ == "Nadam":
        arrays.append(np.asarray(float(optimizer.param_groups[0].get("u_product", 1.0)), dtype="float32"))
    return arrays


def optimizer_from_keras3(model, arrays, path):
    """Give ``model``'s compiled optimizer the state in ``arrays`` (checked before any change)."""
    optimizer = model._compile_state.optimizer
    groups = slot_groups(optimizer)
    if groups is None:
        raise file_error(path, f"its optimizer state cannot be given to a {type(optimizer).__name__} optimizer")
    variables = _keras_variables(model, optimizer)
    n_slots = sum(len(g) for g in groups) * len(variables)
    nadam = type(optimizer).__name__ == "Nadam"
    expected = 2 + n_slots + (1 if nadam else 0)
    if len(arrays) != expected:
        raise file_error(path, f"its optimizer holds {len(arrays)} variables; a {type(optimizer).__name__} for this "
                               f"model has {expected} (2 counters and {n_slots} slots)")
    new_state, i = {}, 2
    for group in groups:
        for param, to_keras, from_keras in variables:
            for name in group:
                keras_shape = tuple(to_keras(param.detach()).shape)
                value = np.asarray(arrays[i])
                if tuple(value.shape) != keras_shape:
                    raise file_error(path, f"optimizer variable {i} ({name}) has shape {tuple(value.shape)}, the "
                                           f"model's weight {keras_shape}")
                tensor = torch.as_tensor(value, dtype=param.dtype)
                new_state.setdefault(param, {})[name] = from_keras(tensor).reshape(param.shape).to(param.device)
                i += 1
    with torch.no_grad():
        optimizer.state.clear()
        for param, slots in new_state.items():
            optimizer.state[param] = {k: v.clone() for k, v in slots.items()}
    optimizer.iterations = int(np.asarray(arrays[0]))
    optimizer.learning_rate = float(np.asarray(arrays[1]))
    if nadam:
        for group in optimizer.param_groups:
            group["u_product"] = float(np.asarray(arrays[-1]))
