"""BackupAndRestore in one process: exact resume after an error, refusals, clean-up rules.

The SIGKILL tests, with real subprocesses, are in test_backup_crash.py.
"""
import io
import json
import os

import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import BackupAndRestore, Callback, TerminateOnNaN
from kerosene.callbacks import backup as backup_module
from kerosene.callbacks.backup import BackupError
from kerosene.layers import Dense, Dropout


class Boom(RuntimeError):
    pass


class CrashAt(Callback):
    """Raises at (epoch, batch), as a crash would, but in-process."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.current = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.current, batch) == self.at:
            raise Boom(f"crash at {self.at}")

    def state_dict(self):
        return {}


class LossHistory(Callback):
    """The spec's example callback: plain attributes, reset in on_train_begin."""

    def on_train_begin(self, logs=None):
        self.losses = []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs.get("loss"))


def data(n=40):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1))).astype("float32")
    return x, y


def new_model(units=8):
    torch.manual_seed(0)
    model = kerosene.Sequential([Dense(units, input_dim=5, activation="relu"), Dropout(0.5), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def fit(model, callbacks, epochs=4, **kwargs):
    x, y = data()
    kwargs.setdefault("validation_split", 0.25)
    return model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=True, **kwargs)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def crash_then_resume(tmp_path, save_freq, crash, extra=lambda: [], extra_first=False):
    folder = tmp_path / "backup"

    def callbacks(crash_at):
        own = [BackupAndRestore(folder, save_freq=save_freq), CrashAt(*crash_at)]
        return extra() + own if extra_first else own + extra()
    first = new_model()
    with pytest.raises(Boom):
        fit(first, callbacks(crash))
    assert (folder / "latest.backup").exists(), "a crash must leave the backup in place"
    torch.manual_seed(999)   # the rerun's global RNG differs; the backup must put it right
    resumed = new_model()
    history = fit(resumed, callbacks((-1, -1)))
    return resumed, history


@pytest.mark.parametrize("save_freq,crash", [("epoch", (2, 3)), (3, (2, 4)), (1, (1, 0))])
def test_resume_after_crash_is_bitwise_identical(tmp_path, save_freq, crash):
    reference = new_model()
    ref_history = fit(reference, [CrashAt(-1, -1)])
    resumed, history = crash_then_resume(tmp_path, save_freq, crash)
    assert same_weights(reference, resumed)
    assert history.epoch == ref_history.epoch == [0, 1, 2, 3]
    assert history.history == ref_history.history
    assert not (tmp_path / "backup").exists(), "a completed run removes its backup"


@pytest.mark.parametrize("extra_first", [False, True], ids=["backup-first", "backup-last"])
def test_plain_user_callback_resumes_mid_epoch(tmp_path, extra_first):
    reference_losses = LossHistory()
    fit(new_model(), [reference_losses, CrashAt(-1, -1)])
    holder = []

    def extra():
        holder.append(LossHistory())
        return [holder[-1]]
    crash_then_resume(tmp_path, 2, (1, 5), extra, extra_first)
    # it resets itself in on_train_begin; the restored list must survive that
    assert holder[-1].losses == reference_losses.losses
    assert len(holder[-1].losses) == 4 * 8


def test_dataloader_with_shuffle_resumes_mid_epoch(tmp_path):
    x, y = data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))

    def run(callbacks):
        model = new_model()
        loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)
        model.fit(loader, epochs=3, verbose=0, callbacks=callbacks)
        return model

    reference = run([BackupAndRestore(tmp_path / "ref"), CrashAt(-1, -1)])
    with pytest.raises(Boom):
        run([BackupAndRestore(tmp_path / "b", save_freq=3), CrashAt(1, 7)])
    torch.manual_seed(5)
    resumed = run([BackupAndRestore(tmp_path / "b", save_freq=3), CrashAt(-1, -1)])
    assert same_weights(reference, resumed)


