"""Bad ``.keras`` archives are clear errors naming the file, nothing in them runs, and a failed
load leaves the model's weights as they were; writes are atomic."""
import io
import json
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Model, Sequential, load_model
from kerosene.saving import SavedFileError
from kerosene.saving import keras_model_io


def _model():
    model = Sequential([L.Input((4,)), L.Dense(3, activation="relu", name="hidden"), L.Dense(1, name="out")])
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(np.ones((4, 4), "float32"), np.ones((4, 1), "float32"))
    return model


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "good.keras"
    _model().save(str(path))
    return path


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _rewrite(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return str(path)


def _edited_config(archive, tmp_path, edit):
    members = _members(archive)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config)
    return _rewrite(tmp_path / "edited.keras", members)


def _unchanged_after(model, path, match):
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises((SavedFileError, ValueError), match=match):
        model.load_weights(path)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def _bad_files(archive, tmp_path):
    good = archive.read_bytes()
    members = _members(archive)
    yield "escaping", _rewrite(tmp_path / "escape.keras", {**members, "../evil.txt": b"x"}), "escapes the archive"
    yield "absolute", _rewrite(tmp_path / "abs.keras", {**members, "/etc/evil": b"x"}), "escapes the archive"
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good[: len(good) // 2])
    yield "truncated", str(truncated), "truncated or corrupted"
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("model.weights.h5")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    flipped = bytearray(good)
    flipped[start + info.file_size // 2] ^= 0xFF
    corrupted = tmp_path / "corrupted.keras"
    corrupted.write_bytes(bytes(flipped))
    yield "corrupted", str(corrupted), "model.weights.h5 is corrupted"
    yield "foreign", _rewrite(tmp_path / "foreign.keras", {"hello.txt": b"hi"}), "not a Keras archive.*hello.txt"
    torch_zip = tmp_path / "state.keras"
    torch.save({"w": torch.ones(2)}, str(torch_zip))
    yield "torch", str(torch_zip), "not a Keras archive: it has no config.json"
    hdf5 = tmp_path / "weights.keras"
    with h5py.File(hdf5, "w") as f:
        f["x"] = np.ones(2)
    yield "hdf5", str(hdf5), r"not a zip file\): it is an HDF5 file"
    yield "bad_json", _rewrite(tmp_path / "json.keras", {**members, "config.json": b"{not json"}), \
        "config.json is not valid JSON"
    not_h5 = _rewrite(tmp_path / "noth5.keras", {**members, "model.weights.h5": b"garbage"})
    yield "weights_not_hdf5", not_h5, "model.weights.h5 is not an HDF5 file"


def test_bad_archives_are_clear_errors_naming_the_file(archive, tmp_path):
    cases = list(_bad_files(archive, tmp_path))
    assert len(cases) == 9
    model = _model()
    for label, path, match in cases:
        with pytest.raises(SavedFileError, match=match) as info:
            load_model(path)
        assert os.path.basename(path) in str(info.value), label
        _unchanged_after(model, path, match)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.keras"):
        load_model(str(tmp_path / "absent.keras"))
    folder = tmp_path / "dir.keras"
    folder.mkdir()
    with pytest.raises(SavedFileError, match="folder"):
        load_model(str(folder))


def test_weights_of_another_model_leave_the_model_unchanged(archive, tmp_path):
    other = Sequential([L.Input((4,)), L.Dense(5, name="hidden"), L.Dense(1, name="out")])
    _unchanged_after(other, str(archive), r"kernel|shape")
    wider = tmp_path / "wider.weights.h5"
    other.save_weights(str(wider))
    _unchanged_after(_model(), str(wider), r"shape")
    deeper = Sequential([L.Input((4,)), L.Dense(3), L.Dense(3), L.Dense(1)])
    _unchanged_after(deeper, str(archive), r"no weights for layer")


def test_no_code_runs_from_the_config(archive, tmp_path):
    def to_popen(config):
        config.update(module="subprocess", class_name="Popen", registered_name=None)

    with pytest.raises(ValueError, match="Unknown model class 'Popen'"):
        load_model(_edited_config(archive, tmp_path, to_popen))

    def layer_from_os(config):
        config["config"]["layers"][1].update(module="os", class_name="system")

    with pytest.raises(ValueError, match="Unknown layer class 'system'"):
        load_model(_edited_config(archive, tmp_path, layer_from_os))


def test_unsupported_layers_and_arguments_are_named(archive, tmp_path):
    def rename(config):
        config["config"]["layers"][1]["class_name"] = "Rescaling"

    with pytest.raises(ValueError, match="Unknown layer class 'Rescaling'"):
        load_model(_edited_config(archive, tmp_path, rename))

    def quantize(config):
        config["config"]["layers"][1]["config"]["quantization_config"] = {"mode": "int8"}

    with pytest.raises(ValueError, match=r"layer 'hidden' \(Dense\): argument 'quantization_config'"):
        load_model(_edited_config(archive, tmp_path, quantize))

    def weighted(config):
        config["compile_config"]["weighted_metrics"] = ["mae"]

    with pytest.raises(ValueError, match="weighted_metrics"):
        load_model(_edited_config(archive, tmp_path, weighted))


def test_masking_embedding_loads_and_flatten_refuses_its_mask_as_keras_2_does(tmp_path):
    model = Sequential([L.Input((5,), dtype="int32"), L.Embedding(7, 2, name="emb"), L.Flatten(), L.Dense(1)])
    path = tmp_path / "emb.keras"
    model.save(str(path))
    members = _members(path)
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["mask_zero"] = True
    members["config.json"] = json.dumps(config)
    loaded = load_model(_rewrite(tmp_path / "masked.keras", members))   # masks are passed on now
    assert loaded.get_layer("emb").mask_zero is True
    with pytest.raises(TypeError, match=r"Layer 'flatten\w*' \(Flatten\) does not support masking"):
        loaded.predict(np.array([[1, 2, 0, 0, 0]]))


def negate(t):
    return -t


def test_named_lambda_function_comes_from_custom_objects_only(tmp_path):
    a = L.Input((3,), name="a")
    model = Model(a, L.Dense(1)(L.Lambda(negate, name="neg")(a)))
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="Lambda layer 'neg'.*custom_objects"):
        load_model(path)
    again = load_model(path, custom_objects={"negate": torch.neg})
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(TypeError, match="safe_mode"):
        load_model(path, safe_mode="no")


def test_writes_are_atomic(archive, monkeypatch):
    old = archive.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras_model_io, "write_archive", lambda path, *a: _write_then_fail(path, broken))
    with pytest.raises(RuntimeError, match="disk full"):
        _model().save(str(archive))
    assert archive.read_bytes() == old
    assert os.listdir(archive.parent) == [archive.name]


def _write_then_fail(path, fail):
    from kerosene.saving.atomic import atomic_write
    with atomic_write(path, "wb") as handle:
        handle.write(b"half an archive")
        fail()


def test_archive_members_are_what_keras_expects(archive):
    members = _members(archive)
    assert sorted(members) == ["config.json", "metadata.json", "model.weights.h5"]
    assert json.loads(members["metadata.json"])["keras_version"].startswith("3.")
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as f:
        assert sorted(f["layers"]) == ["dense", "dense_1"]
        assert f["layers/dense/vars"].attrs["name"] == "hidden"
        assert [f[f"optimizer/vars/{i}"].shape for i in range(2)] == [(), ()]
        assert int(f["optimizer/vars/0"][()]) == 1
    shutil.rmtree(archive.parent)
