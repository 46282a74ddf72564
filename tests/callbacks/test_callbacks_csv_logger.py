"""CSVLogger: files read back with pandas and the csv module, value by value."""
import csv
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from kerosene.callbacks import Callback, CSVLogger, LambdaCallback, ReduceLROnPlateau
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(2).normal(size=(32, 4)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def model():
    m = Sequential([Dense(1, input_dim=4, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def fit(m, callbacks, epochs=3, **kwargs):
    kwargs.setdefault("validation_data", (X, Y))
    return m.fit(X, Y, batch_size=8, epochs=epochs, verbose=0, callbacks=callbacks, **kwargs)


def read_rows(path, sep=","):
    with open(path, newline="") as handle:
        return list(csv.reader(handle, delimiter=sep))


def test_rows_match_history_value_by_value(tmp_path):
    path = tmp_path / "log.csv"
    history = fit(model(), [ReduceLROnPlateau(patience=0, factor=0.5), CSVLogger(path)], epochs=4)
    rows = read_rows(path)
    assert rows[0] == ["epoch", "accuracy", "learning_rate", "loss", "lr", "val_accuracy", "val_loss"]
    assert len(rows) == 5
    frame = pd.read_csv(path)
    assert list(frame["epoch"]) == [0, 1, 2, 3]
    for key in rows[0][1:]:
        assert list(frame[key]) == history.history[key]  # repr of a float reads back exactly


def test_validation_every_other_epoch_keeps_val_columns_with_na(tmp_path):
    path = tmp_path / "log.csv"
    history = fit(model(), [CSVLogger(path)], epochs=4, validation_freq=2)
    rows = read_rows(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[1][3:] == ["NA", "NA"] and rows[3][3:] == ["NA", "NA"]
    frame = pd.read_csv(path)
    assert frame["val_loss"].isna().tolist() == [True, False, True, False]
    assert frame["val_loss"][1] == history.history["val_loss"][0]
    assert frame["val_loss"][3] == history.history["val_loss"][1]


def test_no_validation_means_no_val_columns(tmp_path):
    path = tmp_path / "log.csv"
    fit(model(), [CSVLogger(path)], epochs=2, validation_data=None)
    assert read_rows(path)[0] == ["epoch", "accuracy", "loss"]


def test_append_continues_without_a_second_header(tmp_path):
    path = tmp_path / "log.csv"
    m = model()
    fit(m, [CSVLogger(path)], epochs=2)
    fit(m, [CSVLogger(path, append=True)], epochs=4, initial_epoch=2)
    rows = read_rows(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2", "3"]
    assert len(pd.read_csv(path)) == 4


def test_append_after_a_torn_last_row_starts_a_new_line(tmp_path):
    path = tmp_path / "log.csv"
    m = model()
    fit(m, [CSVLogger(path)], epochs=2)
    with open(path, "rb+") as handle:   # cut the last row short, as a kill mid-write would
        handle.seek(-3, os.SEEK_END)
        handle.truncate()
    torn = read_rows(path)[-1]
    fit(m, [CSVLogger(path, append=True)], epochs=3, initial_epoch=2)
    rows = read_rows(path)
    assert rows[-2] == torn                       # kept as it was, ended
    assert rows[-1][0] == "2" and len(rows[-1]) == len(rows[0])


def test_append_to_a_missing_file_writes_the_header(tmp_path):
    path = tmp_path / "new.csv"
    fit(model(), [CSVLogger(path, append=True)], epochs=1)
    assert read_rows(path)[0][0] == "epoch" and len(read_rows(path)) == 2


def test_append_refuses_a_file_with_other_columns_before_training(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,mae,loss\n0,0.5,0.7\n")
    m = model()
    before = m.get_weights()
    with pytest.raises(ValueError, match="header"):
        fit(m, [CSVLogger(path, append=True)], epochs=2)
    assert path.read_text() == "epoch,mae,loss\n0,0.5,0.7\n"
    np.testing.assert_array_equal(before[0], m.get_weights()[0])


def test_separator_and_non_scalar_values_the_keras_way(tmp_path):
    path = tmp_path / "log.tsv"

    def add_values(epoch, logs):
        logs["vector"] = np.array([1, 2, 3])
        logs["note"] = "ok;fine"

    fit(model(), [LambdaCallback(on_epoch_end=add_values), CSVLogger(path, separator=";")], epochs=1)
    rows = read_rows(path, sep=";")
    header, row = rows
    assert row[header.index("vector")] == '"[1, 2, 3]"'
    assert row[header.index("note")] == "ok;fine"
    frame = pd.read_csv(path, sep=";")
    assert frame["vector"][0] == '"[1, 2, 3]"'


def test_each_row_is_on_disk_when_the_epoch_ends(tmp_path):
    path = tmp_path / "log.csv"
    seen = []

    class ReadBack(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(len(read_rows(path)))

    fit(model(), [CSVLogger(path), ReadBack()], epochs=3)
    assert seen == [2, 3, 4]


def test_a_killed_process_leaves_every_finished_row(tmp_path):
    path = tmp_path / "log.csv"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {ROOT!r})
        import numpy as np
        from kerosene.callbacks import CSVLogger, LambdaCallback
        from kerosene.layers import Dense
        from kerosene.models import Sequential
        x = np.random.default_rng(0).normal(size=(32, 4)).astype('float32')
        m = Sequential([Dense(1, input_dim=4)])
        m.compile(optimizer='sgd', loss='mse')
        def die(epoch, logs):
            if epoch == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        m.fit(x, x[:, :1], epochs=10, verbose=0, callbacks=[CSVLogger({str(path)!r}), LambdaCallback(on_epoch_end=die)])
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=240)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    frame = pd.read_csv(path)
    assert list(frame["epoch"]) == [0, 1, 2, 3]
    assert frame["loss"].notna().all()


def test_state_dict_resume_drops_rows_after_the_state_and_continues(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    saved = {}

    def keep_state(epoch, logs):
        if epoch == 2:
            saved.update(logger.state_dict())

    m = model()
    fit(m, [logger, LambdaCallback(on_epoch_end=keep_state)], epochs=5)  # rows 0..4 written
    assert saved["rows_written"] == 3

    resumed = CSVLogger(path)
    fit(m, [resumed, LambdaCallback(on_train_begin=lambda logs: resumed.load_state_dict(saved))],
        epochs=5, initial_epoch=3)
    rows = read_rows(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2", "3", "4"]
    assert resumed.rows_written == 5


def test_only_the_main_process_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    path = tmp_path / "log.csv"
    fit(model(), [CSVLogger(path)], epochs=1)
    assert not path.exists()


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(filename=3), TypeError, "filename"),
    (dict(filename="a.csv", separator=""), ValueError, "separator"),
    (dict(filename="a.csv", separator=",,"), ValueError, "separator"),
    (dict(filename="a.csv", separator='"'), ValueError, "separator"),
    (dict(filename="a.csv", append="yes"), TypeError, "append"),
])
def test_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        CSVLogger(**kwargs)
