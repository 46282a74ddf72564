"""Atomic writes under SIGKILL, damaged and foreign files, unsafe pickles: clear errors, model unchanged."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Sequential, load_model
from kerosene.saving import SavedFileError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model():
    return Sequential([L.Dense(16, input_dim=8, activation="relu"), L.BatchNormalization(), L.Dense(4)])


def _fill(model, value):
    model.set_weights([np.full(w.shape, value, w.dtype) for w in model.get_weights()])


def _assert_unchanged(model, before):
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# --- SIGKILL in the middle of saving --------------------------------------------------
_ZYGOTE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    import numpy as np
    from kerosene import layers as L
    from kerosene.models import Sequential
    model = Sequential([L.Dense(16, input_dim=8, activation="relu"), L.BatchNormalization(), L.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    folder = sys.argv[1]
    shapes = [w.shape for w in model.get_weights()]

    def save(kind, value):
        model.set_weights([np.full(s, value, "float32") for s in shapes])
        if kind == "model":
            model.save(os.path.join(folder, "model.h5"))
        else:
            model.save_weights(os.path.join(folder, "w." + kind))

    for kind in ("h5", "pt", "model"):
        save(kind, 0.0)
    print("ready", flush=True)
    for line in sys.stdin:
        kind = line.strip()
        pid = os.fork()
        if pid == 0:   # the saver: rewrites the file in a loop until it is killed
            value = 1.0
            while True:
                save(kind, value)
                value += 1.0
        print(pid, flush=True)
        os.waitpid(pid, 0)
""")


