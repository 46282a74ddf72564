"""saving/sharded_weights.py in one process (the 2-rank FSDP launch is tests/engine/test_distributed_fsdp.py)."""
import torch
from torch.distributed.fsdp import FSDPModule

from kerosene.layers import Dense
from kerosene.saving.registry import registered_name
from kerosene.saving.sharded_weights import full_parameters, full_tree, is_sharded, unsharded_class


def test_the_class_fully_shard_makes_is_saved_under_the_users_class_name():
    resharded = type("FSDPDense", (FSDPModule, Dense), {})   # what fully_shard does to a module's class
    assert unsharded_class(resharded) is Dense
    assert unsharded_class(Dense) is Dense
    layer = Dense(2)
    layer.__class__ = resharded
    assert registered_name(layer) == "Dense"


def test_an_unsharded_module_passes_through_untouched():
    layer = torch.nn.Linear(2, 3)
    before = layer.weight
    assert not is_sharded(layer)
    with full_parameters(layer, write_back=True):
        assert layer.weight is before
    tree = {"a": [torch.ones(2), 3], "b": (torch.zeros(1),)}
    out = full_tree(tree)
    assert out["a"][0] is tree["a"][0] and out["a"][1] == 3 and isinstance(out["b"], tuple)