def test_backup_holds_no_pickle_and_its_parts(tmp_path):
    model = new_model()
    fit(model, [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=2)
    raw = (tmp_path / "latest.backup").read_bytes()
    assert raw.startswith(b"KEROSENE-BACKUP\n")
    header_end = raw.index(b"\n", 16)
    header = json.loads(raw[16:header_end])
    assert header["layout"] == backup_module.LAYOUT_VERSION
    payload = torch.load(io.BytesIO(raw[header_end + 1:]), weights_only=True)
    assert payload["loop"]["epoch"] == 2 and payload["loop"]["step"] == 0
    assert set(payload["rng"]) == {"python", "numpy", "torch", "cuda"}
    assert payload["callbacks"]["History"]["epoch"] == [0, 1]
    assert [n for n, _, _ in payload["fingerprint"]] == list(model.state_dict())
    assert payload["optimizer_class"] == "Adam"


def test_completed_backup_is_kept_when_asked_and_rerun_trains_no_more(tmp_path):
    model = new_model()
    history = fit(model, [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=2)
    assert (tmp_path / "latest.backup").exists()
    again = new_model()
    history2 = fit(again, [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=2)
    assert same_weights(model, again)
    assert history2.history == history.history


def test_incompatible_model_is_refused_naming_the_difference(tmp_path):
    fit(new_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1)
    other = new_model(units=16)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"different model.*\[5, 8\].*\[5, 16\]|different model.*\[8, 5\].*\[16, 5\]"):
        fit(other, [BackupAndRestore(tmp_path)], epochs=1)
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())
    assert (tmp_path / "latest.backup").exists()


def test_other_optimizer_is_refused(tmp_path):
    fit(new_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1)
    model = new_model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(BackupError, match="optimizer Adam but this model uses SGD"):
        fit(model, [BackupAndRestore(tmp_path)], epochs=1)


def _write_backup_at(tmp_path, **kwargs):
    fit(new_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False, **kwargs)], epochs=2)
    return tmp_path / "latest.backup"


def test_corrupt_backup_is_refused(tmp_path):
    path = _write_backup_at(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="corrupt"):
        fit(new_model(), [BackupAndRestore(tmp_path)], epochs=2)
    path.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(BackupError, match="corrupt"):
        fit(new_model(), [BackupAndRestore(tmp_path)], epochs=2)


def test_corrupt_latest_falls_back_to_previous_with_double_checkpoint(tmp_path):
    path = _write_backup_at(tmp_path, double_checkpoint=True)
    previous = tmp_path / "previous.backup"
    assert previous.exists()
    path.write_bytes(path.read_bytes()[:50])
    model = new_model()
    with pytest.warns(RuntimeWarning, match="older backup"):
        history = fit(model, [BackupAndRestore(tmp_path, double_checkpoint=True)], epochs=2)
    assert history.epoch == [0, 1]   # epoch 0 from the previous backup, epoch 1 trained again


def test_other_layout_version_is_refused(tmp_path):
    path = _write_backup_at(tmp_path)
    raw = path.read_bytes().replace(b'"layout": 1', b'"layout": 99', 1)
    path.write_bytes(raw)
    with pytest.raises(BackupError, match="layout version 99.*version 1"):
        fit(new_model(), [BackupAndRestore(tmp_path)], epochs=2)


