"""The bottom floor's shared tables: automatic names (_naming) and name -> object lookups (_registry)."""
import pytest
import torch

from kerosene import _naming, backend, layers
from kerosene._registry import Registry, serialize_object


def test_one_table_names_layers_models_and_inputs_and_clear_session_resets_it():
    backend.clear_session()
    assert [layers.Dense(1).name, layers.Dense(1).name] == ["dense", "dense_1"]
    assert _naming.layer_name(torch.nn.Linear(1, 1)) == "linear"
    assert layers.Input(shape=(2,)).name == "input_1"
    backend.clear_session()
    assert layers.Dense(1).name == "dense" and layers.Input(shape=(2,)).name == "input_1"


@pytest.mark.parametrize("name, snake", [("Conv2D", "conv2d"), ("BatchNormalization", "batch_normalization"),
                                         ("GlobalMaxPooling2D", "global_max_pooling2d"), ("MSELoss", "mse_loss")])
def test_one_snake_case(name, snake):
    assert _naming.to_snake_case(name) == snake


def test_registry_lookup_rule():
    table = Registry({"adam": dict, "SGD": list}, fold_case=True)
    assert table.find("Adam") is dict and table.find("SGD") is list and table.find("nope") is None
    assert table.find("adam", {"adam": set}) is set          # custom_objects first
    assert table.find(None) is None and table.find({"a": 1}) is None
    assert Registry({"SGD": list}).find("sgd") is None       # exact names only without fold_case
    assert "adam" in table and table.names() == ["SGD", "adam"]


def test_keras_config_form():
    layer = layers.Dense(3)
    assert serialize_object(layer) == {"class_name": "Dense", "config": layer.get_config()}
    assert layers.deserialize(serialize_object(layer)).get_config() == layer.get_config()
