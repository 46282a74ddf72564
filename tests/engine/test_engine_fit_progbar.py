"""fit's progress bar: verbose 0, 1 and 2, log files and dynamic terminals."""
import pytest

import kerosene
from fit_helpers import small_model  # tests/engine/fit_helpers.py


def test_progbar_verbose1_in_a_log_file_is_one_line_per_epoch(blobs, capsys):
    x, y, _ = blobs
    model = small_model()
    model.fit(x, y, batch_size=10, epochs=2, verbose=1, validation_split=0.2)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert len(lines) == 4
    assert lines[1].startswith("24/24 [==============================] - ")
    assert "/step - loss: " in lines[1] and " - val_loss: " in lines[1]


def test_progbar_verbose2(blobs, capsys):
    x, y, _ = blobs
    model = small_model()
    model.fit(x, y, batch_size=100, epochs=1, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/1"
    assert lines[1].startswith("3/3 - ") and "loss: " in lines[1]


def test_progbar_dynamic_redraws_in_place(blobs, capsys, monkeypatch):
    monkeypatch.setenv("KEROSENE_DYNAMIC_PROGBAR", "1")
    x, y, _ = blobs
    model = small_model()
    model.fit(x, y, batch_size=10, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "\r" in out and out.count("\n") == 2


def test_verbose_zero_prints_nothing(blobs, capsys):
    x, y, _ = blobs
    small_model().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_count_mode_samples(blobs, capsys):
    from kerosene.callbacks import ProgbarLogger
    x, y, _ = blobs
    small_model().fit(x, y, batch_size=32, epochs=1, verbose=1, callbacks=[ProgbarLogger(count_mode="samples")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/1" and lines[1].startswith("300/300 [") and len(lines) == 2
    with pytest.raises(ValueError, match="count_mode"):
        ProgbarLogger(count_mode="epochs")
