"""Nested plain data with tensors (an optimizer state dict) in HDF5, without pickle.

The structure goes to a JSON attribute in which each tensor is a placeholder
``{"__tensor__": i}``; tensor ``i`` is dataset ``"i"``. Tuples and dicts with
non-string keys are tagged so they come back as they were.

Example::

    write_tree(f.create_group('optimizer_state'), optimizer.state_dict())
    state = read_tree(f['optimizer_state'], path)
"""
from __future__ import annotations

import json

import numpy as np
import torch

from .errors import file_error

__all__ = ["write_tree", "read_tree"]


def write_tree(group, tree):
    tensors = []

    def encode(value):
        if isinstance(value, torch.Tensor):
            tensors.append(value.detach().cpu())
            return {"__tensor__": len(tensors) - 1}
        if isinstance(value, np.ndarray):
            tensors.append(torch.from_numpy(np.ascontiguousarray(value)))
            return {"__tensor__": len(tensors) - 1, "numpy": True}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {"__dict__": {k: encode(v) for k, v in value.items()}}
            if all(isinstance(k, (int, str)) and not isinstance(k, bool) for k in value):
                return {"__items__": [[k, encode(v)] for k, v in value.items()]}
            raise TypeError(f"cannot store a dict with keys of types {sorted({type(k).__name__ for k in value})}")
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v) for v in value]}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, (bool, int, float, str)) or value is None:
            return value
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"cannot store a value of type {type(value).__name__} in an HDF5 state tree")

    structure = encode(tree)
    group.attrs["structure"] = json.dumps(structure)
    for i, tensor in enumerate(tensors):
        dtype = str(tensor.dtype).replace("torch.", "")
        array = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
        checksum = array.ndim > 0 and array.size > 0
        dataset = group.create_dataset(str(i), data=array, fletcher32=checksum, chunks=True if checksum else None)
        dataset.attrs["torch_dtype"] = dtype


def read_tree(group, path):
    try:
        structure = json.loads(group.attrs["structure"])
    except (KeyError, ValueError, TypeError) as err:
        raise file_error(path, "the optimizer state's structure is missing or not valid JSON", err) from None

    def decode(value):
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tensor__" in value:
            key = str(value["__tensor__"])
            if key not in group:
                raise file_error(path, f"the optimizer state refers to a tensor {key} that is missing")
            dataset = group[key]
            tensor = torch.from_numpy(np.array(dataset[()]))
            dtype = getattr(torch, str(dataset.attrs.get("torch_dtype", "")), None)
            if isinstance(dtype, torch.dtype):
                tensor = tensor.to(dtype)
            return tensor.numpy() if value.get("numpy") else tensor
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if "__items__" in value:
            return {k: decode(v) for k, v in value["__items__"]}
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        raise file_error(path, f"the optimizer state holds an unknown entry {value!r:.100}")

    return decode(structure)
