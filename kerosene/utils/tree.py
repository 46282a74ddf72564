"""Nested data (dicts, lists and tuples of arrays or tensors): flatten it, map over its leaves.

    >>> from kerosene.utils.tree import flatten
    >>> leaves, rebuild = flatten({'x': 'a', 'y': ['b', 'c']})
    >>> leaves
    ['a', 'b', 'c']
    >>> rebuild([s.upper() for s in leaves])
    {'x': 'A', 'y': ['B', 'C']}

A list or tuple of plain numbers counts as one leaf (a small array). This module is on
the bottom floor of the package: it imports nothing of kerosene.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["flatten", "map_leaves", "map_tensors", "per_output"]


def flatten(structure):
    """Flatten nested lists/tuples/dicts of arrays into a list, with a function to rebuild."""
    if structure is None:
        return [], lambda leaves: None
    if isinstance(structure, dict):
        keys = list(structure)
        parts = [flatten(structure[k]) for k in keys]
        counts = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, i = {}, 0
            for key, (_, sub), n in zip(keys, parts, counts):
                out[key] = sub(leaves[i:i + n])
                i += n
            return out
        return [leaf for p in parts for leaf in p[0]], rebuild
    if isinstance(structure, (list, tuple)) and not (
            structure and all(isinstance(v, (int, float, np.number)) for v in structure)):
        parts = [flatten(v) for v in structure]
        counts = [len(p[0]) for p in parts]
        kind = type(structure) if isinstance(structure, list) else list

        def rebuild(leaves):
            out, i = [], 0
            for (_, sub), n in zip(parts, counts):
                out.append(sub(leaves[i:i + n]))
                i += n
            return kind(out)
        return [leaf for p in parts for leaf in p[0]], rebuild
    return [structure], lambda leaves: leaves[0]


def map_leaves(fn, value):
    """Apply ``fn`` to every leaf of nested dicts/lists/tuples."""
    if isinstance(value, dict):
        return {k: map_leaves(fn, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map_leaves(fn, v) for v in value)
    return fn(value)


def map_tensors(fn, value):
    """Apply ``fn`` to every tensor in nested dicts/lists/tuples; other leaves pass through."""
    return map_leaves(lambda leaf: fn(leaf) if isinstance(leaf, torch.Tensor) else leaf, value)


def per_output(value, names):
    """A model's outputs (or targets) as a list in ``names`` order, from a list or a dict."""
    if isinstance(value, dict):
        return [value[n] for n in names]
    return list(value)
