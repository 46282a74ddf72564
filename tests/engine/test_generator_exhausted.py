"""A Python generator that runs out before steps_per_epoch, in a run or while a resumed run drops
the batches the interrupted run had used: a ValueError saying after how many of how many steps."""
import warnings

import numpy as np
import pytest
import torch

from kerosene.callbacks import BackupAndRestore, Callback
from kerosene.layers import Dense
from kerosene.models import Sequential

RNG = np.random.RandomState(0)
X, Y = RNG.rand(4, 3).astype("float32"), RNG.rand(4, 1).astype("float32")


class Boom(RuntimeError):
    pass


class CrashAt(Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Boom("interrupted")


def batches(count=None):
    n = 0
    while count is None or n < count:
        n += 1
        yield X, Y


def model():
    torch.manual_seed(0)
    m = Sequential([Dense(1, input_shape=(3,))])
    m.compile("sgd", "mse")
    return m


def test_a_generator_shorter_than_steps_per_epoch():
    with pytest.raises(ValueError, match=r"The generator ran out after 3 of steps_per_epoch=5 steps \(epoch 1\)"):
        model().fit(batches(3), steps_per_epoch=5, epochs=2, verbose=0)
    with pytest.raises(ValueError, match=r"ran out after 2 of steps_per_epoch=5 steps \(epoch 2\)"):
        model().fit(batches(7), steps_per_epoch=5, epochs=2, verbose=0)


def test_a_generator_that_runs_out_while_a_resume_drops_the_used_batches(tmp_path):
    folder = tmp_path / "backup"
    with pytest.raises(Boom):
        model().fit(batches(), steps_per_epoch=5, epochs=3, verbose=0,
                    callbacks=[BackupAndRestore(folder, save_freq=1), CrashAt(1, 3)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning that a generator's position is not saved
        with pytest.raises(ValueError, match=r"The generator ran out after 4 batch\(es\) while the resumed run was "
                                             r"dropping the 8 the interrupted run had used \(to resume at step 3 of "
                                             r"steps_per_epoch=5, epoch 2\)") as caught:
            model().fit(batches(4), steps_per_epoch=5, epochs=3, verbose=0, callbacks=[BackupAndRestore(folder)])
    assert caught.value.__cause__ is None and not isinstance(caught.value.__context__, RuntimeError)
    # a generator with enough batches resumes
    model().fit(batches(), steps_per_epoch=5, epochs=3, verbose=0, callbacks=[BackupAndRestore(folder)])
