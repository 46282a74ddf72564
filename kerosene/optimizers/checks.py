"""Argument checks shared by the optimizers: each error names the argument, the value
given and what is accepted.

    >>> check_float("momentum", 0.9, 0.0, 1.0, owner="SGD")
    0.9
"""
import math
import numbers

import torch

__all__ = ["check_float", "check_adam_moments", "check_bool"]


def check_float(name, value, low=None, high=None, low_open=False, high_open=False,
                allow_none=False, owner=None):
    """Return ``value`` as a float after checking its type and range.

    Errors name the argument, the value given and what is accepted.
    """
    where = f"{owner}: " if owner else ""
    if value is None and allow_none:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{where}`{name}` must be a float, got {value!r} "
            f"(type {type(value).__name__})."
        )
    value = float(value)
    bad = math.isnan(value)
    if low is not None:
        bad = bad or (value <= low if low_open else value < low)
    if high is not None:
        bad = bad or (value >= high if high_open else value > high)
    if bad:
        lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
        hi = "" if high is None else (f"< {high}" if high_open else f"<= {high}")
        accepted = " and ".join(s for s in (lo, hi) if s)
        raise ValueError(f"{where}`{name}` must be a float {accepted}, got {value!r}.")
    return value


def check_adam_moments(beta_1, beta_2, epsilon, owner):
    """The checked ``beta_1``, ``beta_2``, ``epsilon`` shared by the Adam family (``None`` eps is 1e-7)."""
    return {
        "beta_1": check_float("beta_1", beta_1, 0.0, 1.0, high_open=True, owner=owner),
        "beta_2": check_float("beta_2", beta_2, 0.0, 1.0, high_open=True, owner=owner),
        "epsilon": check_float("epsilon", 1e-7 if epsilon is None else epsilon, 0.0, owner=owner),
    }


def check_bool(name, value, owner=None):
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        where = f"{owner}: " if owner else ""
        raise TypeError(f"{where}`{name}` must be a bool, got {value!r}.")
    return bool(value)
