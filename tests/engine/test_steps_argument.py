"""steps_per_epoch / validation_steps / steps: whole or fractional batch counts (Keras 2's
generator loops count up a fraction), and clear errors for the rest."""
import warnings

import numpy as np
import pytest

from kerosene.callbacks import Callback
from kerosene.layers import Dense
from kerosene.models import Sequential
from kerosene.utils import Sequence

X = np.random.RandomState(0).rand(20, 3).astype("float32")
Y = np.random.RandomState(1).rand(20, 1).astype("float32")


def model():
    m = Sequential([Dense(1, input_dim=3)])
    m.compile("sgd", "mse")
    return m


def endless(batch=8):
    while True:
        for i in range(0, 20, batch):
            yield X[i:i + batch], Y[i:i + batch]


class CountBatches(Callback):
    def on_train_begin(self, logs=None):
        self.batches = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)

    def on_batch_end(self, batch, logs=None):
        self.batches[-1] += 1


def test_a_fractional_steps_per_epoch_counts_up_as_keras_2_generator_loops_do():
    counter = CountBatches()
    model().fit_generator(endless(), steps_per_epoch=len(X) / 8, epochs=2, verbose=0, callbacks=[counter])
    assert counter.batches == [3, 3]        # 2.5 steps: three batches cover every sample


def test_whole_floats_and_numpy_integers_are_taken_as_they_are():
    counter = CountBatches()
    model().fit_generator(endless(), steps_per_epoch=np.int64(2), epochs=1, verbose=0, callbacks=[counter])
    model().fit_generator(endless(), steps_per_epoch=2.0, epochs=1, verbose=0, callbacks=[counter])
    assert counter.batches == [2]
    m = model()
    assert np.isfinite(m.evaluate_generator(endless(), steps=1.5))


@pytest.mark.parametrize("bad", [0, -1, -0.5, float("nan"), float("inf"), True, "3"])
def test_bad_steps_are_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match=r"`steps` must be a positive number of batches or None, got"):
        model().fit_generator(endless(), steps_per_epoch=bad, epochs=1, verbose=0)


class Batches(Sequence):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return X[i * 4:(i + 1) * 4], Y[i * 4:(i + 1) * 4]


def test_more_steps_than_a_sequence_holds_runs_the_sequence_once_with_a_warning():
    counter = CountBatches()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model().fit_generator(Batches(), steps_per_epoch=5, epochs=1, verbose=0, callbacks=[counter])
    assert counter.batches == [3]
    ours = [w for w in caught if "5 steps asked of a Sequence of 3 batches" in str(w.message)]
    assert ours and ours[0].filename == __file__
