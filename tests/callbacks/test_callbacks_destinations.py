"""Every file-writing callback checks its destination at on_train_begin, before any epoch."""
import os

import numpy as np
import pytest

from kerosene.callbacks import BackupAndRestore, CSVLogger, LambdaCallback, ModelCheckpoint, TensorBoard
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
Y = X[:, :1].copy()
# /proc/self exists and refuses new files for every user, root included (chmod would not stop root).
REFUSING = "/proc/self"


def _fit(callback):
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    epochs = []
    with pytest.raises(ValueError) as error:
        model.fit(X, Y, epochs=2, verbose=0,
                  callbacks=[callback, LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))])
    assert epochs == []
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    return str(error.value)


WRITERS = [
    ("ModelCheckpoint `filepath`", lambda p: ModelCheckpoint(p)),
    ("CSVLogger `filename`", lambda p: CSVLogger(p)),
]


@pytest.mark.parametrize("argument,make", WRITERS)
def test_a_folder_where_the_file_should_be(tmp_path, argument, make):
    (tmp_path / "out.h5").mkdir()
    message = _fit(make(str(tmp_path / "out.h5")))
    assert argument in message and "is a folder" in message and "out.h5" in message


@pytest.mark.parametrize("argument,make", WRITERS)
def test_a_file_where_a_folder_should_be(tmp_path, argument, make):
    (tmp_path / "plain").write_text("not a folder")
    message = _fit(make(str(tmp_path / "plain" / "sub" / "out.h5")))
    assert argument in message and "is a file, not a folder" in message


@pytest.mark.skipif(not os.path.isdir(REFUSING), reason="needs Linux's /proc")
@pytest.mark.parametrize("argument,make", WRITERS + [
    ("TensorBoard `log_dir`", lambda p: TensorBoard(os.path.dirname(p)))])
def test_a_folder_that_refuses_new_files(argument, make):
    message = _fit(make(os.path.join(REFUSING, "out.h5")))
    assert argument in message and "cannot be written" in message


def test_tensorboard_log_dir_that_is_a_file(tmp_path):
    (tmp_path / "logs").write_text("x")
    message = _fit(TensorBoard(str(tmp_path / "logs")))
    assert "TensorBoard `log_dir`" in message and "is a file, not a folder" in message


def test_templated_checkpoint_folder_checks_the_fixed_part(tmp_path):
    (tmp_path / "runs").write_text("x")
    message = _fit(ModelCheckpoint(str(tmp_path / "runs" / "{epoch:02d}" / "w.h5")))
    assert "is a file, not a folder" in message


def test_good_destinations_leave_no_probe_files(tmp_path):
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[
        ModelCheckpoint(str(tmp_path / "new" / "w{epoch}.h5")), CSVLogger(str(tmp_path / "log.csv"))])
    assert sorted(os.listdir(tmp_path)) == ["log.csv", "new"]
    assert os.listdir(tmp_path / "new") == ["w1.h5"]


def test_backup_dir_that_is_a_file(tmp_path):
    (tmp_path / "backup").write_text("x")
    message = _fit(BackupAndRestore(str(tmp_path / "backup")))
    assert "BackupAndRestore `backup_dir`" in message and "is a file, not a folder" in message


@pytest.mark.skipif(not os.path.isdir(REFUSING), reason="needs Linux's /proc")
def test_backup_dir_in_a_folder_that_refuses_new_files():
    message = _fit(BackupAndRestore(os.path.join(REFUSING, "backup"), save_freq=3))
    assert "BackupAndRestore `backup_dir`" in message and "cannot be written" in message


def test_csv_logger_appending_to_a_file_that_is_not_utf8_names_it(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("epoch,loss\n0,caf\xe9\n".encode("latin-1"))
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(UnicodeDecodeError) as error:
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(str(path), append=True)])
    assert "CSVLogger(append=True) reading" in str(error.value) and "latin.csv" in str(error.value)
