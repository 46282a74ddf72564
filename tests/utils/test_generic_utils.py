"""kerosene.utils.generic_utils: Keras 2's has_arg and function (de)serialisation helpers."""
import pytest

from kerosene.utils.generic_utils import func_dump, func_load, has_arg


def _f(x, y=1, *args, z=2, **kwargs):
    return x


def _g(x, /, y):
    return y


@pytest.mark.parametrize("fn, name, accept_all, expected", [
    (_f, "x", False, True), (_f, "y", False, True), (_f, "z", False, True),
    (_f, "w", False, False), (_f, "w", True, True), (_f, "args", False, False),
    (_g, "x", False, False), (_g, "y", False, True), (_g, "q", True, False),
    (len, "obj", False, False),
])
def test_has_arg(fn, name, accept_all, expected):
    assert has_arg(fn, name, accept_all) is expected


def test_func_dump_and_load_round_trip_with_closure():
    k = 3
    loaded = func_load(*func_dump(lambda v=2: v * k))
    assert loaded() == 6 and loaded(5) == 15
