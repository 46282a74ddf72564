"""The state of EarlyStopping, ReduceLROnPlateau, CSVLogger and SwapEMAWeights travels in
BackupAndRestore's backups: a run that fails and is rerun ends exactly as an uninterrupted one."""
import numpy as np
import pytest
import torch

from kerosene.callbacks import (BackupAndRestore, Callback, CSVLogger, EarlyStopping, ReduceLROnPlateau,
                                SwapEMAWeights)
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(6).normal(size=(32, 4)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype="float32")
VALUES = [1.0, 0.8, 0.85, 0.86, 0.7, 0.75, 0.76, 0.77, 0.78, 0.79, 0.8, 0.81]


class Script(Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = VALUES[epoch]


class Crash(Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("simulated crash")


def run(tmp_path, csv_name, extra=()):
    torch.manual_seed(0)
    m = Sequential([Dense(1, input_dim=4)])
    m.compile(optimizer="sgd", loss="mse")
    es = EarlyStopping(patience=3, restore_best_weights=True)
    rl = ReduceLROnPlateau(patience=1, factor=0.5)
    callbacks = [Script(), es, rl, SwapEMAWeights(ema_momentum=0.5), CSVLogger(tmp_path / csv_name), *extra]
    history = m.fit(X, Y, batch_size=8, epochs=len(VALUES), verbose=0, validation_data=(X, Y),
                    callbacks=callbacks)
    return m, es, history


def test_failed_and_rerun_training_matches_an_uninterrupted_one(tmp_path):
    m_ref, es_ref, history_ref = run(tmp_path, "ref.csv")
    assert es_ref.stopped_epoch == 7

    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(tmp_path, "resumed.csv", extra=[Crash(at_epoch=5), BackupAndRestore(backup)])
    # The crash came after CSVLogger wrote epoch 5's row but before the backup of epoch 5.
    assert (tmp_path / "resumed.csv").read_text().count("\n") == 7
    m, es, history = run(tmp_path, "resumed.csv", extra=[BackupAndRestore(backup)])

    assert es.stopped_epoch == es_ref.stopped_epoch
    assert history.history["lr"] == history_ref.history["lr"]
    assert (tmp_path / "resumed.csv").read_text() == (tmp_path / "ref.csv").read_text()
    for a, b in zip(m.get_weights(), m_ref.get_weights()):
        np.testing.assert_array_equal(a, b)
