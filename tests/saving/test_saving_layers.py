"""Round trips of weights (.h5, .pt) and whole models for Sequential models of every layer kind."""
import h5py
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Sequential, load_model


def _seq(input_shape, *stack, dtype=None):
    return lambda: Sequential([L.Input(shape=input_shape, dtype=dtype)] + [make() for make in stack])


# name -> (model factory, input maker)
_float = lambda *shape: (lambda rng: rng.standard_normal((3,) + shape).astype("float32"))  # noqa: E731
CASES = {
    "dense_activation_dropout": (_seq((6,), lambda: L.Dense(5, activation="relu"), lambda: L.Dropout(0.3),
                                      lambda: L.Dense(4), lambda: L.Activation("softmax")), _float(6)),
    "flatten_reshape_permute_repeat": (_seq((2, 3), lambda: L.Flatten(), lambda: L.Dense(6),
                                            lambda: L.Reshape((3, 2)), lambda: L.Permute((2, 1)),
                                            lambda: L.Flatten(), lambda: L.RepeatVector(2),
                                            lambda: L.Flatten(), lambda: L.Dense(2)), _float(2, 3)),
    "conv1d_pooling1d": (_seq((8, 3), lambda: L.Conv1D(4, 3, padding="same"), lambda: L.MaxPooling1D(),
                              lambda: L.AveragePooling1D(), lambda: L.GlobalMaxPooling1D(), lambda: L.Dense(2)),
                         _float(8, 3)),
    "conv2d_pooling2d": (_seq((6, 6, 2), lambda: L.Conv2D(3, (3, 3), activation="relu"), lambda: L.MaxPooling2D(),
                              lambda: L.Conv2D(2, 1), lambda: L.AveragePooling2D(1),
                              lambda: L.GlobalAveragePooling2D(), lambda: L.Dense(2)), _float(6, 6, 2)),
    "conv3d_pooling3d": (_seq((4, 4, 4, 1), lambda: L.Conv3D(2, 2), lambda: L.MaxPooling3D(1),
                              lambda: L.AveragePooling3D(1), lambda: L.GlobalAveragePooling3D(),
                              lambda: L.Dense(2)), _float(4, 4, 4, 1)),
    "normalization": (_seq((5,), lambda: L.Dense(4), lambda: L.BatchNormalization(),
                           lambda: L.LayerNormalization(), lambda: L.Dense(2)), _float(5)),
    "embedding_rnn": (_seq((7,), lambda: L.Embedding(11, 4), lambda: L.SimpleRNN(3, return_sequences=True),
                           lambda: L.GRU(3, return_sequences=True), lambda: L.LSTM(2), dtype="int64"),
                      lambda rng: rng.integers(0, 11, (3, 7)).astype("int64")),
    "wrappers_noise": (_seq((5, 3), lambda: L.GaussianNoise(0.1), lambda: L.SpatialDropout1D(0.2),
                            lambda: L.Bidirectional(L.LSTM(2, return_sequences=True)),
                            lambda: L.TimeDistributed(L.Dense(3)), lambda: L.GaussianDropout(0.1),
                            lambda: L.AlphaDropout(0.1), lambda: L.Flatten(), lambda: L.Dense(1)), _float(5, 3)),
}


def _scramble(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape).astype(w.dtype) if w.dtype.kind == "f" else w
                       for w in model.get_weights()])


def _predict(model, x):
    model.eval()
    with torch.no_grad():
        return model.predict(x)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("suffix", [".h5", ".pt", ".weights.h5"])
def test_weights_round_trip(tmp_path, case, suffix):
    make, inputs = CASES[case]
    x = inputs(np.random.default_rng(0))
    source, target = make(), make()
    _scramble(source, 1)
    _scramble(target, 2)
    expected = _predict(source, x)
    assert not np.allclose(_predict(target, x), expected)
    path = tmp_path / f"w{suffix}"
    source.save_weights(str(path))
    target.load_weights(str(path))
    np.testing.assert_array_equal(_predict(target, x), expected)
    for have, want in zip(target.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(have, want)


@pytest.mark.parametrize("case", sorted(CASES))
def test_whole_model_round_trip(tmp_path, case):
    make, inputs = CASES[case]
    x = inputs(np.random.default_rng(0))
    model = make()
    _scramble(model, 3)
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "model.h5"
    model.save(str(path))
    restored = load_model(str(path))
    assert type(restored) is Sequential
    assert [type(l).__name__ for l in restored.layers] == [type(l).__name__ for l in model.layers]
    assert [l.get_config() for l in restored.layers] == [l.get_config() for l in model.layers]
    np.testing.assert_array_equal(_predict(restored, x), _predict(model, x))


def test_keras2_weights_layout_on_disk(tmp_path):
    model = Sequential([L.Input(shape=(4,)), L.Dense(3, name="d"), L.Reshape((3, 1)),
                        L.Conv1D(2, 2, name="c"), L.Flatten(name="f"), L.Dense(1, name="o")])
    path = tmp_path / "w.h5"
    model.save_weights(str(path))
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names == [model.layers[i].name for i in range(len(model.layers))]
        assert f.attrs["backend"] and f.attrs["keras_version"]
        assert [n.decode() for n in f["d"].attrs["weight_names"]] == ["d/kernel:0", "d/bias:0"]
        assert f["d"]["d/kernel:0"].shape == (4, 3)         # Keras orientation (in, out)
        assert f["c"]["c/kernel:0"].shape == (2, 1, 2)      # Conv1D (k, in, out)
        assert len(f["f"].attrs["weight_names"]) == 0       # weightless layers still get a group
        np.testing.assert_array_equal(f["d"]["d/kernel:0"][()], model.layers[0].keras_weights()[0])
