"""The bytes of a training backup, and the plain data inside it.

A backup file is a header line ``KEROSENE-BACKUP``, a JSON line (layout version, size
and SHA-256 of the body) and a body written by ``torch.save`` from tensors and plain
containers only, read back with ``torch.load(weights_only=True)``: no pickle of
arbitrary objects. :func:`to_storable` turns numpy values into marked tensors so they
pass that check; :func:`capture_rng` records every global RNG a step may draw from.

    >>> payload = decode(encode({'loop': {'epoch': 2}}), 'mem')
    >>> payload['loop']['epoch']
    2
"""
from __future__ import annotations

import hashlib
import io
import json
import random

import numpy as np
import torch

from .._user_warning import warn_user
from ..errors import BackupError

__all__ = ["LAYOUT_VERSION", "CorruptBackup", "encode", "decode", "fingerprint", "compare_fingerprints",
           "to_storable", "from_storable", "same_state", "capture_rng", "restore_rng"]

LAYOUT_VERSION = 1
_MAGIC = b"KEROSENE-BACKUP\n"
_NDARRAY = "__kerosene_ndarray__"
_NPSCALAR = "__kerosene_npscalar__"


class CorruptBackup(Exception):
    """A backup file that is damaged (its caller may fall back to an older one)."""


def encode(payload):
    """Bytes of a backup file: magic line, JSON header line, torch.save body."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    header = {"layout": LAYOUT_VERSION, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return _MAGIC + json.dumps(header).encode() + b"\n" + body


def decode(data, path):
    """The payload of a backup file; raises on a corrupt file or an unknown layout."""
    if not data.startswith(_MAGIC):
        raise CorruptBackup(f"The backup {path} is not a kerosene backup or is corrupt (its header is missing)")
    end = data.find(b"\n", len(_MAGIC))
    try:
        header = json.loads(data[len(_MAGIC):end])
    except (ValueError, UnicodeDecodeError):
        raise CorruptBackup(f"The backup {path} is corrupt (unreadable header)") from None
    if header.get("layout") != LAYOUT_VERSION:
        raise BackupError(
            f"The backup {path} has layout version {header.get('layout')!r}, this kerosene reads "
            f"version {LAYOUT_VERSION}; resume with the kerosene that wrote it or delete the backup")
    body = data[end + 1:]
    if len(body) != header.get("size") or hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise CorruptBackup(
            f"The backup {path} is corrupt (expected {header.get('size')} bytes with SHA-256 "
            f"{str(header.get('sha256'))[:12]}..., found {len(body)} bytes that do not match)")
    try:
        return torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses anything but tensors and plain containers
        raise BackupError(
            f"The backup {path} holds data kerosene will not load (only tensors and plain containers "
            f"are allowed; nothing from it was executed): {type(exc).__name__}: {str(exc).splitlines()[0]}") from None


def fingerprint(model):
    """Names, shapes and dtypes of the model's parameters and buffers."""
    return [[name, list(value.shape), str(value.dtype).replace("torch.", "")]
            for name, value in model.state_dict().items()]


def compare_fingerprints(saved, current):
    """A short description of how two fingerprints differ; '' when they match."""
    saved_map = {name: (tuple(shape), dtype) for name, shape, dtype in saved}
    here_map = {name: (tuple(shape), dtype) for name, shape, dtype in current}
    parts = []
    missing = [n for n in saved_map if n not in here_map]
    extra = [n for n in here_map if n not in saved_map]
    if missing:
        parts.append(f"in the backup but not in this model: {', '.join(missing[:5])}")
    if extra:
        parts.append(f"in this model but not in the backup: {', '.join(extra[:5])}")
    for name in saved_map:
        if name in here_map and saved_map[name] != here_map[name]:
            (s_shape, s_dtype), (h_shape, h_dtype) = saved_map[name], here_map[name]
            parts.append(f"{name} is {s_dtype}{list(s_shape)} in the backup but {h_dtype}{list(h_shape)} here")
    return "; ".join(parts)


def to_storable(value):
    """Plain data that ``torch.load(weights_only=True)`` accepts: numpy becomes tensors, marked."""
    if isinstance(value, np.ndarray):
        return {_NDARRAY: torch.from_numpy(np.array(value, copy=True))}
    if isinstance(value, np.generic):
        return {_NPSCALAR: value.item(), "dtype": value.dtype.str}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: to_storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_storable(v) for v in value)
    return value


def from_storable(value):
    """The inverse of :func:`to_storable`."""
    if isinstance(value, dict):
        if set(value) == {_NDARRAY}:
            return value[_NDARRAY].numpy()
        if set(value) == {_NPSCALAR, "dtype"}:
            return np.dtype(value["dtype"]).type(value[_NPSCALAR])
        return {k: from_storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(from_storable(v) for v in value)
    return value


def same_state(a, b):
    """Deep equality of two storable states (tensors compared exactly, NaN equal to NaN)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
                and a.dtype == b.dtype and torch.equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


def capture_rng():
    """The state of every global RNG a training step may draw from."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, torch.tensor(internal, dtype=torch.int64), gauss],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": None,
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng(state):
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal.tolist()), gauss))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None:
        if torch.cuda.is_available() and torch.cuda.device_count() == len(state["cuda"]):
            torch.cuda.set_rng_state_all(state["cuda"])
        else:
            warn_user("The backup holds CUDA RNG states for "
                      f"{len(state['cuda'])} devices that this process does not have; "
                      "the resumed run's random numbers on the GPU will differ", RuntimeWarning)
