"""kerosene.losses against Keras 3 (torch backend) on random inputs, plus reduction,
sample weights, name resolution and bad input."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import losses

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(0)
N, C = 16, 5


def _probs(n=N, c=C):
    p = RNG.random((n, c)).astype("float32") + 0.05
    return p / p.sum(-1, keepdims=True)


def _onehot(n=N, c=C):
    return np.eye(c, dtype="float32")[RNG.integers(0, c, n)]


def _np(x):
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


def _inputs(kind):
    if kind == "cce":
        return _onehot(), _probs()
    if kind == "cce-logits":
        return _onehot(), RNG.normal(size=(N, C)).astype("float32") * 3
    if kind == "binary":
        return (RNG.random((N, 3)) > 0.5).astype("float32"), RNG.random((N, 3)).astype("float32")
    if kind == "binary-extreme":  # exercises the [eps, 1 - eps] clipping
        y = (RNG.random((N, 3)) > 0.5).astype("float32")
        p = RNG.choice([0.0, 1.0, 0.5, 1e-9], size=(N, 3)).astype("float32")
        return y, p
    if kind == "binary-logits":
        return (RNG.random((N, 3)) > 0.5).astype("float32"), RNG.normal(size=(N, 3)).astype("float32") * 4
    if kind == "regression":
        return RNG.normal(size=(N, 3)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32")
    if kind == "positive":
        return RNG.random((N, 3)).astype("float32") * 3, RNG.random((N, 3)).astype("float32") * 3
    if kind == "hinge":  # {0, 1} labels converted to {-1, 1}
        return (RNG.random((N, 3)) > 0.5).astype("float32"), RNG.normal(size=(N, 3)).astype("float32")
    if kind == "hinge-pm1":
        return RNG.choice([-1.0, 1.0], size=(N, 3)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32")
    raise AssertionError(kind)


FUNCTION_CASES = [
    # (kerosene name, keras function name, input kind, kwargs)
    ("categorical_crossentropy", "categorical_crossentropy", "cce", {}),
    ("categorical_crossentropy", "categorical_crossentropy", "cce-logits", {"from_logits": True}),
    ("categorical_crossentropy", "categorical_crossentropy", "cce", {"label_smoothing": 0.2}),
    ("binary_crossentropy", "binary_crossentropy", "binary", {}),
    ("binary_crossentropy", "binary_crossentropy", "binary-extreme", {}),
    ("binary_crossentropy", "binary_crossentropy", "binary-logits", {"from_logits": True}),
    ("binary_crossentropy", "binary_crossentropy", "binary", {"label_smoothing": 0.1}),
    ("mean_squared_error", "mean_squared_error", "regression", {}),
    ("mean_absolute_error", "mean_absolute_error", "regression", {}),
    ("mean_absolute_percentage_error", "mean_absolute_percentage_error", "regression", {}),
    ("mean_squared_logarithmic_error", "mean_squared_logarithmic_error", "regression", {}),
    ("mean_squared_logarithmic_error", "mean_squared_logarithmic_error", "positive", {}),
    ("huber", "huber", "regression", {}),
    ("huber", "huber", "regression", {"delta": 0.5}),
    ("kl_divergence", "kl_divergence", "cce", {}),
    ("kl_divergence", "kl_divergence", "regression", {}),
    ("hinge", "hinge", "hinge", {}),
    ("hinge", "hinge", "hinge-pm1", {}),
    ("squared_hinge", "squared_hinge", "hinge", {}),
    ("squared_hinge", "squared_hinge", "hinge-pm1", {}),
    ("categorical_hinge", "categorical_hinge", "cce", {}),
    ("poisson", "poisson", "positive", {}),
    ("log_cosh", "log_cosh", "regression", {}),
    ("cosine_similarity", "cosine_similarity", "regression", {}),
]


@pytest.mark.parametrize("name,keras_name,kind,kwargs", FUNCTION_CASES,
                         ids=[f"{c[0]}-{c[2]}-{'-'.join(c[3]) or 'default'}" for c in FUNCTION_CASES])
def test_function_matches_keras3(name, keras_name, kind, kwargs):
    y_true, y_pred = _inputs(kind)
    expected = _np(getattr(keras.losses, keras_name)(y_true, y_pred, **kwargs))
    got = getattr(losses, name)(torch.tensor(y_true), torch.tensor(y_pred), **kwargs)
    assert got.shape == (N,)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-5, atol=1e-5)


CLASS_CASES = [
    ("CategoricalCrossentropy", "cce", {}),
    ("CategoricalCrossentropy", "cce-logits", {"from_logits": True}),
    ("BinaryCrossentropy", "binary", {}),
    ("MeanSquaredError", "regression", {}),
    ("MeanAbsoluteError", "regression", {}),
    ("MeanAbsolutePercentageError", "regression", {}),
    ("MeanSquaredLogarithmicError", "positive", {}),
    ("Huber", "regression", {"delta": 2.0}),
    ("KLDivergence", "cce", {}),
    ("Hinge", "hinge", {}),
    ("SquaredHinge", "hinge", {}),
    ("CategoricalHinge", "cce", {}),
    ("Poisson", "positive", {}),
    ("LogCosh", "regression", {}),
    ("CosineSimilarity", "regression", {}),
]


@pytest.mark.parametrize("class_name,kind,kwargs", CLASS_CASES, ids=[c[0] + "-" + c[1] for c in CLASS_CASES])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_class_reduction_matches_keras3(class_name, kind, kwargs, weighted):
    y_true, y_pred = _inputs(kind)
    sw = RNG.random(N).astype("float32") if weighted else None
    expected = float(getattr(keras.losses, class_name)(**kwargs)(y_true, y_pred, sample_weight=sw))
    loss = getattr(losses, class_name)(**kwargs)
    got = loss(torch.tensor(y_true), torch.tensor(y_pred),
               None if sw is None else torch.tensor(sw))
    assert got.dim() == 0
    assert float(got) == pytest.approx(expected, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("label_shape", ["(n,)", "(n,1)"])
@pytest.mark.parametrize("label_dtype", ["int64", "int32", "float32"])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy(label_shape, label_dtype, from_logits):
    labels = RNG.integers(0, C, N)
    y_pred = RNG.normal(size=(N, C)).astype("float32") if from_logits else _probs()
    expected = _np(keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits))
    y_true = labels.astype(label_dtype)
    if label_shape == "(n,1)":
        y_true = y_true[:, None]
    got = losses.sparse_categorical_crossentropy(torch.tensor(y_true), torch.tensor(y_pred),
                                                 from_logits=from_logits)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-5, atol=1e-5)
    # numpy inputs work too
    got_np = losses.SparseCategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)
    assert float(got_np) == pytest.approx(float(expected.mean()), rel=1e-5)


def test_categorical_crossentropy_normalises_and_clips_probabilities():
    y_true = torch.tensor([[0.0, 1.0, 0.0]])
    unnormalised = torch.tensor([[1.0, 2.0, 1.0]])  # normalised to [.25, .5, .25]
    assert float(losses.categorical_crossentropy(y_true, unnormalised)) == pytest.approx(np.log(2))
    zero = torch.tensor([[1.0, 0.0, 0.0]])
    assert float(losses.categorical_crossentropy(y_true, zero)) == pytest.approx(-np.log(1e-7), rel=1e-4)


def test_sequence_outputs_average_over_all_positions():
    y_true = RNG.normal(size=(4, 7, 3)).astype("float32")
    y_pred = RNG.normal(size=(4, 7, 3)).astype("float32")
    sw = RNG.random(4).astype("float32")
    # Keras 3 wants the weights broadcast by hand; kerosene broadcasts (n,) itself
    sw_full = np.broadcast_to(sw[:, None], (4, 7)).copy()
    expected = float(keras.losses.MeanSquaredError()(y_true, y_pred, sample_weight=sw_full))
    got = losses.MeanSquaredError()(torch.tensor(y_true), torch.tensor(y_pred), torch.tensor(sw))
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_rank_alignment_and_target_cast():
    y_true = torch.tensor([1, 0, 1])  # int (n,) against float (n, 1)
    y_pred = torch.tensor([[0.5], [0.25], [1.0]])
    per_sample = losses.mean_squared_error(y_true, y_pred)
    assert per_sample.shape == (3,) and per_sample.dtype == torch.float32
    assert torch.allclose(per_sample, torch.tensor([0.25, 0.0625, 0.0]))
    double = losses.mse(y_true.double(), y_pred)  # cast to y_pred's dtype
    assert double.dtype == torch.float32


def test_sample_weight_reduction_semantics():
    loss = losses.MeanAbsoluteError()
    y_true, y_pred = torch.zeros(4, 1), torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    sw = torch.tensor([1.0, 0.0, 0.0, 1.0])
    assert float(loss(y_true, y_pred, sw)) == pytest.approx((1 + 4) / 4)  # sum / batch size
    assert float(loss(y_true, y_pred, sw[:, None])) == pytest.approx(1.25)
    assert float(losses.MeanAbsoluteError(reduction="sum")(y_true, y_pred, sw)) == 5.0
    assert losses.MeanAbsoluteError(reduction="none")(y_true, y_pred).shape == (4,)


def test_get_names_and_aliases():
    for name, cls in [("categorical_crossentropy", losses.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
                      ("binary_crossentropy", losses.BinaryCrossentropy),
                      ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
                      ("mae", losses.MeanAbsoluteError), ("mape", losses.MeanAbsolutePercentageError),
                      ("msle", losses.MeanSquaredLogarithmicError), ("huber", losses.Huber),
                      ("kld", losses.KLDivergence), ("kullback_leibler_divergence", losses.KLDivergence),
                      ("hinge", losses.Hinge), ("squared_hinge", losses.SquaredHinge),
                      ("categorical_hinge", losses.CategoricalHinge), ("poisson", losses.Poisson),
                      ("logcosh", losses.LogCosh), ("log_cosh", losses.LogCosh),
                      ("cosine_similarity", losses.CosineSimilarity),
                      ("MeanSquaredError", losses.MeanSquaredError)]:
        loss = losses.get(name)
        assert type(loss) is cls, name
        assert loss.direction == "down"
    assert losses.get("categorical_crossentropy").name == "categorical_crossentropy"
    assert losses.get("mse").name == "mean_squared_error"
    assert losses.get(losses.Huber).name == "huber"
    inst = losses.CategoricalCrossentropy(from_logits=True)
    assert losses.get(inst) is inst
    assert losses.get(None) is None
    assert type(losses.get(losses.mean_squared_error)) is losses.MeanSquaredError


def test_get_wraps_callables():
    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().mean(-1)

    loss = losses.get(my_loss)
    assert loss.name == "my_loss"
    assert float(loss(torch.zeros(2, 3), torch.ones(2, 3), torch.tensor([1.0, 0.0]))) == 0.5
    # a scalar-returning torch loss, with integer labels kept as integers
    ce = losses.get(torch.nn.CrossEntropyLoss())
    assert ce.name == "cross_entropy_loss"
    logits = torch.randn(4, 3)
    labels = torch.tensor([0, 2, 1, 1])
    assert torch.allclose(ce(labels, logits), torch.nn.functional.cross_entropy(logits, labels))


def test_config_round_trip():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, name="cce")
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is losses.CategoricalCrossentropy
    assert again.get_config() == loss.get_config()
    assert again.from_logits is True and again.name == "cce"


def test_bad_input():
    with pytest.raises(ValueError, match="Unknown loss: 'msee'.*mean_squared_error"):
        losses.get("msee")
    with pytest.raises(TypeError, match="loss identifier"):
        losses.get(42)
    with pytest.raises(TypeError, match="'from_logit'"):
        losses.CategoricalCrossentropy(from_logit=True)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="same shape"):
        losses.categorical_crossentropy(torch.tensor([0, 1]), torch.rand(2, 3))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(torch.zeros(2, 3), torch.rand(2, 3))


def test_gradients_flow_and_no_sync_ops():
    y_pred = torch.rand(8, 4, requires_grad=True)
    y_true = torch.eye(4)[torch.randint(0, 4, (8,))]
    for name in ["categorical_crossentropy", "binary_crossentropy", "hinge", "kld",
                 "cosine_similarity", "log_cosh", "poisson", "huber"]:
        y_pred.grad = None
        losses.get(name)(y_true, y_pred).backward()
        assert y_pred.grad is not None and torch.isfinite(y_pred.grad).all(), name


def test_custom_loss_subclass_gets_tensors():
    class MyLoss(losses.Loss):
        def call(self, y_true, y_pred):
            assert isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor)
            return (y_true - y_pred).square().sum(-1)

    loss = MyLoss()
    assert loss.name == "my_loss"
    value = loss(np.zeros((2, 2)), np.ones((2, 2), dtype="float32"))
    assert float(value) == 2.0


def test_binary_crossentropy_refuses_targets_outside_0_1_naming_them():
    y_pred = torch.full((4, 1), 0.5)
    with pytest.raises(ValueError, match=r"y_true.*\[0, 1\].*from 0 to 3.*sparse_categorical_crossentropy"):
        losses.binary_crossentropy(torch.tensor([[0.0], [1.0], [2.0], [3.0]]), y_pred)
    with pytest.raises(ValueError, match="from -1 to 1"):
        losses.BinaryCrossentropy(from_logits=True)(torch.tensor([[-1.0], [1.0], [1.0], [-1.0]]), y_pred)
    soft = losses.binary_crossentropy(torch.tensor([[0.0], [0.25], [1.0], [0.5]]), y_pred)   # probabilities are fine
    assert torch.allclose(soft, torch.full((4,), 0.693147), atol=1e-5)


def test_fit_with_binary_crossentropy_on_class_ids_fails_before_training():
    import kerosene
    model = kerosene.Sequential([kerosene.layers.Dense(1, input_dim=3, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    x = np.ones((8, 3), dtype="float32")
    with pytest.raises(ValueError, match=r"binary_crossentropy: `y_true` must hold values in \[0, 1\]"):
        model.fit(x, np.arange(8, dtype="float32")[:, None], epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
