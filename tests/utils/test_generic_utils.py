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


def test_serialize_and_deserialize_keras_object_round_trip_layers_and_functions():
    from kerosene import activations, layers
    from kerosene.utils import custom_object_scope
    from kerosene.utils.generic_utils import deserialize_keras_object, serialize_keras_object
    dense = deserialize_keras_object(serialize_keras_object(layers.Dense(3, activation="relu")),
                                     module_objects=vars(layers))
    assert isinstance(dense, layers.Dense) and dense.units == 3
    assert serialize_keras_object(activations.relu) == "relu" and serialize_keras_object(None) is None
    assert deserialize_keras_object("relu", module_objects=vars(activations)) is activations.relu

    class Scale:
        def __init__(self, factor):
            self.factor = factor

        def get_config(self):
            return {"factor": self.factor}
    with custom_object_scope({"ScaleOnlyInScope": Scale}):
        config = {"class_name": "ScaleOnlyInScope", "config": Scale(2).get_config()}
        assert deserialize_keras_object(config).factor == 2
    with pytest.raises(ValueError, match="Unknown layer: 'ScaleOnlyInScope'"):
        deserialize_keras_object({"class_name": "ScaleOnlyInScope", "config": {}}, printable_module_name="layer")
    with pytest.raises(ValueError, match="Could not interpret"):
        deserialize_keras_object(3)


def test_keras_test_clears_the_session_after_the_test_even_when_it_fails():
    from kerosene import backend as K
    from kerosene.layers import Dense
    from kerosene.utils.test_utils import keras_test

    @keras_test
    def failing():
        K.set_learning_phase(1)
        Dense(2)
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        failing()
    assert Dense(2).name == "dense"            # names restart after clear_session
    from kerosene.backend.config import training_mode
    assert training_mode(False) is False


def test_keras2_utils_names_resolve_on_first_use():
    import kerosene.utils as U
    from kerosene.utils import HDF5Matrix, conv_utils, get_source_inputs, layer_utils, multi_gpu_model, print_summary
    assert HDF5Matrix is U.io_utils.HDF5Matrix and print_summary is layer_utils.print_summary
    assert conv_utils.conv_output_length(4, 3, "valid", 1) == 2 and callable(get_source_inputs)
    with pytest.raises(ValueError, match="torchrun"):
        multi_gpu_model(object(), gpus=2)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        U.nope
