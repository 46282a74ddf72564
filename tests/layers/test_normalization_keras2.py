"""BatchNormalization's update ops as Keras 2.2.4 lists them: none for calls with training=False."""
import numpy as np

from kerosene import layers as L
from kerosene.models import Model

X = np.random.default_rng(1).normal(5.0, 10.0, size=(20, 10)).astype("float32")


def _fitted(training):
    bn = L.BatchNormalization()
    x = L.Input(shape=(10,))
    model = Model(x, bn(x, training=training))
    model.compile("rmsprop", "mse")
    model.fit(X, X, epochs=1, verbose=0)
    return bn


def test_training_false_call_has_no_updates_and_keeps_the_moving_statistics():
    bn = _fitted(False)
    assert bn.updates == []
    mean, var = bn.get_weights()[2:]
    np.testing.assert_array_equal(mean, np.zeros(10))
    np.testing.assert_array_equal(var, np.ones(10))


def test_training_true_call_lists_and_applies_its_updates():
    bn = _fitted(True)
    assert len(bn.updates) == 2
    np.testing.assert_allclose(bn.get_weights()[2], 0.01 * X.mean(0), rtol=1e-4)   # one step, momentum 0.99


def test_training_zero_counts_as_false_and_a_second_call_without_it_has_updates():
    bn = L.BatchNormalization()
    a, b = L.Input(shape=(10,)), L.Input(shape=(10,))
    bn(a, training=0)
    assert bn.updates == []
    bn(b)
    assert len(bn.updates) == 2
    bn.trainable = False
    assert bn.updates == []
