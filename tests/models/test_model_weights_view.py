"""get_weights/set_weights and saving share one view of a layer's weights."""
import h5py
import numpy as np
import pytest
import torch
from torch import nn

from kerosene.layers import BatchNormalization, Dense, Layer
from kerosene.models import Sequential


class ScaledDense(Layer):
    """A custom layer holding a declared kernel and an undeclared raw nn.Parameter."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), self.units))
        self.scale = nn.Parameter(torch.full((1,), 2.0))
        super().build(input_shape)

    def call(self, x):
        return (x @ self.kernel) * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _model():
    model = Sequential([Dense(3, input_shape=(4,)), BatchNormalization(), ScaledDense(2)])
    model.compile("sgd", "mse")
    return model


def test_get_weights_keeps_an_undeclared_parameter_and_matches_the_saved_file(tmp_path):
    model = _model()
    weights = model.get_weights()
    # Dense kernel+bias, BatchNormalization's 4, then the custom layer's kernel and its raw scale.
    assert len(weights) == 2 + 4 + 2
    assert any(w.shape == (1,) and w[0] == 2.0 for w in weights)
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        group = f["model_weights"]
        saved = sum(len(group[name].attrs["weight_names"]) for name in group.attrs["layer_names"])
    assert saved == len(weights)


def test_set_weights_round_trips_every_array_and_checks_shapes_first():
    model = _model()
    new = [np.random.RandomState(i).rand(*w.shape).astype(np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    for have, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(have, want)
    before = model.get_weights()
    bad = list(new)
    bad[-1] = np.zeros((3,), np.float32)
    with pytest.raises(ValueError, match=r"should have shape \(1,\), got \(3,\)"):
        model.set_weights(bad)
    for have, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(have, want)
