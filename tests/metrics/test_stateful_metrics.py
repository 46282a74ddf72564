"""Keras 2.2 stateful metrics: reset at each epoch and evaluation, logged as their running value."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene import layers as L
from kerosene import metrics
from kerosene.callbacks import Callback
from kerosene.engine.logs import EpochAggregator
from kerosene.models import Model


class SeenRows(L.Layer):
    """Counts the rows seen since the last reset (a running value, not a batch mean)."""

    def __init__(self, name="seen_rows", **kwargs):
        super().__init__(name=name, **kwargs)
        self.stateful = True
        self.count = K.variable(0, dtype="int32")
        self.resets = 0

    def reset_states(self):
        self.resets += 1
        K.set_value(self.count, 0)

    def __call__(self, y_true, y_pred):
        before = self.count * 1
        self.add_update(K.update_add(self.count, K.cast(K.shape(y_true)[0], "int32")), inputs=[y_true])
        return before + K.cast(K.shape(y_true)[0], "int32")


def _model(metric):
    a = L.Input(shape=(2,))
    model = Model(a, L.Dense(1, activation="sigmoid", name="out")(a))
    model.compile("sgd", "binary_crossentropy", metrics=["acc", metric])
    return model


X = np.random.default_rng(0).random((25, 2)).astype("float32")
Y = (X[:, :1] > 0.5).astype("float32")


class BatchValues(Callback):
    def __init__(self):
        super().__init__()
        self.batches, self.epochs = [], []

    def on_batch_end(self, batch, logs=None):
        self.batches.append(float(logs["seen_rows"]))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(logs)


def test_get_wraps_a_stateful_layer_under_its_name():
    metric = metrics.get(SeenRows())
    assert isinstance(metric, metrics.StatefulMetric) and metric.stateful and metric.name == "seen_rows"
    assert not metrics.get("acc").stateful
    with pytest.raises(TypeError, match="reset_states"):
        metrics.StatefulMetric(lambda y_true, y_pred: 0)


def test_fit_logs_running_value_and_resets_each_epoch_and_evaluation():
    keeper = SeenRows()
    model = _model(keeper)
    record = BatchValues()
    history = model.fit(X, Y, batch_size=10, epochs=2, validation_data=(X[:7], Y[:7]), verbose=0,
                        callbacks=[record])
    assert record.batches == [10, 20, 25, 10, 20, 25]          # running, from zero each epoch
    assert history.history["seen_rows"] == [25, 25]            # the last value, not the batch mean
    assert history.history["val_seen_rows"] == [7, 7]          # validation counts from zero too
    assert model.evaluate(X, Y, batch_size=4, verbose=0)[2] == 25
    assert keeper.resets >= 5


def test_train_on_batch_resets_unless_told_not_to():
    model = _model(SeenRows())
    assert model.train_on_batch(X[:4], Y[:4])[2] == 4
    assert model.train_on_batch(X[:4], Y[:4])[2] == 4
    assert model.train_on_batch(X[:4], Y[:4], reset_metrics=False)[2] == 8
    assert model.test_on_batch(X[:3], Y[:3], reset_metrics=False)[2] == 11


def test_aggregator_last_value_keys():
    agg = EpochAggregator(last_value_keys=["count"])
    agg.update({"loss": torch.tensor(1.0), "count": torch.tensor(3)}, 2)
    agg.update({"loss": torch.tensor(3.0), "count": torch.tensor(7)}, 2)
    assert agg.result() == {"loss": 2.0, "count": 7.0}


def test_add_update_runs_callables_and_refuses_other_values():
    layer = L.Layer()
    calls = []
    layer.add_update([lambda: calls.append(1), K.update_add(K.variable(0.0), 1.0)])
    assert calls == [1]
    with pytest.raises(TypeError, match="add_update: `updates`.*str"):
        layer.add_update("x")
    layer.reset_states()       # a layer without state: nothing to do


def test_state_tensors_follow_the_data_device():
    from kerosene.metrics.classes import _follow_device
    keeper = SeenRows()
    _follow_device(keeper, torch.zeros(1))
    assert keeper.count.device.type == "cpu"
    _follow_device(keeper, torch.zeros(1, device="meta"))      # any other device: the tensors move there
    assert keeper.count.device.type == "meta"
