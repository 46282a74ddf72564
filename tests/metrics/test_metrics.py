"""kerosene.metrics against Keras 3 metrics on random inputs, 'accuracy' resolution
from the loss, names, directions and bad input."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import losses, metrics

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(1)
N, C = 32, 6


def _probs():
    p = RNG.random((N, C)).astype("float32")
    return p / p.sum(-1, keepdims=True)


def _keras_value(metric, y_true, y_pred):
    metric.update_state(y_true, y_pred)
    return float(metric.result())


CASES = [
    # (kerosene name, keras metric factory, y_true, y_pred)
    ("binary_accuracy", lambda: keras.metrics.BinaryAccuracy(),
     lambda: ((RNG.random((N, 1)) > 0.5).astype("float32"), RNG.random((N, 1)).astype("float32"))),
    ("binary_accuracy", lambda: keras.metrics.BinaryAccuracy(),
     lambda: ((RNG.random((N, 3)) > 0.5).astype("float32"), RNG.random((N, 3)).astype("float32"))),
    ("categorical_accuracy", lambda: keras.metrics.CategoricalAccuracy(),
     lambda: (np.eye(C, dtype="float32")[RNG.integers(0, C, N)], _probs())),
    ("sparse_categorical_accuracy", lambda: keras.metrics.SparseCategoricalAccuracy(),
     lambda: (RNG.integers(0, C, N), _probs())),
    ("sparse_categorical_accuracy", lambda: keras.metrics.SparseCategoricalAccuracy(),
     lambda: (RNG.integers(0, C, (N, 1)).astype("float32"), _probs())),
    ("top_k_categorical_accuracy", lambda: keras.metrics.TopKCategoricalAccuracy(k=5),
     lambda: (np.eye(C, dtype="float32")[RNG.integers(0, C, N)], _probs())),
    ("sparse_top_k_categorical_accuracy", lambda: keras.metrics.SparseTopKCategoricalAccuracy(k=5),
     lambda: (RNG.integers(0, C, N), _probs())),
    ("mse", lambda: keras.metrics.MeanSquaredError(),
     lambda: (RNG.normal(size=(N, 3)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32"))),
    ("mae", lambda: keras.metrics.MeanAbsoluteError(),
     lambda: (RNG.normal(size=(N, 3)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32"))),
    ("mape", lambda: keras.metrics.MeanAbsolutePercentageError(),
     lambda: (RNG.normal(size=(N, 3)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32"))),
    ("msle", lambda: keras.metrics.MeanSquaredLogarithmicError(),
     lambda: (RNG.random((N, 3)).astype("float32"), RNG.random((N, 3)).astype("float32"))),
    ("cosine_similarity", lambda: keras.metrics.CosineSimilarity(),
     lambda: (RNG.normal(size=(N, 3)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32"))),
    ("categorical_crossentropy", lambda: keras.metrics.CategoricalCrossentropy(),
     lambda: (np.eye(C, dtype="float32")[RNG.integers(0, C, N)], _probs())),
    ("binary_crossentropy", lambda: keras.metrics.BinaryCrossentropy(),
     lambda: ((RNG.random((N, 1)) > 0.5).astype("float32"), RNG.random((N, 1)).astype("float32"))),
    ("hinge", lambda: keras.metrics.Hinge(),
     lambda: ((RNG.random((N, 2)) > 0.5).astype("float32"), RNG.normal(size=(N, 2)).astype("float32"))),
    ("kld", lambda: keras.metrics.KLDivergence(),
     lambda: (_probs(), _probs())),
    ("poisson", lambda: keras.metrics.Poisson(),
     lambda: (RNG.random((N, 3)).astype("float32"), RNG.random((N, 3)).astype("float32"))),
]


@pytest.mark.parametrize("name,keras_metric,data", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_keras3(name, keras_metric, data):
    y_true, y_pred = data()
    expected = _keras_value(keras_metric(), y_true, y_pred)
    metric = metrics.get(name)
    assert metric.name == name
    got = metric(torch.tensor(y_true), torch.tensor(y_pred))
    assert got.dim() == 0
    assert float(got) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_top_k_with_small_k_matches_keras3():
    y_true = RNG.integers(0, C, N)
    y_pred = _probs()
    expected = _keras_value(keras.metrics.SparseTopKCategoricalAccuracy(k=2), y_true, y_pred)
    got = metrics.SparseTopKCategoricalAccuracy(k=2)(torch.tensor(y_true), torch.tensor(y_pred))
    assert float(got) == pytest.approx(expected)
    onehot = np.eye(C, dtype="float32")[y_true]
    got = metrics.TopKCategoricalAccuracy(k=2)(torch.tensor(onehot), torch.tensor(y_pred))
    assert float(got) == pytest.approx(expected)


def test_binary_accuracy_threshold():
    y_true = torch.tensor([[1.0], [0.0], [1.0]])
    y_pred = torch.tensor([[0.4], [0.2], [0.9]])
    assert float(metrics.BinaryAccuracy(threshold=0.3)(y_true, y_pred)) == 1.0
    assert float(metrics.get("binary_accuracy")(y_true, y_pred)) == pytest.approx(2 / 3)


@pytest.mark.parametrize("loss,output_shape,expected", [
    ("categorical_crossentropy", (None, 10), metrics.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", (None, 10), metrics.SparseCategoricalAccuracy),
    ("binary_crossentropy", (None, 1), metrics.BinaryAccuracy),
    ("binary_crossentropy", (None, 5), metrics.BinaryAccuracy),
    (losses.CategoricalCrossentropy(from_logits=True), None, metrics.CategoricalAccuracy),
    (losses.SparseCategoricalCrossentropy, None, metrics.SparseCategoricalAccuracy),
    (losses.binary_crossentropy, None, metrics.BinaryAccuracy),
    ("CategoricalCrossentropy", None, metrics.CategoricalAccuracy),
    ({"class_name": "SparseCategoricalCrossentropy", "config": {}}, None,
     metrics.SparseCategoricalAccuracy),
    (torch.nn.BCEWithLogitsLoss(), None, metrics.BinaryAccuracy),
    ("mse", (None, 1), metrics.BinaryAccuracy),
    ("mse", (None, 4), metrics.CategoricalAccuracy),
    ("hinge", (None, 1), metrics.BinaryAccuracy),
    (None, (None, 3), metrics.CategoricalAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_resolves_from_loss(loss, output_shape, expected, name):
    metric = metrics.get(name, loss=loss, output_shape=output_shape)
    assert type(metric) is expected
    assert metric.name == name and metric.direction == "up"


def test_accuracy_without_loss_or_shape_decides_per_batch():
    acc = metrics.get("accuracy", loss=torch.nn.CrossEntropyLoss())
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    assert float(acc(torch.tensor([0, 0]), probs)) == 0.5             # labels
    assert float(acc(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), probs)) == 0.5  # one-hot
    assert float(acc(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.7], [0.6]]))) == 0.5


def test_names_follow_what_the_user_passed():
    assert metrics.get("mse").name == "mse"
    assert metrics.get("mean_squared_error").name == "mean_squared_error"
    assert metrics.get("Accuracy").name == "Accuracy"
    assert metrics.get(metrics.CategoricalAccuracy()).name == "categorical_accuracy"
    assert metrics.get(metrics.TopKCategoricalAccuracy).name == "top_k_categorical_accuracy"
    assert metrics.get(losses.MeanAbsoluteError()).name == "mean_absolute_error"
    assert metrics.get(metrics.categorical_accuracy).name == "categorical_accuracy"
    assert metrics.get(losses.mean_squared_error).name == "mean_squared_error"

    def mean_pred(y_true, y_pred):
        return y_pred.mean()

    m = metrics.get(mean_pred)
    assert m.name == "mean_pred" and m.direction is None
    assert float(m(torch.zeros(2, 1), torch.ones(2, 1))) == 1.0


@pytest.mark.parametrize("name,direction", [
    ("mse", "down"), ("mae", "down"), ("mape", "down"), ("msle", "down"),
    ("categorical_crossentropy", "down"), ("hinge", "down"), ("kld", "down"),
    ("poisson", "down"), ("logcosh", "down"), ("huber", "down"),
    ("binary_accuracy", "up"), ("top_k_categorical_accuracy", "up"),
    ("cosine_similarity", "up"),
])
def test_get_direction(name, direction):
    assert metrics.get(name).direction == direction


@pytest.mark.parametrize("name,direction", [
    ("loss", "down"), ("val_loss", "down"), ("output_1_loss", "down"),
    ("val_dense_2_loss", "down"), ("mse", "down"), ("val_mae", "down"),
    ("mean_absolute_error", "down"), ("mape", "down"), ("val_msle", "down"),
    ("categorical_crossentropy", "down"), ("val_squared_hinge", "down"),
    ("kullback_leibler_divergence", "down"), ("rmse", "down"),
    ("acc", "up"), ("val_acc", "up"), ("accuracy", "up"), ("val_accuracy", "up"),
    ("categorical_accuracy", "up"), ("val_sparse_categorical_accuracy", "up"),
    ("auc", "up"), ("val_auc", "up"), ("auc_1", "up"), ("precision", "up"),
    ("val_recall", "up"), ("f1", "up"), ("f1_score", "up"), ("fbeta", "up"),
    ("fmeasure", "up"), ("top_k_categorical_accuracy", "up"), ("out_acc", "up"),
    ("lr", None), ("learning_rate", None), ("batch", None), ("mean_pred", None),
    ("val_foo", None),
])
def test_direction_of(name, direction):
    assert metrics.direction_of(name) == direction


def test_config_round_trip():
    m = metrics.BinaryAccuracy(threshold=0.3, name="ba")
    again = metrics.deserialize(metrics.serialize(m))
    assert type(again) is metrics.BinaryAccuracy and again.threshold == 0.3
    assert again.name == "ba"


def test_bad_input():
    with pytest.raises(ValueError, match="Unknown metric: 'acuracy'.*'accuracy'"):
        metrics.get("acuracy")
    with pytest.raises(TypeError, match="metric identifier"):
        metrics.get(3.5)
    with pytest.raises(TypeError, match="'thresh'"):
        metrics.BinaryAccuracy(thresh=0.2)
    with pytest.raises(TypeError, match="direction_of"):
        metrics.direction_of(None)
    with pytest.raises(ValueError, match="Unknown metric class"):
        metrics.deserialize({"class_name": "Nope", "config": {}})


def test_metrics_do_not_track_gradients_or_state():
    acc = metrics.get("categorical_accuracy")
    y_pred = torch.rand(4, 3, requires_grad=True)
    y_true = torch.eye(3)[torch.tensor([0, 1, 2, 0])]
    a, b = acc(y_true, y_pred), acc(y_true, y_pred)
    assert float(a) == float(b)  # stateless: same batch, same value
    assert not a.requires_grad


def test_numpy_inputs():
    acc = metrics.get("accuracy", loss="sparse_categorical_crossentropy")
    assert float(acc(np.array([0, 1]), np.array([[0.9, 0.1], [0.9, 0.1]]))) == 0.5
    m = metrics.get(lambda y_true, y_pred: (y_true == y_pred).float().mean(-1))
    assert m.name == "<lambda>"
    assert float(m(np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]]))) == 0.5


@pytest.mark.parametrize("dtype", [bool, np.int32, np.float32])
def test_categorical_accuracy_takes_one_hot_targets_of_any_dtype(dtype):
    # Keras 2 scripts build one-hot targets as np.zeros(..., dtype=bool) (addition_rnn)
    y_true = np.eye(3, dtype=dtype)[[0, 2, 1]]
    y_pred = torch.tensor([[.8, .1, .1], [.1, .2, .7], [.6, .3, .1]])
    np.testing.assert_array_equal(metrics.categorical_accuracy(y_true, y_pred).numpy(), [1., 1., 0.])
