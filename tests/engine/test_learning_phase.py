"""K.set_learning_phase fixes the mode every loop runs its layers in, as in Keras 2."""
import numpy as np
import pytest

from kerosene import backend as K
from kerosene.layers import BatchNormalization, Dense, Dropout, Input
from kerosene.models import Model, Sequential


@pytest.fixture(autouse=True)
def unset_phase():
    yield
    K.clear_session()


def _dropout_model():
    model = Sequential([Dense(50, input_shape=(4,), kernel_initializer="ones"), Dropout(0.5)])
    model.compile("sgd", "mse")
    return model


def test_phase_1_makes_predict_and_evaluate_sample_dropout():
    model = _dropout_model()
    x = np.ones((8, 4), "float32")
    np.testing.assert_array_equal(model.predict(x), np.full((8, 50), 4.0))
    K.set_learning_phase(1)
    out = model.predict(x)
    assert (out == 0).any() and (out == 8.0).any()          # dropped units, survivors scaled by 2
    assert not np.array_equal(out, model.predict_on_batch(x))
    assert model.evaluate(x, np.full((8, 50), 4.0), verbose=0) > 0
    K.clear_session()
    np.testing.assert_array_equal(model.predict(x), np.full((8, 50), 4.0))


def test_phase_0_makes_fit_use_the_moving_statistics_of_batch_normalization():
    x_in = Input(shape=(3,))
    bn = BatchNormalization()
    model = Model(x_in, bn(x_in))
    model.compile("sgd", "mse")
    before = [w.copy() for w in bn.get_weights()]
    x = np.random.RandomState(0).normal(5.0, 2.0, (32, 3)).astype("float32")
    K.set_learning_phase(0)
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    moving_mean, moving_var = bn.get_weights()[2:]
    np.testing.assert_array_equal(moving_mean, before[2])
    np.testing.assert_array_equal(moving_var, before[3])
    K.clear_session()
    model.train_on_batch(x, x)
    assert not np.array_equal(bn.get_weights()[2], before[2])


def test_set_learning_phase_refuses_other_values():
    for bad in (2, -1, 0.5, "1", None):
        with pytest.raises(ValueError, match="set_learning_phase"):
            K.set_learning_phase(bad)


def test_layer_updates_are_the_moving_statistics_of_a_trainable_batch_normalization():
    bn = BatchNormalization(input_shape=(4,))
    bn(Input(shape=(4,)))
    assert len(bn.updates) == 2 and all(u.shape == (4,) for u in bn.updates)
    bn.trainable = False
    assert bn.updates == [] and Dense(2).updates == []