def test_pickled_object_in_backup_is_refused(tmp_path):
    import hashlib

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    buffer = io.BytesIO()
    torch.save({"layout": 1, "x": Evil()}, buffer)
    body = buffer.getvalue()
    header = json.dumps({"layout": 1, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
    (tmp_path / "latest.backup").write_bytes(b"KEROSENE-BACKUP\n" + header.encode() + b"\n" + body)
    with pytest.raises(BackupError, match="will not load"):
        fit(new_model(), [BackupAndRestore(tmp_path)], epochs=1)


def test_nan_stop_keeps_the_last_good_backup(tmp_path):
    class PoisonAt(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_now = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch_now == 1 and batch == 2:
                with torch.no_grad():
                    for p in self.model.parameters():
                        p.fill_(float("nan"))
    model = new_model()
    fit(model, [BackupAndRestore(tmp_path), PoisonAt(), TerminateOnNaN()], epochs=3)
    assert model.stop_reason == "nan"
    payload = backup_module.decode((tmp_path / "latest.backup").read_bytes(), "x")
    assert payload["loop"]["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in payload["model"].values())


def test_backup_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    _write_backup_at(tmp_path)
    # The backup, and the epoch-boundary copy another world size resumes from (one of two folders).
    names = sorted(os.listdir(tmp_path))
    assert names[1:] == ["epoch.json", "latest.backup"] and names[0] in ("epoch-a.dcp", "epoch-b.dcp"), names
    assert sorted(os.listdir(tmp_path / names[0])) == [".metadata", "__0_0.distcp", "run.backup"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(backup_dir=""), "backup_dir"),
    (dict(backup_dir=None), "backup_dir"),
    (dict(backup_dir=3), "backup_dir"),
    (dict(backup_dir="b", save_freq=0), "save_freq"),
    (dict(backup_dir="b", save_freq=-2), "save_freq"),
    (dict(backup_dir="b", save_freq="batch"), "save_freq"),
    (dict(backup_dir="b", save_freq=True), "save_freq"),
    (dict(backup_dir="b", save_freq=1.5), "save_freq"),
])
def test_bad_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BackupAndRestore(**kwargs)


@pytest.mark.parametrize("name", ["delete_checkpoint", "double_checkpoint"])
def test_bad_flags_are_type_errors(name):
    with pytest.raises(TypeError, match=name):
        BackupAndRestore("b", **{name: "yes"})


def test_too_few_epochs_for_the_backup_is_refused(tmp_path):
    _write_backup_at(tmp_path)
    with pytest.raises(BackupError, match="epoch 2 but fit\\(epochs=1\\)"):
        fit(new_model(), [BackupAndRestore(tmp_path)], epochs=1)


def test_save_freq_false_restores_but_never_writes(tmp_path):
    _write_backup_at(tmp_path)
    before = (tmp_path / "latest.backup").read_bytes()
    history = fit(new_model(), [BackupAndRestore(tmp_path, save_freq=False, delete_checkpoint=False)], epochs=4)
    assert history.epoch == [0, 1, 2, 3]   # epochs 0-1 restored, 2-3 trained
    assert (tmp_path / "latest.backup").read_bytes() == before


def test_interrupt_keeps_the_backup(tmp_path):
    class Interrupt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fit(new_model(), [BackupAndRestore(tmp_path), Interrupt()], epochs=4)
    payload = backup_module.decode((tmp_path / "latest.backup").read_bytes(), "x")
    assert payload["loop"]["epoch"] == 1   # the epoch the interrupt cut short is trained again


class AugmentedDataset(torch.utils.data.Dataset):
    """Adds noise from the global torch RNG on every read, and counts the reads."""

    def __init__(self, x, y):
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.reads = 0

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.reads += 1
        return self.x[i] + 0.01 * torch.randn(self.x.shape[1]), self.y[i]


def test_mid_epoch_dataloader_resume_skips_by_index_without_reading(tmp_path):
    x, y = data()

    def run(callbacks, dataset):
        model = new_model()
        loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)
        model.fit(loader, epochs=2, verbose=0, callbacks=callbacks)
        return model

    reference = run([BackupAndRestore(tmp_path / "ref"), CrashAt(-1, -1)], AugmentedDataset(x, y))
    with pytest.raises(Boom):
        run([BackupAndRestore(tmp_path / "b", save_freq=3), CrashAt(1, 7)], AugmentedDataset(x, y))
    torch.manual_seed(5)
    resumed_data = AugmentedDataset(x, y)
    resumed = run([BackupAndRestore(tmp_path / "b", save_freq=3), CrashAt(-1, -1)], resumed_data)
    # The resumed run reads one peek batch (to build the model) and the batches of epoch 1 after
    # the backup; the batches before it are skipped by index. Re-reading them would also draw
    # their noise from the restored RNG and break the bitwise match below.
    batches_read = (resumed_data.reads - 4) // 4
    assert 0 < batches_read < len(x) // 4
    assert same_weights(reference, resumed)
