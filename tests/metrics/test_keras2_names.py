"""Keras 2.2's loss and metric names, (de)serialisation forms and custom-object lookup."""
import numpy as np
import pytest
import torch

from kerosene import losses, metrics
from kerosene.utils.generic_utils import custom_object_scope

RNG = np.random.default_rng(3)
A = torch.tensor(RNG.random((6, 7)), dtype=torch.float32)
B = torch.tensor(RNG.random((6, 7)), dtype=torch.float32)


@pytest.mark.parametrize("name", [
    "hinge", "squared_hinge", "categorical_hinge", "categorical_crossentropy", "binary_crossentropy",
    "kullback_leibler_divergence", "kld", "poisson", "logcosh", "cosine_proximity", "cosine"])
def test_keras2_metric_functions_are_the_per_sample_losses(name):
    fn = getattr(metrics, name)
    assert tuple(fn(A, B).shape) == (6,)
    np.testing.assert_allclose(fn(A, B).numpy(), getattr(losses, name)(A, B).numpy())


def test_cosine_proximity_is_the_negative_mean_cosine():
    a, b = A.numpy(), B.numpy()
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    np.testing.assert_allclose(losses.cosine_proximity(A, B).numpy(), -cos, rtol=1e-5)
    assert losses.get("cosine_proximity").name == "cosine_similarity"


def test_top_k_functions_give_the_batch_mean_as_keras2():
    y_pred = torch.tensor([[0.3, 0.2, 0.1], [0.1, 0.2, 0.7]])
    y_true = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert [float(metrics.top_k_categorical_accuracy(y_true, y_pred, k=k)) for k in (3, 2, 1)] == [1, 0.5, 0]
    labels = torch.tensor([1, 0])
    assert [float(metrics.sparse_top_k_categorical_accuracy(labels, y_pred, k=k)) for k in (3, 2, 1)] == \
        [1, 0.5, 0]
    per_sample = metrics.get("top_k_categorical_accuracy")  # the class keeps per-sample values
    np.testing.assert_allclose(per_sample.fn(y_true, y_pred, k=2).numpy(), [1.0, 0.0])
    assert isinstance(metrics.get(metrics.top_k_categorical_accuracy), metrics.TopKCategoricalAccuracy)


@pytest.mark.parametrize("loss,expected", [
    ("binary_crossentropy", losses.binary_crossentropy),
    ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy),
    ("categorical_crossentropy", losses.categorical_crossentropy)])
def test_ce_metric_follows_the_loss(loss, expected):
    for name in ("ce", "crossentropy"):
        metric = metrics.get(name, loss=loss)
        assert metric.name == name and metric.fn is expected and metrics.direction_of(f"val_{name}") == "down"
    assert metrics.get("ce", output_shape=(None, 1)).fn is losses.binary_crossentropy


class ScaledMSE:
    """A Keras 2 style loss object: a callable with get_config."""

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, y_true, y_pred):
        return self.scale * losses.mse(y_true, y_pred)

    def get_config(self):
        return {"scale": self.scale}


def test_keras2_serialize_forms_and_custom_object_scope():
    config = losses.serialize(ScaledMSE(0.3))
    assert config == {"class_name": "ScaledMSE", "config": {"scale": 0.3}}
    with pytest.raises(ValueError, match="Unknown loss: 'ScaledMSE'"):
        losses.deserialize(config)
    with custom_object_scope({"ScaledMSE": ScaledMSE}):
        restored = losses.deserialize(config)
    assert isinstance(restored, ScaledMSE) and restored.scale == 0.3
    assert losses.serialize(losses.mse) == "mean_squared_error"

    def my_metric(y_true, y_pred):
        return y_pred

    assert metrics.serialize(my_metric) == "my_metric"
    assert metrics.deserialize("my_metric", custom_objects={"my_metric": my_metric}) is my_metric
    with custom_object_scope({"my_metric": my_metric}):
        assert metrics.deserialize("my_metric") is my_metric
    assert metrics.deserialize("mse").name == "mse"
    with pytest.raises(TypeError, match="named function.*int"):
        metrics.serialize(5)


@pytest.mark.parametrize("module", [losses, metrics])
def test_uninterpretable_identifiers_are_value_and_type_errors(module):
    for kind in (ValueError, TypeError):
        with pytest.raises(kind, match="Could not interpret"):
            module.get(5)
