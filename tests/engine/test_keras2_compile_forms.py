"""Keras 2's compile forms: dicts keyed by a single output's name, weighted_metrics,
loss_weights types, weighted_masked_objective on symbolic tensors, channels-first crossentropy."""
import numpy as np
import pytest
import torch

import kerosene
from kerosene import backend as K
from kerosene import losses
from kerosene.engine import training_utils
from kerosene.layers import Dense, Input
from kerosene.models import Model


def _single(name="model_output"):
    inputs = Input((2,))
    return Model(inputs, Dense(1, name=name)(inputs))


def test_loss_and_metrics_dicts_keyed_by_the_single_output_name(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 2)), rng.random((32, 1))
    model = _single()
    model.compile("sgd", loss={"model_output": "mse"}, metrics={"model_output": "mae"})
    history = model.fit(x, y, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    path = tmp_path / "model.hdf"  # Keras 2 saves HDF5 whatever the suffix; .hdf is the one its tests use
    model.save(path)
    loaded = kerosene.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5)


@pytest.mark.parametrize("argname", ["loss", "metrics", "weighted_metrics"])
def test_a_dict_keyed_by_another_name_names_the_keys_and_the_output(argname):
    model = _single()
    kwargs = {"loss": "mse", argname: {"dense_9": "mae"}}
    with pytest.raises(ValueError, match=rf"`{argname}` is a dict with keys \['dense_9'\] but the model has a "
                                         r"single output named 'model_output'"):
        model.compile("sgd", **kwargs)


def test_loss_weights_as_a_tuple_is_a_type_error_as_in_keras2():
    inputs = Input((2,))
    model = Model(inputs, [Dense(1, name="a")(inputs), Dense(1, name="b")(inputs)])
    with pytest.raises(TypeError, match=r"`loss_weights` must be a list .* got the tuple \(1.0, 0.5\)"):
        model.compile("sgd", "mse", loss_weights=(1.0, 0.5))
    model.compile("sgd", "mse", loss_weights=[1.0, 0.5])  # the list form stays accepted


def _by_hand_weighted(values, weights):
    """Keras 2's weighting of a per-sample score: sum(w * v) / count(w != 0)."""
    return float(np.sum(values * weights) / np.count_nonzero(weights))


def test_weighted_metrics_are_logged_as_weighted_name_and_weighed_as_keras2():
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 2)).astype("float32"), rng.random((16, 1)).astype("float32")
    weights = np.where(np.arange(16) % 4 == 0, 0.0, rng.random(16) + 0.5)
    model = _single()
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mae"])
    logs = model.test_on_batch(x, y, sample_weight=weights)
    assert model.metrics_names == ["loss", "mae", "weighted_mae"]
    pred = model.predict(x, verbose=0)
    err = np.abs(pred - y)[:, 0]
    assert logs[1] == pytest.approx(float(err.mean()), rel=1e-5)
    assert logs[2] == pytest.approx(_by_hand_weighted(err, weights), rel=1e-5)
    assert logs[1] != pytest.approx(logs[2], rel=1e-3)
    unweighted = model.test_on_batch(x, y)  # no sample weights: the weighted value is the plain one
    assert unweighted[2] == pytest.approx(unweighted[1], rel=1e-6)


def test_weighted_metrics_survive_save_and_load(tmp_path):
    model = _single()
    model.compile("sgd", "mse", weighted_metrics=["mae"])
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    model.test_on_batch(x, y)
    model.save(tmp_path / "m.h5")
    loaded = kerosene.models.load_model(tmp_path / "m.h5")
    loaded.test_on_batch(x, y)
    assert loaded.metrics_names == ["loss", "weighted_mae"]


def test_weighted_acc_in_history_per_output_and_by_dict():
    rng = np.random.default_rng(2)
    x = rng.random((40, 3)).astype("float32")
    y = (x[:, :1] > 0.5).astype("float32")
    inputs = Input((3,))
    model = Model(inputs, [Dense(1, activation="sigmoid", name="a")(inputs),
                           Dense(1, activation="sigmoid", name="b")(inputs)])
    model.compile("sgd", "binary_crossentropy", metrics=["acc"], weighted_metrics={"b": ["acc"]})
    weights = {"b": np.where(np.arange(40) < 20, 0.0, 1.0)}
    history = model.fit(x, [y, y], sample_weight=weights, epochs=1, batch_size=40, verbose=0)
    assert {"a_acc", "b_acc", "b_weighted_acc"} <= set(history.history)
    assert "a_weighted_acc" not in history.history
    logs = dict(zip(model.metrics_names, model.test_on_batch(x, [y, y], sample_weight=weights)))
    hits = ((model.predict(x, verbose=0)[1] > 0.5) == (y > 0.5))[:, 0].astype("float64")
    assert logs["b_acc"] == pytest.approx(hits.mean(), rel=1e-6)
    assert logs["b_weighted_acc"] == pytest.approx(_by_hand_weighted(hits, weights["b"]), rel=1e-6)
    with pytest.raises(TypeError, match="`weighted_metrics` must be a list of metrics, got str"):
        _single().compile("sgd", "mse", weighted_metrics="mae")


def test_weighted_masked_objective_on_symbolic_tensors_is_evaluated_by_k_function():
    a = Input(shape=(3,), name="input_a")
    weighted = training_utils.weighted_masked_objective(losses.categorical_crossentropy)
    symbolic = weighted(a, a, None)
    assert K.is_keras_tensor(symbolic)
    x = np.array([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]], "float32")
    (value,) = K.function([a], [symbolic])([x])
    assert float(value) == pytest.approx(float(weighted(x, x, None)), rel=1e-6)
    assert float(value) == pytest.approx(float(np.mean(-np.sum(x * np.log(x), axis=1))), rel=1e-5)


def test_sparse_categorical_crossentropy_over_a_channels_first_axis():
    rng = np.random.default_rng(3)
    probs = torch.softmax(torch.as_tensor(rng.random((2, 4, 3, 3)), dtype=torch.float32), dim=1)
    labels = torch.as_tensor(rng.integers(0, 4, (2, 1, 3, 3)))
    first = K.sparse_categorical_crossentropy(labels, probs, axis=1)
    last = K.sparse_categorical_crossentropy(labels[:, 0], probs.movedim(1, -1), axis=-1)
    assert first.shape == (2, 3, 3)
    torch.testing.assert_close(first, last)
    picked = torch.gather(probs, 1, labels).squeeze(1)
    torch.testing.assert_close(first, -torch.log(picked))
    with pytest.raises(ValueError, match=r"`target` of shape \(2, 2, 3, 3\) must hold one class index"):
        K.sparse_categorical_crossentropy(torch.zeros(2, 2, 3, 3), probs, axis=1)
