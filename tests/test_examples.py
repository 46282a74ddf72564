"""Every script in examples/ runs to the end (few epochs) and leaves what it promises.

The scripts run in-process with runpy, as `__main__`, which is what `python
examples/x.py` does minus the interpreter start-up; one of them also runs as a real
subprocess to prove the command line works. KEROSENE_EXAMPLE_EPOCHS shortens them.
"""
import csv
import glob
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the examples train on scikit-learn's bundled digits (the `data` extra)")
pytest.importorskip("matplotlib", reason="some examples draw curves with matplotlib (the `plot` extra)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
EPOCHS = 2


@pytest.fixture
def example_env(tmp_path, monkeypatch):
    monkeypatch.setenv("KEROSENE_EXAMPLE_EPOCHS", str(EPOCHS))
    monkeypatch.setenv("KEROSENE_EXAMPLE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_example(name):
    return runpy.run_path(os.path.join(EXAMPLES, name), run_name="__main__")


def test_every_example_is_tested():
    tested = {"loss_history.py", "model_checkpoint.py", "cnn_digits.py", "live_plot_callback.py",
              "torch_module_fit.py"}
    assert {os.path.basename(p) for p in glob.glob(os.path.join(EXAMPLES, "*.py"))} == tested


def test_loss_history_spec_example(example_env, capsys):
    namespace = run_example("loss_history.py")
    losses = namespace["history"].losses
    steps = int(np.ceil(len(namespace["x_train"]) / 128))
    assert len(losses) == EPOCHS * steps and all(isinstance(v, float) for v in losses)
    assert np.mean(losses[-steps:]) < np.mean(losses[:steps])           # it learns
    assert namespace["x_train"].shape[1] == 784                           # the spec's input_dim, unchanged
    assert f"{len(losses)} batch losses" in capsys.readouterr().out


def test_model_checkpoint_spec_example(example_env, capsys):
    namespace = run_example("model_checkpoint.py")
    out = capsys.readouterr().out
    assert "Epoch 00001: val_loss improved from inf to" in out and "saving model to" in out
    path = example_env / "weights.hdf5"
    from kerosene.models import load_model
    best = load_model(path)
    np.testing.assert_allclose(best.predict(namespace["X_test"][:5]), namespace["best"].predict(namespace["X_test"][:5]))
    assert "best checkpoint: val_loss" in out


def test_cnn_digits(example_env, capsys):
    namespace = run_example("cnn_digits.py")
    out = capsys.readouterr().out
    assert "conv2d" in out and "Total params:" in out                    # the summary was printed
    assert "test accuracy" in out
    with open(example_env / "cnn_training.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == EPOCHS and {"lr", "val_accuracy", "val_loss"} <= set(rows[0])
    assert (example_env / "best_cnn.h5").stat().st_size > 0
    assert (example_env / "cnn_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert namespace["model"].layers[0].data_format == "channels_last"


def test_live_plot_callback_redraws_each_epoch(example_env, capsys, monkeypatch):
    namespace = run_example("live_plot_callback.py")
    png = example_env / "live.png"
    from matplotlib.image import imread
    assert imread(png).shape[:2] == (400, 1000)
    # It redraws at every epoch end: drive the callback by hand and watch the file change.
    callback = namespace["LivePlot"](str(example_env / "again.png"))
    callback.set_params({"epochs": 2, "steps": 2})
    callback.on_train_begin({})
    seen = []
    for epoch in range(2):
        callback.on_epoch_begin(epoch, {})
        for batch in range(2):
            callback.on_train_batch_end(batch, {"loss": 1.0 / (epoch + batch + 1)})
        callback.on_epoch_end(epoch, {"loss": 0.5 / (epoch + 1), "accuracy": 0.5 + epoch / 4,
                                      "val_loss": 0.6, "val_accuracy": 0.5})
        seen.append((example_env / "again.png").read_bytes())
    assert seen[0] != seen[1] and len(callback.batch_losses) == 4


def test_torch_module_fit(example_env, capsys):
    namespace = run_example("torch_module_fit.py")
    out = capsys.readouterr().out
    assert f"after {EPOCHS} epochs" in out and "first test predictions" in out
    import torch
    net = namespace["DigitsNet"]()
    net.load_state_dict(torch.load(example_env / "digits_net.pt", weights_only=True))
    assert type(namespace["net"]).__mro__[1] is torch.nn.Module          # a plain torch module


def test_an_example_runs_as_a_script(tmp_path):
    env = dict(os.environ, KEROSENE_EXAMPLE_EPOCHS="1", KEROSENE_EXAMPLE_DIR=str(tmp_path), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "model_checkpoint.py")], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "best checkpoint" in result.stdout and (tmp_path / "weights.hdf5").is_file()
