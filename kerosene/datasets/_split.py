"""Argument checks shared by the loaders."""
import numbers


def check_split(test_split):
    if isinstance(test_split, bool) or not isinstance(test_split, numbers.Real) or not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be a number in [0, 1), got {test_split!r}")


def check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"`seed` must be an int >= 0, got {seed!r}")


def check_optional_int(value, name, low=0):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"`{name}` must be an int >= {low} or None, got {value!r}")