def test_sigkill_while_saving_never_leaves_a_broken_file(tmp_path):
    script = tmp_path / "zygote.py"
    script.write_text(_ZYGOTE.format(root=ROOT))
    folder = tmp_path / "out"
    folder.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    zygote = subprocess.Popen([sys.executable, str(script), str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert zygote.stdout.readline().strip() == "ready"
        rng = random.Random(1234)
        model = _model()
        loaded_values = []
        kinds = ["h5", "pt", "model"]
        for attempt in range(50):
            kind = kinds[attempt % 3]
            zygote.stdin.write(kind + "\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            time.sleep(rng.uniform(0.002, 0.12))
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)   # the zygote reaps it
            if kind == "model":
                restored = load_model(str(folder / "model.h5"))
                weights = restored.get_weights()
            else:
                model.load_weights(str(folder / f"w.{kind}"))
                weights = model.get_weights()
            values = {float(v) for w in weights for v in np.unique(w)}
            assert len(values) == 1, f"attempt {attempt}: a mix of two saves was loaded: {sorted(values)[:5]}"
            loaded_values.append(values.pop())
        assert max(loaded_values) > 0          # the savers did overwrite the files while being killed
    finally:
        zygote.stdin.close()
        zygote.kill()
        zygote.wait()


# --- damaged and foreign files ---------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    model = _model()
    _fill(model, 0.25)
    model.compile(optimizer="adam", loss="mse")
    model.save_weights(str(tmp_path / "w.h5"))
    model.save_weights(str(tmp_path / "w.pt"))
    model.save(str(tmp_path / "m.h5"))
    return model, tmp_path


@pytest.mark.parametrize("name", ["w.h5", "w.pt", "m.h5"])
def test_truncated_file(saved, name):
    source, folder = saved
    data = (folder / name).read_bytes()
    for cut in (0, 100, len(data) // 2, len(data) - 10):
        bad = folder / ("cut_" + name)
        bad.write_bytes(data[:cut])
        target = _model()
        before = target.get_weights()
        with pytest.raises(SavedFileError, match="cut_" + name.replace(".", r"\.")):
            if name == "m.h5":
                load_model(str(bad))
            else:
                target.load_weights(str(bad))
        _assert_unchanged(target, before)


@pytest.mark.parametrize("name", ["w.h5", "w.pt", "m.h5"])
def test_flipped_bytes_raise_or_load_the_exact_weights(saved, name):
    source, folder = saved
    data = bytearray((folder / name).read_bytes())
    expected = source.get_weights()
    rng = random.Random(7)
    raised = 0
    vital = _data_offsets(folder / name)          # bytes that hold weight values: damage must be detected
    positions = sorted(rng.sample(range(len(data)), 30)) + vital
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        path = folder / ("flip_" + name)
        path.write_bytes(bytes(bad))
        target = _model()
        before = target.get_weights()
        try:
            if name == "m.h5":
                weights = load_model(str(path)).get_weights()
            else:
                target.load_weights(str(path))
                weights = target.get_weights()
        except SavedFileError as err:
            assert str(path) in str(err)
            _assert_unchanged(target, before)
            raised += 1
            continue
        assert pos not in vital, f"a flipped weight byte at {pos} went unnoticed"
        for a, b in zip(weights, expected):     # damage in unused bytes: the model must still be exact
            np.testing.assert_array_equal(a, b)
    assert raised >= len(vital) > 0


def _data_offsets(path):
    """File offsets of the first byte of every weight's stored data."""
    offsets = []
    if str(path).endswith(".pt"):
        data = path.read_bytes()
        marker = np.full(4, 0.25, "float32").tobytes()   # every weight is 0.25 in the fixture
        start = 0
        while len(offsets) < 6:
            start = data.find(marker, start)
            if start < 0:
                break
            offsets.append(start)
            start += 4096
        return offsets
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.size > 1:
                if obj.chunks:
                    offsets.append(obj.id.get_chunk_info(0).byte_offset)
                else:
                    offsets.append(obj.id.get_offset())
        f.visititems(visit)
    return [o for o in offsets if o is not None][:8]


def test_non_hdf5_file(tmp_path):
    (tmp_path / "notes.h5").write_text("these are not weights\n")
    model = _model()
    with pytest.raises(SavedFileError, match="not an HDF5 file"):
        model.load_weights(str(tmp_path / "notes.h5"))
    with pytest.raises(SavedFileError, match="not an HDF5 file"):
        load_model(str(tmp_path / "notes.h5"))
    (tmp_path / "notes.pt").write_text("nor is this\n")
    with pytest.raises(SavedFileError, match="notes.pt"):
        model.load_weights(str(tmp_path / "notes.pt"))


def test_hdf5_file_without_keras_layout(tmp_path):
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f.create_dataset("images", data=np.zeros((4, 4)))
        f.attrs["source"] = "a camera"
    model = _model()
    before = model.get_weights()
    with pytest.raises(SavedFileError, match="no weights in a layout"):
        model.load_weights(str(tmp_path / "data.h5"))
    with pytest.raises(SavedFileError, match="not a whole-model file"):
        load_model(str(tmp_path / "data.h5"))
    _assert_unchanged(model, before)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        _model().load_weights(str(tmp_path / "nothing.h5"))


class _Exploit:
    marker = None

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_unsafe_pickle_in_pt_is_refused(tmp_path):
    marker = tmp_path / "code_ran"
    exploit = _Exploit()
    exploit.marker = str(marker)
    model = _model()
    state = dict(model.state_dict())
    state["payload"] = exploit
    torch.save(state, tmp_path / "evil.pt")
    before = model.get_weights()
    with pytest.raises(SavedFileError, match="refuses to unpickle"):
        model.load_weights(str(tmp_path / "evil.pt"))
    assert not marker.exists()
    _assert_unchanged(model, before)


def test_failed_load_leaves_every_layer_unchanged(tmp_path):
    other = Sequential([L.Dense(16, input_dim=8), L.BatchNormalization(), L.Dense(5)])   # last layer differs
    other.save_weights(str(tmp_path / "w.h5"))
    other.save_weights(str(tmp_path / "w.pt"))
    model = _model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"has shape \(16, 4\) in the model, but the saved weight has shape \(16, 5\)|\(5,\)"):
        model.load_weights(str(tmp_path / "w.h5"))
    _assert_unchanged(model, before)
    with pytest.raises(ValueError, match="shape"):
        model.load_weights(str(tmp_path / "w.pt"))
    _assert_unchanged(model, before)
    with pytest.warns(RuntimeWarning, match="skip"):
        model.load_weights(str(tmp_path / "w.h5"), skip_mismatch=True)
    np.testing.assert_array_equal(model.get_weights()[0], other.get_weights()[0])
    np.testing.assert_array_equal(model.get_weights()[-1], before[-1])


def test_by_name_and_layer_count_mismatch(tmp_path):
    src = Sequential([L.Dense(4, input_dim=3, name="a"), L.Dense(2, name="b")])
    src.save_weights(str(tmp_path / "w.h5"))
    dst = Sequential([L.Dense(2, input_dim=3, name="x"), L.Dense(4, name="a"), L.Dense(2, name="b")])
    with pytest.raises(ValueError, match="2 layers.*3 layers"):
        dst.load_weights(str(tmp_path / "w.h5"))
    dst2 = Sequential([L.Dense(4, input_dim=3, name="a"), L.Dense(3, name="b")])
    before = dst2.get_weights()
    with pytest.raises(ValueError, match="'b'.*shape"):
        dst2.load_weights(str(tmp_path / "w.h5"), by_name=True)
    _assert_unchanged(dst2, before)
    dst3 = Sequential([L.Dense(4, input_dim=3, name="a"), L.Dense(6, name="z")])
    z_before = dst3.layers[1].keras_weights()
    dst3.load_weights(str(tmp_path / "w.h5"), by_name=True)
    np.testing.assert_array_equal(dst3.layers[0].keras_weights()[0], src.layers[0].keras_weights()[0])
    np.testing.assert_array_equal(dst3.layers[1].keras_weights()[0], z_before[0])


def test_bad_arguments(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"\.pt, \.pth"):
        model.save_weights(str(tmp_path / "w.npz"))
    with pytest.raises(ValueError, match="save_format"):
        model.save_weights(str(tmp_path / "w.h5"), save_format="tf")
    with pytest.raises(TypeError, match="by_name"):
        model.load_weights(str(tmp_path / "w.h5"), by_name="yes")
    with pytest.raises(TypeError, match="skip_mismatch"):
        model.load_weights(str(tmp_path / "w.h5"), skip_mismatch=1)
    model.save_weights(str(tmp_path / "w.bin"), save_format="torch")
    assert (tmp_path / "w.bin").exists()
    lazy = Sequential([L.Dense(3)])
    with pytest.raises(ValueError, match="no weights yet"):
        lazy.save_weights(str(tmp_path / "lazy.h5"))
    assert not (tmp_path / "lazy.h5").exists()
