"""TensorBoard: real event files, read back with tensorboard's EventAccumulator."""
import glob
import os
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from kerosene.callbacks import Callback, ReduceLROnPlateau, TensorBoard
from kerosene.layers import Dense, Embedding, Flatten
from kerosene.models import Sequential

X = np.random.default_rng(4).normal(size=(32, 4)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def model():
    m = Sequential([Dense(3, input_dim=4, activation="relu"), Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def load(path):
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


class WeightsPerEpoch(Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = [np.array(w, copy=True) for w in self.model.get_weights()]


def test_epoch_scalars_in_train_and_validation_runs(tmp_path):
    history = model().fit(X, Y, batch_size=8, epochs=3, verbose=0, validation_data=(X, Y),
                          callbacks=[ReduceLROnPlateau(patience=0, factor=0.5), TensorBoard(tmp_path)])
    train, validation = load(tmp_path / "train"), load(tmp_path / "validation")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_lr"} <= set(train.Tags()["scalars"])
    assert set(validation.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for tag, key, acc in [("epoch_loss", "loss", train), ("epoch_accuracy", "accuracy", train),
                          ("epoch_learning_rate", "learning_rate", train),
                          ("epoch_loss", "val_loss", validation), ("epoch_accuracy", "val_accuracy", validation)]:
        got = scalars(acc, tag)
        assert [step for step, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in got], history.history[key], rtol=1e-6)


def test_learning_rate_written_without_an_lr_callback(tmp_path):
    m = model()
    m.optimizer.learning_rate = 0.125
    m.fit(X, Y, batch_size=8, epochs=2, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert scalars(load(tmp_path / "train"), "epoch_learning_rate") == [(0, 0.125), (1, 0.125)]
    assert not os.path.exists(tmp_path / "validation")


@pytest.mark.parametrize("update_freq,every", [("batch", 1), (3, 3)])
def test_batch_scalars(tmp_path, update_freq, every):
    batch_losses = []

    class Losses(Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_losses.append(logs["loss"])

    model().fit(X, Y, batch_size=8, epochs=2, verbose=0, callbacks=[Losses(), TensorBoard(tmp_path, update_freq=update_freq)])
    got = scalars(load(tmp_path / "train"), "batch_loss")
    steps = [s for s in range(1, 9) if s % every == 0]  # 4 batches per epoch, 2 epochs
    assert [s for s, _ in got] == steps
    np.testing.assert_allclose([v for _, v in got], [batch_losses[s - 1] for s in steps], rtol=1e-6)


def test_weight_histograms_and_images_every_n_epochs(tmp_path):
    rec = WeightsPerEpoch()
    m = model()
    m.fit(X, Y, batch_size=8, epochs=4, verbose=0, validation_data=(X, Y),
          callbacks=[rec, TensorBoard(tmp_path, histogram_freq=2, write_images=True)])
    train = load(tmp_path / "train")
    names = [layer.name for layer in m.layers]
    tags = set(train.Tags()["histograms"])
    expected = {f"{names[0]}/kernel/histogram", f"{names[0]}/bias/histogram",
                f"{names[1]}/kernel/histogram", f"{names[1]}/bias/histogram"}
    assert tags == expected
    events = train.Histograms(f"{names[0]}/kernel/histogram")
    assert [e.step for e in events] == [0, 2]
    for event in events:
        kernel = rec.weights[event.step][0]
        h = event.histogram_value
        assert h.num == kernel.size
        assert h.min == pytest.approx(kernel.min()) and h.max == pytest.approx(kernel.max())
        assert h.sum == pytest.approx(kernel.sum(), abs=1e-5)
    assert f"{names[0]}/kernel/image" in train.Tags()["images"]
    assert len(train.Images(f"{names[0]}/kernel/image")) == 2


def test_graph_written_once(tmp_path):
    model().fit(X, Y, batch_size=8, epochs=2, verbose=0, callbacks=[TensorBoard(tmp_path, write_graph=True)])
    train = load(tmp_path / "train")
    assert train.Tags()["graph"]
    nodes = [node.op for node in train.Graph().node]
    assert any("linear" in op.lower() or "addmm" in op.lower() or "matmul" in op.lower() for op in nodes)


def test_no_graph_when_not_asked(tmp_path):
    model().fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path, write_graph=False)])
    assert not load(tmp_path / "train").Tags()["graph"]


def test_graph_tracing_leaves_training_unchanged(tmp_path):
    import torch
    results = []
    for write_graph in (False, True):
        torch.manual_seed(0)
        m = model()
        torch.manual_seed(1)
        m.fit(X, Y, batch_size=8, epochs=2, verbose=0,
              callbacks=[TensorBoard(tmp_path / str(write_graph), write_graph=write_graph)])
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_embeddings_for_the_projector(tmp_path):
    m = Sequential([Embedding(10, 3, input_length=2), Flatten(), Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    ids = np.random.default_rng(0).integers(0, 10, size=(16, 2))
    m.fit(ids, np.zeros((16, 1), "float32"), batch_size=8, epochs=1, verbose=0,
          callbacks=[TensorBoard(tmp_path, embeddings_freq=1, write_graph=False)])
    config = (tmp_path / "train" / "projector_config.pbtxt").read_text()
    assert m.layers[0].name in config
    tensors = glob.glob(str(tmp_path / "train" / "*" / "*" / "tensors.tsv"))
    assert len(tensors) == 1
    table = np.loadtxt(tensors[0], delimiter="\t")
    np.testing.assert_allclose(table, m.get_weights()[0], rtol=1e-5)


def test_profile_batch_writes_a_trace(tmp_path):
    model().fit(X, Y, batch_size=8, epochs=1, verbose=0,
                callbacks=[TensorBoard(tmp_path, profile_batch=2, write_graph=False)])
    traces = glob.glob(str(tmp_path / "train" / "plugins" / "profile" / "*.json*"))
    assert len(traces) == 1


def test_only_the_main_process_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    model().fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path / "logs")])
    assert not os.path.exists(tmp_path / "logs")


def test_missing_tensorboard_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install"):
        TensorBoard("logs")


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(update_freq="sometimes"), ValueError, "update_freq"),
    (dict(update_freq=0), ValueError, "update_freq"),
    (dict(histogram_freq=-1), ValueError, "histogram_freq"),
    (dict(embeddings_freq=1.5), ValueError, "embeddings_freq"),
    (dict(profile_batch=(3, 1)), ValueError, "profile_batch"),
    (dict(profile_batch=-1), ValueError, "profile_batch"),
    (dict(log_dir=5), TypeError, "log_dir"),
    (dict(unknown=1), TypeError, "unknown"),
])
def test_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        TensorBoard(**kwargs)


def test_each_epoch_is_on_disk_when_the_epoch_ends(tmp_path):
    seen = []

    class ReadBack(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([step for step, _ in scalars(load(tmp_path / "train"), "epoch_loss")])

    model().fit(X, Y, batch_size=8, epochs=3, verbose=0, callbacks=[TensorBoard(tmp_path, write_graph=False), ReadBack()])
    assert seen == [[0], [0, 1], [0, 1, 2]]


def test_histograms_need_validation_arrays(tmp_path):
    m = model()
    with pytest.raises(ValueError, match="`histogram_freq`=1: if printing histograms, validation_data must be"):
        m.fit(X, Y, epochs=2, verbose=0, callbacks=[TensorBoard(tmp_path / "a", histogram_freq=1)])
    batches = ((X[:8], Y[:8]) for _ in iter(int, 1))
    with pytest.raises(ValueError, match="cannot be a generator"):
        m.fit(batches, steps_per_epoch=2, epochs=2, verbose=0, validation_data=((X, Y) for _ in iter(int, 1)),
              validation_steps=1, callbacks=[TensorBoard(tmp_path / "b", histogram_freq=1)])
    assert not (tmp_path / "a").exists()  # refused before anything was written
