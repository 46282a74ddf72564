"""plot_model / model_to_dot: the graph drawn, and the picture written."""
import os

import numpy as np
import pytest

from kerosene.layers import Concatenate, Dense, Input
from kerosene.models import Model, Sequential
from kerosene.utils import plot_model
from kerosene.utils.vis_utils import model_graph, model_to_dot

pytest.importorskip("matplotlib")


def _branches():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    h = Dense(4, name="h")(a)
    out = Dense(1, name="o")(Concatenate(name="c")([h, b]))
    return Model([a, b], out)


def test_model_graph_of_a_functional_model_and_of_a_sequential_chain():
    layers, edges, depths = model_graph(_branches())
    assert [l.name for l in layers] == ["a", "b", "h", "c", "o"]
    assert edges == [(0, 2), (2, 3), (1, 3), (3, 4)] and depths == [0, 0, 1, 2, 3]
    layers, edges, depths = model_graph(Sequential([Dense(2, input_shape=(3,)), Dense(2), Dense(1)]))
    assert edges == [(0, 1), (1, 2)] and depths == [0, 1, 2]


def test_plot_model_writes_a_picture_by_extension_and_leaves_no_temp_file(tmp_path):
    from matplotlib.image import imread
    deep = Sequential([Dense(2, input_shape=(3,))] + [Dense(2) for _ in range(5)])
    plot_model(_branches(), to_file=str(tmp_path / "m.png"), show_shapes=True)
    plot_model(deep, to_file=str(tmp_path / "deep.png"))
    plot_model(Sequential([Dense(2, input_shape=(3,))]), to_file=str(tmp_path / "one.png"))
    small, tall = imread(str(tmp_path / "one.png")), imread(str(tmp_path / "deep.png"))
    assert imread(str(tmp_path / "m.png")).std() > 0 and tall.shape[0] > small.shape[0]
    plot_model(deep, to_file=str(tmp_path / "m.svg"), rankdir="LR")
    assert open(tmp_path / "m.svg").read().lstrip().startswith("<?xml")
    plot_model(deep, to_file=str(tmp_path / "noext"))
    assert open(tmp_path / "noext", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["deep.png", "m.png", "m.svg", "noext", "one.png"]


def test_plot_model_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="rankdir"):
        plot_model(_branches(), to_file=str(tmp_path / "m.png"), rankdir="BT")
    with pytest.raises(ValueError, match="accepted extensions"):
        plot_model(_branches(), to_file=str(tmp_path / "m.bmpx"))
    with pytest.raises(ValueError, match="not built"):
        plot_model(Sequential([Dense(2)]), to_file=str(tmp_path / "m.png"))
    assert not os.listdir(tmp_path)


def test_model_to_dot_without_pydot_says_what_to_install():
    try:
        import pydot  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pydot"):
            model_to_dot(_branches())
    else:
        assert len(model_to_dot(_branches()).get_edges()) == 4
