"""CuDNNLSTM/CuDNNGRU (cuDNN's weight layout) and their conversion to and from LSTM/GRU
through HDF5 files, as Keras 2's preprocess_weights_for_loading does."""
import h5py
import numpy as np
import pytest
import torch

from kerosene.engine.saving import preprocess_weights_for_loading
from kerosene.layers import GRU, LSTM, Bidirectional, CuDNNGRU, CuDNNLSTM, Input, TimeDistributed
from kerosene.models import Model, Sequential

RNG = np.random.default_rng(5)
X = RNG.random((4, 6, 3)).astype("float32")


def test_cudnn_lstm_weights_are_cudnns_layout():
    layer = CuDNNLSTM(2, bias_initializer="random_uniform", return_sequences=True)
    out = layer(torch.tensor(X))
    kernel, recurrent, bias = layer.get_weights()
    assert (kernel.shape, recurrent.shape, bias.shape) == ((3, 8), (2, 8), (16,))
    # cuDNN reads each gate's kernel block row by row as its (units, inputs) matrix and each
    # recurrent block as it is; input and recurrent biases are kept apart.
    reference = torch.nn.LSTM(3, 2, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(torch.tensor(np.concatenate(
            [block.reshape(2, 3) for block in np.split(kernel, 4, axis=1)])))
        reference.weight_hh_l0.copy_(torch.tensor(np.concatenate(np.split(recurrent, 4, axis=1))))
        reference.bias_ih_l0.copy_(torch.tensor(bias[:8]))
        reference.bias_hh_l0.copy_(torch.tensor(bias[8:]))
        np.testing.assert_allclose(out.numpy(), reference(torch.tensor(X))[0].numpy(), atol=1e-6)


def test_cudnn_gru_weights_are_cudnns_layout():
    layer = CuDNNGRU(2, bias_initializer="random_uniform", return_sequences=True)
    out = layer(torch.tensor(X))
    kernel, recurrent, bias = layer.get_weights()
    assert (kernel.shape, recurrent.shape, bias.shape) == ((3, 6), (2, 6), (12,))
    z, r, h = (block.reshape(2, 3) for block in np.split(kernel, 3, axis=1))
    rz, rr, rh = np.split(recurrent, 3, axis=1)
    bi, br = np.split(bias, 2)
    reference = torch.nn.GRU(3, 2, batch_first=True)  # torch's gates: r, z, n
    with torch.no_grad():
        reference.weight_ih_l0.copy_(torch.tensor(np.concatenate([r, z, h])))
        reference.weight_hh_l0.copy_(torch.tensor(np.concatenate([rr, rz, rh])))
        reference.bias_ih_l0.copy_(torch.tensor(np.concatenate([bi[2:4], bi[:2], bi[4:]])))
        reference.bias_hh_l0.copy_(torch.tensor(np.concatenate([br[2:4], br[:2], br[4:]])))
        np.testing.assert_allclose(out.numpy(), reference(torch.tensor(X))[0].numpy(), atol=1e-6)


def _wrap(layer, how):
    if how == "bidirectional":
        return Bidirectional(layer)
    return layer


def _model(layer, how, shape=(6, 3)):
    if how == "time_distributed":
        return Sequential([Input(shape=(2,) + shape), TimeDistributed(layer)])
    if how == "nested":
        return Sequential([Sequential([Input(shape=shape), layer])])
    inputs = Input(shape=shape)
    return Model(inputs, _wrap(layer, how)(inputs))


@pytest.mark.parametrize("how", ["plain", "bidirectional", "time_distributed", "nested"])
@pytest.mark.parametrize("to_cudnn", [False, True], ids=["from_cudnn", "to_cudnn"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_weights_convert_through_hdf5_files(tmp_path, kind, to_cudnn, how):
    plain_cls, cudnn_cls = (LSTM, CuDNNLSTM) if kind == "LSTM" else (GRU, CuDNNGRU)
    plain = _model(plain_cls(2, bias_initializer="random_uniform"), how)
    cudnn = _model(cudnn_cls(2, bias_initializer="random_uniform"), how)
    source, target = (plain, cudnn) if to_cudnn else (cudnn, plain)
    data = RNG.random((4, 2, 6, 3) if how == "time_distributed" else (4, 6, 3)).astype("float32")
    assert not np.allclose(source.predict(data), target.predict(data), atol=1e-4)
    source.save_weights(tmp_path / "w.h5")
    target.load_weights(tmp_path / "w.h5")
    np.testing.assert_allclose(target.predict(data), source.predict(data), atol=1e-5)


def test_a_nested_model_is_saved_in_keras_view(tmp_path):
    inner = Sequential([Input(shape=(6, 3)), LSTM(2, name="lstm")], name="inner")
    model = Sequential([inner])
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        names = [n.decode() for n in f["inner"].attrs["weight_names"]]
        shapes = [f["inner"][n].shape for n in names]
    assert names == ["lstm/kernel:0", "lstm/recurrent_kernel:0", "lstm/bias:0"]
    assert shapes == [(3, 8), (2, 8), (8,)]
    twin = Sequential([Sequential([Input(shape=(6, 3)), LSTM(2, name="lstm")], name="inner")])
    twin.load_weights(tmp_path / "w.h5")
    np.testing.assert_allclose(twin.predict(X), model.predict(X), atol=1e-6)


def _built(layer):
    Sequential([Input(shape=(3, 5)), layer])
    return layer


@pytest.mark.parametrize("source,target,message", [
    (lambda: GRU(2, reset_after=False), lambda: CuDNNGRU(2),
     "GRU(reset_after=False) is not compatible with CuDNNGRU"),
    (lambda: CuDNNGRU(2), lambda: GRU(2, reset_after=False),
     "CuDNNGRU is not compatible with GRU(reset_after=False)"),
    (lambda: GRU(2, reset_after=False), lambda: GRU(2, reset_after=True),
     "GRU(reset_after=False) is not compatible with GRU(reset_after=True)"),
    (lambda: GRU(2, reset_after=True), lambda: GRU(2, reset_after=False),
     "GRU(reset_after=True) is not compatible with GRU(reset_after=False)")])
def test_incompatible_gru_weights_fail_fast(source, target, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        preprocess_weights_for_loading(_built(target()), _built(source()).get_weights())


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(TypeError, match=r"CuDNNLSTM does not take \['activation', 'dropout'\].*use LSTM"):
        CuDNNLSTM(2, activation="relu", dropout=0.1)
    with pytest.raises(TypeError, match="CuDNNGRU does not take \\['reset_after'\\]"):
        CuDNNGRU(2, reset_after=False)
    with pytest.raises(ValueError, match="masking is not supported"):
        CuDNNLSTM(2)(torch.tensor(X), mask=torch.ones(4, 6))
    lstm = _built(LSTM(2))
    with pytest.raises(ValueError, match=r"bias of shape \(5,\) fits neither LSTM \(8,\) nor CuDNNLSTM \(16,\)"):
        preprocess_weights_for_loading(lstm, [np.zeros((5, 8)), np.zeros((2, 8)), np.zeros(5)])
    with pytest.raises(ValueError, match="`original_backend` 'theano' is not supported"):
        preprocess_weights_for_loading(lstm, lstm.get_weights(), original_backend="theano")
    plain = Sequential([Input(shape=(3, 5)), GRU(2, reset_after=False, name="g")])
    plain.save_weights(tmp_path / "w.h5")
    cudnn = Sequential([Input(shape=(3, 5)), CuDNNGRU(2, name="g")])
    before = cudnn.get_weights()
    with pytest.raises(ValueError, match="Cannot load layer 'g'.*GRU\\(reset_after=False\\) is not compatible"):
        cudnn.load_weights(tmp_path / "w.h5")
    for old, new in zip(before, cudnn.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_cudnn_layers_save_and_load_as_whole_models(tmp_path):
    model = Sequential([Input(shape=(6, 3)), CuDNNLSTM(3, return_sequences=True), CuDNNGRU(2)])
    model.compile("sgd", "mse")
    model.save(tmp_path / "m.h5")
    from kerosene.models import load_model
    loaded = load_model(tmp_path / "m.h5")
    assert [type(layer).__name__ for layer in loaded.layers] == ["CuDNNLSTM", "CuDNNGRU"]
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), atol=1e-6)
