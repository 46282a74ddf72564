"""plot_history / History.plot: curves from a History, a dict or a CSVLogger file."""
import math
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="plotting is the optional `plot` extra")

from kerosene.layers import Activation, Dense
from kerosene.models import Sequential
from kerosene.utils import plot_history
from kerosene.utils.plotting import read_history_csv

CURVES = {"loss": [1.0, 0.7, 0.5], "acc": [0.4, 0.6, 0.7], "val_loss": [1.1, 0.8, 0.6],
          "val_acc": [0.35, 0.55, 0.65], "lr": [1e-3, 1e-3, 5e-4]}


def panels(fig):
    return {ax.get_ylabel(): ax for ax in fig.axes}


def test_one_panel_per_metric_with_train_and_validation():
    fig = plot_history(CURVES)
    axes = panels(fig)
    assert list(axes) == ["loss", "accuracy"]          # loss first; lr hidden unless asked for
    loss = axes["loss"]
    assert loss.get_xlabel() == "epoch"
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ["train", "validation"]
    train, val = loss.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3]       # epochs counted from 1, as the progress bar does
    assert list(train.get_ydata()) == CURVES["loss"] and list(val.get_ydata()) == CURVES["val_loss"]


def test_metrics_argument_selects_panels_and_accepts_val_names():
    fig = plot_history(CURVES, metrics=["val_acc", "lr"])
    axes = panels(fig)
    assert list(axes) == ["accuracy", "learning rate"]
    assert axes["learning rate"].get_yscale() == "log"


def test_history_from_fit_and_history_plot(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
    model = Sequential([Dense(2, input_dim=4), Activation("softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    fig = history.plot()
    axes = panels(fig)
    assert set(axes) == {"loss", "accuracy"}
    assert list(axes["loss"].get_lines()[1].get_ydata()) == pytest.approx(history.history["val_loss"])


def test_csv_log_with_gaps_and_saving_png(tmp_path):
    log = tmp_path / "training.log"
    log.write_text("epoch,acc,loss,val_acc,val_loss\n0,0.5,0.9,,\n1,0.6,0.8,0.55,0.85\n2,0.7,0.6,,\n")
    epochs, curves = read_history_csv(log)
    assert epochs == [0, 1, 2] and math.isnan(curves["val_loss"][0]) and curves["val_loss"][1] == 0.85
    out = tmp_path / "curves.png"
    fig = plot_history(str(log), filepath=out)
    assert set(panels(fig)) == {"loss", "accuracy"}
    from matplotlib.image import imread
    image = imread(out)
    width, height = fig.get_size_inches() * fig.dpi
    assert image.shape[:2] == (round(height), round(width))
    assert not list(tmp_path.glob(".curves.png*"))          # the atomic write left no temp file


def test_bad_inputs_are_clear():
    with pytest.raises(TypeError, match="history_or_csv.*int"):
        plot_history(3)
    with pytest.raises(ValueError, match=r"\['auc'\] not in the logs.*'loss'"):
        plot_history(CURVES, metrics=["auc"])
    with pytest.raises(TypeError, match="metrics"):
        plot_history(CURVES, metrics=[1])
    with pytest.raises(ValueError, match="no curves"):
        plot_history({})
    with pytest.raises(ValueError, match="ncols"):
        plot_history(CURVES, ncols=0)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        plot_history("nope.csv")
    with pytest.raises(ValueError, match=r"filepath='curves.bmp'.*extension.*\.png"):
        plot_history(CURVES, filepath="curves.bmp")


def test_ragged_csv_is_a_clear_error(tmp_path):
    log = tmp_path / "bad.csv"
    log.write_text("epoch,loss\n0,0.5,0.1\n")
    with pytest.raises(ValueError, match="3 cells on line 2.*2 columns"):
        plot_history(log)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"kerosene\[plot\]"):
        plot_history(CURVES)
