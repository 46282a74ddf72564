"""`make demo`'s script end to end (few epochs), and the files it leaves behind."""
import csv
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the demo trains on scikit-learn's bundled digits (the `data` extra)")
pytest.importorskip("matplotlib", reason="the demo draws its curves with matplotlib (the `plot` extra)")

from kerosene.demo import _draw_curves, load_digits_features, run_demo
from kerosene.models import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = 3


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", "not a PNG file"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """What `make demo` runs (python -m kerosene.cli demo), with few epochs, output piped like a log file."""
    out = tmp_path_factory.mktemp("demo")
    env = dict(os.environ, KEROSENE_DEMO_EPOCHS=str(EPOCHS), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "kerosene.cli", "demo", "--output-dir", str(out)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_progress_bar_and_report(demo_run):
    _, stdout = demo_run
    assert "\r" not in stdout                       # piped: one line per epoch, no redraw noise
    for epoch in range(1, EPOCHS + 1):
        assert f"Epoch {epoch}/{EPOCHS}\n" in stdout
    bars = [line for line in stdout.splitlines() if line.startswith("36/36 [")]
    assert len(bars) == EPOCHS and all("val_loss:" in line and "val_accuracy:" in line for line in bars)
    assert "Epoch 00001: val_loss improved from inf to" in stdout      # ModelCheckpoint(verbose=1)
    assert 'Model: "spec_model"' in stdout and "Total params: 650" in stdout
    assert "LossHistory: first batch loss" in stdout and "test accuracy" in stdout


def test_checkpoint_is_the_best_epoch_and_reloads(demo_run):
    out, stdout = demo_run
    model = load_model(out / "best.h5")
    _, (x_test, y_test) = load_digits_features(0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert f"test accuracy {accuracy:.2%}" in stdout
    assert accuracy > 0.5                                # 3 epochs already learn most digits
    with open(out / "training.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    best = min(float(r["val_loss"]) for r in rows)
    # The reloaded model scores the best epoch's val_loss on the same validation rows.
    (x_train, y_train), _ = load_digits_features(0)
    cut = int(len(x_train) * 0.8)
    val_loss, _ = model.evaluate(x_train[cut:], y_train[cut:], verbose=0)
    assert val_loss == pytest.approx(best, rel=1e-4)


def test_csv_has_every_epoch(demo_run):
    out, _ = demo_run
    with open(out / "training.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == list(range(EPOCHS))
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(0 < float(r["loss"]) < 10 and 0 <= float(r["val_accuracy"]) <= 1 for r in rows)


def test_png_is_a_valid_image_of_the_right_size(demo_run):
    out, _ = demo_run
    width, height = png_size(out / "curves.png")
    assert (width, height) == (1000, 380)                # two 5 x 3.8 inch panels at 100 dpi
    from matplotlib.image import imread
    pixels = imread(out / "curves.png")
    assert pixels.shape[:2] == (380, 1000) and pixels.std() > 0.05      # not a blank canvas


def test_figure_has_labelled_axes_legend_and_both_curves(demo_run):
    out, _ = demo_run
    fig = _draw_curves(str(out / "training.csv"), str(out / "again.png"))
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[:2] == ["train", "validation"] and labels[2].startswith("best checkpoint (epoch ")
        train, val = ax.get_lines()[:2]
        assert len(train.get_xdata()) == len(val.get_xdata()) == EPOCHS


def test_run_demo_in_process_records_batch_losses(tmp_path):
    result = run_demo(tmp_path, epochs=2, batch_size=128, verbose=0, print_fn=None)
    steps = int(np.ceil(int(1438 * 0.8) / 128))
    assert result.epochs_run == 2 and len(result.batch_losses) == 2 * steps
    assert all(isinstance(v, float) for v in result.batch_losses)
    assert result.history["loss"][1] < result.history["loss"][0]


@pytest.mark.parametrize("kwargs, pattern", [({"epochs": 0}, "epochs.*0"), ({"batch_size": "32"}, "batch_size.*'32'"),
                                             ({"patience": -1}, "patience.*-1")])
def test_bad_arguments_fail_before_any_file(tmp_path, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        run_demo(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
    with pytest.raises(TypeError, match="output_dir.*int"):
        run_demo(3)
