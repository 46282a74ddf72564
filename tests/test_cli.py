"""The `kerosene` command: plot, inspect and --help (demo runs in test_demo.py)."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from kerosene.cli import inspect_h5, main
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_model(compiled=True):
    model = Sequential(name="tiny")
    model.add(Dense(3, input_dim=4, name="hidden"))
    model.add(Activation("softmax", name="probs"))
    if compiled:
        model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


@pytest.fixture
def saved_model(tmp_path):
    model = small_model()
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(x, np.eye(3, dtype="float32")[np.arange(16) % 3], epochs=1, verbose=0)
    path = tmp_path / "model.h5"
    model.save(path)
    return model, str(path)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- inspect -------------------------------------------------------------------------
def test_inspect_whole_model(capsys, saved_model):
    _, path = saved_model
    status, out, _ = run(capsys, "inspect", path)
    assert status == 0
    assert "Model:   Sequential 'tiny', input shape (None, 4)" in out
    assert "hidden (Dense)" in out and "kernel:0 (4, 3)" in out and "bias:0 (3,)" in out
    assert "probs (Activation)" in out and "Total: 15 weight values in 2 arrays" in out
    assert "optimizer: RMSprop (learning_rate=0.001" in out and "loss:      categorical_crossentropy" in out
    assert "metrics:   ['accuracy']" in out
    assert "Keras can load it: yes, with keras.models.load_model" in out


def test_inspect_json_report(capsys, saved_model):
    status, out, _ = run(capsys, "inspect", "--json", saved_model[1])
    report = json.loads(out)
    assert status == 0 and report["kind"] == "model" and report["keras_loadable"] is True
    assert report["layers"][0]["weights"] == [{"name": "hidden/kernel:0", "shape": [4, 3]},
                                              {"name": "hidden/bias:0", "shape": [3]}]
    assert report["training_config"]["loss"] == "categorical_crossentropy"


def test_inspect_weights_only_file(capsys, tmp_path):
    path = tmp_path / "w.h5"
    small_model(compiled=False).save_weights(path)
    status, out, _ = run(capsys, "inspect", str(path))
    assert status == 0 and "Content: weights only" in out and "kernel:0 (4, 3)" in out
    assert "Keras can load it: yes, with model.load_weights" in out


def test_inspect_reports_what_breaks_keras_loading(capsys, saved_model):
    _, path = saved_model
    with h5py.File(path, "r+") as f:
        del f["model_weights"].attrs["backend"]
        del f["model_weights/hidden"].attrs["weight_names"]
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["class_name"] = "MyScale"
        f.attrs["model_config"] = json.dumps(config)
    status, out, _ = run(capsys, "inspect", path)
    assert status == 0 and "Keras can load it: no" in out
    assert "lacks the 'backend' attribute" in out
    assert "layer group 'hidden' has no 'weight_names' attribute" in out
    assert "['MyScale']" in out and "custom_objects" in out
    assert run(capsys, "inspect", "--strict", path)[0] == 3


def test_inspect_dangling_weight_name(saved_model):
    _, path = saved_model
    with h5py.File(path, "r+") as f:
        f["model_weights/hidden"].attrs["weight_names"] = np.array([b"hidden/kernel:0", b"hidden/gone:0"])
    report = inspect_h5(path)
    assert not report["keras_loadable"]
    assert report["problems"] == ["layer 'hidden' names weight 'hidden/gone:0', which is not in the file"]


def test_inspect_agrees_with_keras_itself(tmp_path, saved_model):
    keras = pytest.importorskip("keras", reason="keras is the oracle for 'Keras can load it'")
    model, path = saved_model
    assert inspect_h5(path)["keras_loadable"]
    loaded = keras.models.load_model(path)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    # A file Keras wrote in the legacy HDF5 format is read too, and judged loadable.
    native = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, name="d")])
    native.compile(optimizer="adam", loss="mse")
    keras_path = tmp_path / "keras_model.h5"
    native.save(keras_path)
    report = inspect_h5(keras_path)
    assert report["keras_loadable"] and report["layers"][-1]["weights"][0]["shape"] == (5, 2)
    # Keras 3's own .weights.h5 layout is recognised and said not to be Keras 2's.
    weights3 = tmp_path / "native.weights.h5"
    native.save_weights(weights3)
    report = inspect_h5(weights3)
    assert report["kind"] == "keras3_weights" and not report["keras2_layout"]
    assert [w["shape"] for l in report["layers"] for w in l["weights"]] == [(5, 2), (2,)]


def test_inspect_bad_files(capsys, tmp_path):
    status, _, err = run(capsys, "inspect", str(tmp_path / "absent.h5"))
    assert status == 1 and "No such file" in err and "absent.h5" in err
    not_h5 = tmp_path / "model.bin"
    not_h5.write_bytes(b"PK\x03\x04 zip body")
    status, _, err = run(capsys, "inspect", str(not_h5))
    assert status == 1 and "not an HDF5 file" in err and "zip archive" in err and ".keras" in err
    broken = tmp_path / "model.keras"
    broken.write_bytes(b"PK\x03\x04 zip body")
    status, _, err = run(capsys, "inspect", str(broken))
    assert status == 1 and "model.keras" in err and "truncated or corrupted" in err


def test_inspect_keras_archive(capsys, tmp_path):
    model = small_model()
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(x, np.eye(3, dtype="float32")[np.arange(16) % 3], epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    status, out, _ = run(capsys, "inspect", str(path))
    assert status == 0, out
    assert "Content: whole model, Keras 3 .keras archive (config.json + model.weights.h5 + compile config)" in out
    assert "written by kerosene" in out and "Model:   Sequential 'tiny', input shape (None, 4)" in out
    assert "hidden (Dense)" in out and "0 (4, 3)  1 (3,)" in out and "probs (Activation)  no weights" in out
    assert "Total: 15 weight values in 2 arrays" in out
    assert "optimizer: RMSprop (learning_rate=0.001" in out and "metrics:   ['accuracy']" in out
    assert "Optimizer state: 4 arrays" in out   # iterations, learning rate, one velocity per weight
    assert "Keras can load it: yes, Keras 3 with keras.saving.load_model" in out
    report = inspect_h5(path)
    assert report["kind"] == "keras_archive" and [l["name"] for l in report["layers"]] == ["hidden", "probs"]


# --- plot ----------------------------------------------------------------------------
LOG = "epoch;acc;loss;val_acc;val_loss\n0;0.5;0.9;0.45;1.0\n1;0.6;0.8;0.55;0.85\n2;0.7;0.6;0.6;0.7\n"


def test_plot_csv_to_png(capsys, tmp_path):
    log = tmp_path / "training.csv"
    log.write_text(LOG.replace(";", ","))
    status, out, _ = run(capsys, "plot", str(log), "-o", str(tmp_path / "curves.png"))
    assert status == 0 and "Wrote" in out
    from matplotlib.image import imread
    image = imread(tmp_path / "curves.png")
    assert image.shape[0] > 200 and image.shape[1] > 2 * image.shape[0] * 0.9   # two panels side by side
    # Default output: the log's name with .png; a custom separator and a metric choice.
    log2 = tmp_path / "semi.log"
    log2.write_text(LOG)
    status, _, _ = run(capsys, "plot", str(log2), "--separator", ";", "--metrics", "loss", "--title", "run 1")
    assert status == 0 and (tmp_path / "semi.png").is_file()


def test_plot_bad_input(capsys, tmp_path):
    log = tmp_path / "training.csv"
    log.write_text(LOG.replace(";", ","))
    status, _, err = run(capsys, "plot", str(log), "--metrics", "auc")
    assert status == 1 and "['auc'] not in the logs" in err
    status, _, err = run(capsys, "plot", str(log), "-o", str(tmp_path / "x.gif"))
    assert status == 1 and "x.gif" in err and ".png" in err and not (tmp_path / "x.gif").exists()


# --- help and the console script -------------------------------------------------------
@pytest.mark.parametrize("command", ["demo", "plot", "inspect"])
def test_each_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: kerosene {command}")


def test_bad_arguments_are_usage_errors(capsys):
    for argv in ([], ["train"], ["demo", "--epochs", "0"], ["demo", "--epochs", "many"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "expected a number >= 1, got 0" in err and "expected a whole number, got 'many'" in err


def test_demo_epochs_env_var_is_checked(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KEROSENE_DEMO_EPOCHS", "-3")
    status, _, err = run(capsys, "demo", "--output-dir", str(tmp_path / "out"))
    assert status == 1 and "KEROSENE_DEMO_EPOCHS" in err and "-3" in err
    assert not (tmp_path / "out").exists()


def test_python_dash_m_and_console_script(saved_model):
    result = subprocess.run([sys.executable, "-m", "kerosene.cli", "inspect", saved_model[1]],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and "hidden (Dense)" in result.stdout
    script = os.path.join(os.path.dirname(sys.executable), "kerosene")
    if not os.path.exists(script):
        pytest.skip("the kerosene console script is not installed in this environment (pip install -e .)")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and all(c in result.stdout for c in ("demo", "plot", "inspect"))


def test_inspect_notes_a_sequential_config_without_input_layer(saved_model):
    _, path = saved_model
    note = "no InputLayer entry"

    def rewrite(with_input_layer):
        with h5py.File(path, "r+") as f:
            config = json.loads(f.attrs["model_config"])
            layers = [l for l in config["config"]["layers"] if l["class_name"] != "InputLayer"]
            layers[0]["config"]["batch_input_shape"] = [None, 4]
            if with_input_layer:
                layers[0]["config"].pop("batch_input_shape")
                layers.insert(0, {"class_name": "InputLayer",
                                  "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "in"}})
            config["config"]["layers"] = layers
            f.attrs["model_config"] = json.dumps(config)

    rewrite(with_input_layer=False)
    assert any(note in n for n in inspect_h5(path)["notes"])
    rewrite(with_input_layer=True)
    assert not any(note in n for n in inspect_h5(path)["notes"])
