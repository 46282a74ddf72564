"""The spec's checkpoint example, verbatim but for the import."""
import os
import re

import numpy as np
import torch

from kerosene.callbacks import ModelCheckpoint
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential, load_model


def _data(seed):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((10, 784)).astype("float32")
    labels = rng.integers(0, 10, 600)
    x = centers[labels] + 2.0 * rng.standard_normal((600, 784)).astype("float32")
    return x[:400], np.eye(10, dtype="float32")[labels[:400]], x[400:], np.eye(10, dtype="float32")[labels[400:]]


def _run_spec(x_train, y_train, X_test, Y_test, epochs=20, filepath="/tmp/weights.hdf5"):
    model = Sequential()
    model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop')

    '''
    saves the model weights after each epoch if the validation loss decreased
    '''
    checkpointer = ModelCheckpoint(filepath=filepath, verbose=1, save_best_only=True)
    history = model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=0,
                        validation_data=(X_test, Y_test), callbacks=[checkpointer])
    return model, history


def test_spec_checkpoint_example(capsys, tmp_path):
    x_train, y_train, X_test, Y_test = _data(0)
    if os.path.exists("/tmp/weights.hdf5"):
        os.remove("/tmp/weights.hdf5")
    torch.manual_seed(42)
    model, history = _run_spec(x_train, y_train, X_test, Y_test)
    out = capsys.readouterr().out
    try:
        assert os.path.exists("/tmp/weights.hdf5")
        val = history.history["val_loss"]
        best_epoch = int(np.argmin(val)) + 1
        improved = re.findall(r"Epoch (\d{5}): val_loss improved from (\S+) to ([\d.]+), saving model to "
                              r"/tmp/weights\.hdf5", out)
        assert improved[0][:2] == ("00001", "inf")
        assert int(improved[-1][0]) == best_epoch
        assert float(improved[-1][2]) == round(min(val), 5)
        not_improved = len(re.findall(r"Epoch \d{5}: val_loss did not improve from [\d.]+", out))
        assert len(improved) + not_improved == 20
        best = load_model("/tmp/weights.hdf5")
        # Replay the same seeded run up to the best epoch: load_model must predict exactly what it did.
        torch.manual_seed(42)
        replay, _ = _run_spec(x_train, y_train, X_test, Y_test, epochs=best_epoch,
                              filepath=str(tmp_path / "replay.hdf5"))
        capsys.readouterr()
        np.testing.assert_array_equal(best.predict(X_test), replay.predict(X_test))
        assert np.isclose(best.evaluate(X_test, Y_test, verbose=0), min(val), rtol=1e-5)
    finally:
        if os.path.exists("/tmp/weights.hdf5"):
            os.remove("/tmp/weights.hdf5")
