"""Keras 2's ``keras.engine`` import paths and ``training_utils`` helpers, on kerosene."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from kerosene import losses
from kerosene.engine import training_utils
from kerosene.layers import Concatenate, Dense, Input, InputSpec, Layer


def test_engine_exports_keras2_names():
    from kerosene import engine, layers, models
    from kerosene.engine import base_layer, input_layer, topology, training
    assert engine.Input is layers.Input and engine.Layer is layers.Layer
    assert engine.InputSpec is InputSpec and engine.Model is models.Model
    assert training.Model is models.Model
    assert topology.Layer is layers.Layer and base_layer.InputSpec is InputSpec
    assert input_layer.InputLayer is layers.InputLayer
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        engine.Nope


def test_engine_submodule_import_does_not_import_models():
    # The lazy names keep `kerosene.engine` light: its package module imports nothing else.
    init = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "kerosene", "engine",
                        "__init__.py")
    code = ("import sys, importlib.util\n"
            f"spec = importlib.util.spec_from_file_location('kerosene.engine', {init!r})\n"
            "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
            "print(sorted(m for m in sys.modules if m.startswith('kerosene')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_functional_model_from_engine_training():
    from kerosene.engine.training import Model
    a = Input(shape=(3,))
    model = Model(a, Dense(2)(a))
    model.compile("sgd", "mse")
    assert model.predict(np.zeros((4, 3), "float32")).shape == (4, 2)


def test_get_source_inputs_finds_each_input_once():
    from kerosene.engine import get_source_inputs
    a, b = Input(shape=(3,)), Input(shape=(3,))
    merged = Concatenate()([a, b])
    out = Dense(1)(Concatenate()([merged, a]))
    assert get_source_inputs(out) == [a, b]
    assert get_source_inputs(a) == [a]
    with pytest.raises(TypeError, match="`tensor` must be one symbolic tensor"):
        get_source_inputs(np.zeros(3))


def test_input_spec_is_checked_on_call():
    class Rows(Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = InputSpec(ndim=2, axes={-1: 4})

    layer = Rows()
    assert layer(torch.zeros(3, 4)).shape == (3, 4)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layer(torch.zeros(3, 4, 1))
    with pytest.raises(ValueError, match="expected axis -1 of input to have value 4"):
        layer(torch.zeros(3, 5))
    assert repr(InputSpec(shape=(None, 4))) == "InputSpec(shape=(None, 4), ndim=2)"
    layer.input_spec = None  # removing the spec turns the check off
    assert layer(torch.zeros(3, 5)).shape == (3, 5)


def test_make_batches_covers_all_rows():
    assert training_utils.make_batches(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert training_utils.make_batches(0, 4) == []
    with pytest.raises(ValueError, match="`batch_size` must be an integer >= 1, got 0"):
        training_utils.make_batches(10, 0)


def test_batch_shuffle_keeps_batches_and_tail():
    np.random.seed(0)
    out = training_utils.batch_shuffle(np.arange(10), 3)
    assert sorted(out.tolist()) == list(range(10)) and out[-1] == 9
    blocks = {tuple(out[i:i + 3]) for i in range(0, 9, 3)}
    assert blocks == {(0, 1, 2), (3, 4, 5), (6, 7, 8)}


def test_check_array_length_consistency():
    a, b = np.zeros((4, 3)), np.zeros((3, 4))
    training_utils.check_array_length_consistency(None, None, None)
    training_utils.check_array_length_consistency([a, a], [a], a)
    training_utils.check_array_length_consistency([None], [None], [None])
    with pytest.raises(ValueError, match="Found 4 input samples and 0 target samples"):
        training_utils.check_array_length_consistency(a, None, None)
    with pytest.raises(ValueError, match="All input arrays \\(x\\) should have the same number"):
        training_utils.check_array_length_consistency([a, b], None, None)
    with pytest.raises(ValueError, match="Found 4 input samples and 3 target samples"):
        training_utils.check_array_length_consistency([a], [b], None)
    with pytest.raises(ValueError, match="Got 4 target samples and 3 sample weights"):
        training_utils.check_array_length_consistency([a], [a], [b])


@pytest.mark.parametrize("loss", ["categorical_crossentropy", losses.categorical_crossentropy,
                                  losses.CategoricalCrossentropy()])
def test_check_loss_and_target_compatibility(loss):
    a = np.zeros((2, 1, 3))
    training_utils.check_loss_and_target_compatibility([a], [loss], [a.shape])
    training_utils.check_loss_and_target_compatibility([a], [loss], [(2, None, 3)])
    with pytest.raises(ValueError, match="You are passing a target array of shape \\(2, 3, 1\\)"):
        training_utils.check_loss_and_target_compatibility([np.zeros((2, 3, 1))], [loss], [(2, 3, 1)])
    with pytest.raises(ValueError, match="targets to have the same shape as the output"):
        training_utils.check_loss_and_target_compatibility([np.zeros((2, 3, 5))], [loss], [(2, 3, 6)])
    # A loss that takes any target shape is not checked.
    training_utils.check_loss_and_target_compatibility([np.zeros((2, 3, 5))], ["mae"], [(2, 3, 6)])
