"""Weights as a torch state dict (``.pt``/``.pth``), loaded with ``weights_only=True`` always.

Example::

    save_state_dict(model, 'model.pt')
    load_state_dict_file(model, 'model.pt')   # refuses pickled objects other than tensors
"""
from __future__ import annotations

import io
import pickle
import zipfile

import torch

from .._user_warning import warn_user
from .atomic import atomic_write, naming_errors
from .errors import file_error

__all__ = ["save_state_dict", "read_state_dict", "load_state_dict_file"]


def save_state_dict(model, path):
    state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with naming_errors(path, "saving the torch weights file"), atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())


def read_state_dict(path):
    """Read a state dict safely: only tensors and plain containers, never arbitrary objects."""
    _check_zip_crcs(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as err:
        raise file_error(path, "it holds Python objects other than tensors and plain containers, which "
                               "kerosene refuses to unpickle (torch.load weights_only=True)", err) from None
    except Exception as err:  # torch raises RuntimeError/EOFError/ValueError for damaged archives
        raise file_error(path, "not a readable torch file (truncated, corrupted or another format)", err) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise file_error(path, f"expected a state dict (str -> tensor), found {type(state).__name__}")
    return state


def _check_zip_crcs(path):
    """torch's zip archives carry a CRC per record that torch.load does not check: check them here."""
    if not zipfile.is_zipfile(path):
        return   # not a zip: torch.load decides (an old-format file, or an error naming the problem)
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as err:
        raise file_error(path, "the torch archive is damaged", err) from None
    if bad is not None:
        raise file_error(path, f"the torch archive is corrupted: record {bad!r} fails its CRC check")


def load_state_dict_file(model, path, skip_mismatch=False):
    """Load a state dict file into ``model``: every key and shape is checked before any change."""
    state = read_state_dict(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    bad_shapes = [f"{k}: file {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
                  for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    if bad_shapes:
        problems.append("shape mismatches " + "; ".join(bad_shapes))
    if problems:
        message = f"Cannot load {str(path)!r} into model {getattr(model, 'name', '?')!r}: " + ", ".join(problems)
        if not skip_mismatch:
            raise ValueError(message + ". Pass skip_mismatch=True to load the keys that match.")
        warn_user(message + "; loading the matching keys (skip_mismatch=True)", RuntimeWarning)
    to_load = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    with torch.no_grad():
        for key, value in to_load.items():
            own[key].copy_(value.to(dtype=own[key].dtype))
