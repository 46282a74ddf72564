"""kerosene.regularizers and kerosene.constraints, as Keras 2 scripts import them."""
import numpy as np
import pytest
import torch

from kerosene import constraints, regularizers
from kerosene.layers import Dense
from kerosene.models import Sequential, load_model


def test_keras2_functions_and_penalty_values():
    w = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert float(regularizers.l2(0.01)(w)) == pytest.approx(0.01 * (1 + 4 + 9 + 0.25))
    assert float(regularizers.l1(0.1)(w)) == pytest.approx(0.1 * 6.5)
    assert float(regularizers.l1_l2(l1=0.1, l2=0.01)(w)) == pytest.approx(0.65 + 0.1425)
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get(None) is None


def test_constraints_project_weights():
    w = torch.tensor([[3.0, 0.0], [4.0, -1.0]])
    clipped = constraints.max_norm(2.0)(w)
    assert torch.allclose(clipped[:, 0].norm(), torch.tensor(2.0), atol=1e-5)
    assert (constraints.non_neg()(w) >= 0).all()
    assert torch.allclose(constraints.unit_norm()(w).norm(dim=0), torch.ones(2), atol=1e-5)


def test_regularized_model_adds_penalty_and_saves(tmp_path):
    model = Sequential([Dense(2, input_dim=3, kernel_regularizer=regularizers.l2(0.5),
                              kernel_constraint=constraints.max_norm(1.0))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    plain = Sequential([Dense(2, input_dim=3)])
    plain.compile(optimizer="sgd", loss="mse")
    plain.set_weights(model.get_weights())
    assert model.evaluate(x, y, verbose=0) > plain.evaluate(x, y, verbose=0)
    model.save(str(tmp_path / "m.h5"))
    restored = load_model(str(tmp_path / "m.h5"))
    assert isinstance(restored.layers[0].kernel_regularizer, regularizers.L2)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


def test_bad_names():
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="max_norm"):
        constraints.get("maxnorm2")
    with pytest.raises(TypeError, match="kernel_regularizer"):
        Dense(2, kernel_regularizer=3)


def test_deserialize_inverts_serialize_for_constraints_and_regularizers():
    c = constraints.deserialize(constraints.serialize(constraints.MinMaxNorm(0.5, 2.0, axis=1)))
    assert isinstance(c, constraints.MinMaxNorm) and (c.min_value, c.max_value, c.axis) == (0.5, 2.0, 1)
    r = regularizers.deserialize(regularizers.serialize(regularizers.L1L2(l1=0.1, l2=0.2)))
    assert (r.l1, r.l2) == pytest.approx((0.1, 0.2))
    assert isinstance(regularizers.deserialize("l1_l2"), regularizers.L1L2)
    with pytest.raises(ValueError, match="Unknown constraint 'nope'"):
        constraints.deserialize("nope")


def test_get_finds_custom_objects_in_scope_as_keras2():
    from kerosene import activations
    from kerosene.utils import custom_object_scope

    def my_act(x):
        return x * 3

    class Clip:
        def __call__(self, w):
            return w.clamp(-1, 1)

    with custom_object_scope({"my_act": my_act, "Clip": Clip}):
        assert activations.get("my_act") is my_act
        assert isinstance(constraints.get("Clip"), Clip)
        assert isinstance(constraints.deserialize({"class_name": "Clip", "config": {}}), Clip)
    with pytest.raises(ValueError):
        constraints.get("Clip")
