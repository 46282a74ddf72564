"""Keras 2 masks metrics as it masks losses: with an output mask (Embedding(mask_zero=True) ahead),
a stateless metric is the mean over the unmasked steps, and a weighted metric weighs them."""
import numpy as np
import pytest
import torch

from kerosene.layers import LSTM, Dense, Embedding, TimeDistributed
from kerosene.models import Sequential

RNG = np.random.RandomState(3)
X = RNG.randint(1, 10, size=(16, 6))
X[:, 4:] = 0                      # the last two steps of every row are padding
X[:5, 2:] = 0                     # and four steps of five rows
Y = np.eye(3, dtype="float32")[RNG.randint(0, 3, size=(16, 6))]


def masked_model(**compile_kwargs):
    torch.manual_seed(0)
    model = Sequential([Embedding(10, 4, mask_zero=True, input_length=6), LSTM(5, return_sequences=True),
                        TimeDistributed(Dense(3, activation="softmax"))])
    model.compile("rmsprop", "categorical_crossentropy", **compile_kwargs)
    return model


def test_accuracy_counts_only_the_unmasked_steps():
    model = masked_model(metrics=["acc"])
    hits = (model.predict(X).argmax(-1) == Y.argmax(-1)).astype("float64")
    mask = X != 0
    expected = hits[mask].mean()
    assert abs(expected - hits.mean()) > 1e-3      # masking changes the value here
    loss, acc = model.evaluate(X, Y, batch_size=16, verbose=0)
    assert acc == pytest.approx(expected, abs=1e-6)
    history = model.fit(X, Y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert 0.0 <= history.history["acc"][0] <= 1.0


def test_a_weighted_metric_weighs_the_unmasked_steps_as_keras_2():
    model = masked_model(metrics=["mae"], weighted_metrics=["mae"], sample_weight_mode="temporal")
    weights = RNG.rand(16, 6).astype("float32")
    weights[0] = 0.0
    per_step = np.abs(model.predict(X) - Y).mean(-1)
    mask = (X != 0).astype("float64")
    masked = per_step * mask / mask.mean()
    expected_weighted = (masked * weights).mean() / (weights != 0).mean()
    results = dict(zip(model.metrics_names, model.evaluate(X, Y, sample_weight=weights, batch_size=16, verbose=0)))
    assert results["mae"] == pytest.approx(masked.mean(), rel=1e-5)
    assert results["weighted_mae"] == pytest.approx(expected_weighted, rel=1e-5)


def test_without_a_mask_metrics_are_unchanged():
    torch.manual_seed(0)
    model = Sequential([Embedding(10, 4, input_length=6), LSTM(5, return_sequences=True),
                        TimeDistributed(Dense(3, activation="softmax"))])
    model.compile("rmsprop", "categorical_crossentropy", metrics=["acc"])
    hits = model.predict(X).argmax(-1) == Y.argmax(-1)
    assert model.evaluate(X, Y, batch_size=16, verbose=0)[1] == pytest.approx(hits.mean(), abs=1e-6)
