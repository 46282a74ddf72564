"""Keras 2 masks: Masking, Embedding(mask_zero=True), propagation through layers and models,
recurrent layers skipping masked steps, and the output mask weighing the loss."""
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.layers.masking import mask_of
from kerosene.models import Model, Sequential


def _padded(batch=4, steps=5, features=3, lengths=(5, 3, 2, 1), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, (batch, steps, features)).astype("float32")
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0
    return x


def test_masking_layer_zeroes_and_masks_the_padded_steps():
    x = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [2.0, 3.0]]])
    layer = L.Masking(mask_value=0.0)
    assert layer.compute_mask(x).tolist() == [[True, False, True]]
    y = L.Masking(mask_value=2.0)(torch.tensor([[[2.0, 2.0], [2.0, 1.0]]]))
    assert y.tolist() == [[[0.0, 0.0], [2.0, 1.0]]]
    assert L.Masking(mask_value=3.5).get_config()["mask_value"] == 3.5


@pytest.mark.parametrize("bad", ["0", None, True, [0.0]])
def test_masking_refuses_a_mask_value_that_is_no_number(bad):
    with pytest.raises(TypeError, match=r"mask_value.*number"):
        L.Masking(mask_value=bad)


def test_lstm_skips_masked_steps_and_keeps_its_state():
    x = _padded()
    model = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.LSTM(4)])
    out = model.predict(x)
    lstm = model.layers[1]
    for i, n in enumerate((5, 3, 2, 1)):
        alone = lstm(torch.tensor(x[i:i + 1, :n])).detach().numpy()
        np.testing.assert_allclose(out[i:i + 1], alone, atol=1e-6)


def test_return_sequences_passes_the_mask_on_and_a_last_output_drops_it():
    x = torch.tensor(_padded())
    seq = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.GRU(2, return_sequences=True), L.Dense(1)])
    assert mask_of(seq(x)).tolist() == (x != 0).any(-1).tolist()
    last = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.SimpleRNN(2), L.Dense(1)])
    assert mask_of(last(x)) is None


def test_a_model_without_mask_layers_attaches_no_mask():
    model = Sequential([L.Dense(2, input_shape=(3,)), L.Dense(1)])
    assert mask_of(model(torch.zeros(2, 3))) is None


def test_a_layer_without_masking_support_refuses_a_mask():
    model = Sequential([L.Embedding(10, 4, mask_zero=True, input_length=5), L.Flatten(), L.Dense(1)])
    with pytest.raises(TypeError, match=r"'flatten(_\d+)?' \(Flatten\) does not support masking"):
        model(torch.ones(2, 5, dtype=torch.long))


def _masked_mse(pred, y, mask, weights=None):
    err = ((pred - y) ** 2).mean(-1) * mask
    if weights is not None:
        err = err * weights[:, None]
    return err.sum() / mask.sum()


def test_the_loss_is_the_mean_over_unmasked_steps():
    x = _padded()
    y = np.random.default_rng(1).uniform(size=(4, 5, 2)).astype("float32")
    model = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.TimeDistributed(L.Dense(2))])
    model.compile(loss="mse", optimizer="sgd")
    mask = (x != 0).any(-1).astype("float32")
    expected = _masked_mse(model.predict(x), y, mask)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float(expected), rel=1e-5)
    unmasked = ((model.predict(x) - y) ** 2).mean()
    assert abs(unmasked - expected) > 1e-3  # the mask changes the value: the check can fail


def test_mask_and_sample_weight_combine_as_keras2():
    x = _padded()
    y = np.zeros((4, 5, 1), "float32")
    weights = np.array([1.0, 2.0, 0.5, 3.0], "float32")
    model = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.Dense(1)])
    model.compile(loss="mae", optimizer="sgd")
    mask = (x != 0).any(-1).astype("float32")
    pred = model.predict(x)
    expected = (np.abs(pred - y).mean(-1) * mask * weights[:, None]).sum() / mask.sum()
    got = model.evaluate(x, y, sample_weight=weights, verbose=0)
    assert got == pytest.approx(float(expected), rel=1e-5)


def test_targets_of_masked_steps_do_not_count():
    x = _padded()
    y = np.zeros((4, 5, 1), "float32")
    y_other = y.copy()
    y_other[x.any(-1) == 0] = 100.0  # only the masked steps differ
    model = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.LSTM(2, return_sequences=True), L.Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y_other, verbose=0))


def test_functional_embedding_mask_reaches_the_loss():
    tokens = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    inp = L.Input(shape=(5,), dtype="int64")
    out = L.TimeDistributed(L.Dense(1))(L.LSTM(3, return_sequences=True)(L.Embedding(10, 4, mask_zero=True)(inp)))
    model = Model(inp, out)
    model.compile(loss="mse", optimizer="sgd")
    y = np.random.default_rng(2).uniform(size=(2, 5, 1)).astype("float32")
    pred = model(torch.tensor(tokens))
    assert mask_of(pred).tolist() == (tokens != 0).tolist()
    expected = ((pred.detach().numpy() - y) ** 2)[..., 0][tokens != 0].mean()
    assert model.evaluate(tokens, y, verbose=0) == pytest.approx(float(expected), rel=1e-5)


def test_merge_layers_keep_a_step_only_when_every_mask_keeps_it():
    a = torch.tensor([[True, True, False]])
    b = torch.tensor([[True, False, False]])
    assert L.Add().compute_mask([None, None], [a, b]).tolist() == [[True, False, False]]
    assert L.Concatenate().compute_mask([None, None], [a, None]).tolist() == a.tolist()
    assert L.Add().compute_mask([None, None], None) is None


def test_a_nested_sequential_passes_its_mask_on():
    inner = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.Dense(2)])
    outer = Sequential([inner, L.LSTM(2)])
    x = _padded()
    out = outer.predict(x)
    lstm = outer.layers[1]
    alone = lstm(inner(torch.tensor(x[1:2, :3]))).detach().numpy()
    np.testing.assert_allclose(out[1:2], alone, atol=1e-6)


def test_lambda_mask_argument():
    fixed = torch.tensor([[True, False]])
    assert L.Lambda(lambda t: t, mask=fixed).compute_mask(torch.zeros(1, 2, 1), None) is fixed
    assert L.Lambda(lambda t: t).compute_mask(torch.zeros(1, 2, 1), fixed) is None
    keep_first = L.Lambda(lambda t: t, mask=lambda inputs, mask: mask[:, :1])
    assert keep_first.compute_mask(None, fixed).tolist() == [[True]]


def test_adding_a_mask_layer_after_a_call_turns_masks_on():
    model = Sequential([L.Dense(3, input_shape=(5, 3), bias_initializer="zeros")])
    x = torch.tensor(_padded())
    assert mask_of(model(x)) is None
    model.add(L.Masking(0.0))
    assert mask_of(model(x)).tolist() == (x != 0).any(-1).tolist()


def test_each_output_is_weighed_by_its_own_mask():
    x = _padded()
    inp = L.Input(shape=(5, 3))
    masked = L.Dense(1, name="masked")(L.Masking(0.0)(inp))
    plain = L.Dense(1, name="plain")(inp)
    model = Model(inp, [masked, plain])
    model.compile(loss="mse", optimizer="sgd")
    y = [np.ones((4, 5, 1), "float32"), np.ones((4, 5, 1), "float32")]
    pa, pb = model.predict(x)
    mask = (x != 0).any(-1).astype("float32")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["masked_loss"] == pytest.approx(float(_masked_mse(pa, y[0], mask)), rel=1e-5)
    assert logs["plain_loss"] == pytest.approx(float(((pb - y[1]) ** 2).mean()), rel=1e-5)
    assert logs["loss"] == pytest.approx(logs["masked_loss"] + logs["plain_loss"], rel=1e-5)


def test_global_average_pooling_1d_averages_the_unmasked_steps_only():
    x = _padded()
    model = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.GlobalAveragePooling1D()])
    out = model.predict(x)
    for i, n in enumerate((5, 3, 2, 1)):
        np.testing.assert_allclose(out[i], x[i, :n].mean(0), rtol=1e-6)
    assert mask_of(model(torch.tensor(x))) is None
    np.testing.assert_allclose(L.GlobalAveragePooling1D()(torch.tensor(x)).numpy(), x.mean(1), rtol=1e-6)


def test_a_torch_module_after_a_mask_is_refused_before_it_runs():
    encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 1, 8, batch_first=True), 1,
                                          enable_nested_tensor=False)  # its forward has its own `mask`
    model = Sequential([L.Embedding(10, 4, mask_zero=True, input_length=5), encoder])
    with pytest.raises(TypeError, match=r"torch module\) does not support masking"):
        model(torch.ones(2, 5, dtype=torch.long))
    plain = Sequential([L.Embedding(10, 4, input_length=5), encoder])
    assert plain(torch.ones(2, 5, dtype=torch.long)).shape == (2, 5, 4)


def test_masks_under_jit_compile_match_eager_without_graph_breaks():
    pytest.importorskip("torch._inductor")
    import torch._dynamo
    from torch._dynamo.utils import counters
    x = _padded(batch=8, lengths=(5, 3, 2, 1, 5, 4, 3, 2))
    y = np.random.default_rng(3).uniform(size=(8, 5, 1)).astype("float32")

    class Halve(L.Layer):  # a class first seen inside the compiled step
        supports_masking = True

        def call(self, inputs, mask=None):
            return inputs / 2

    def fit(jit):
        torch.manual_seed(0)
        model = Sequential([L.Masking(0.0, input_shape=(5, 3)), Halve(), L.Dense(1)])
        model.compile(loss="mse", optimizer="sgd", jit_compile=jit, device="cpu")
        return model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]

    torch._dynamo.reset()
    counters.clear()
    try:
        compiled = fit(True)
        assert not counters["graph_break"], dict(counters["graph_break"])
        assert counters["stats"]["unique_graphs"] == 1  # the train step, compiled once: no recompile
    finally:
        torch._dynamo.reset()
    np.testing.assert_allclose(compiled, fit(False), rtol=2e-5)


def test_a_masked_model_round_trips_through_h5(tmp_path):
    from kerosene.models import load_model
    model = Sequential([L.Masking(0.5, input_shape=(5, 3)), L.LSTM(2, return_sequences=True), L.Dense(1)])
    path = str(tmp_path / "masked.h5")
    model.save(path)
    loaded = load_model(path)
    assert loaded.layers[0].mask_value == 0.5
    x = _padded()
    x[:, 3:] = 0.5
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)
    assert mask_of(loaded(torch.tensor(x)))[:, 3:].any().item() is False


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_zero_output_for_mask_gives_zeros_at_masked_steps_and_carries_the_states(cls):
    from kerosene import layers as L
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    repeat = getattr(L, cls)(4, return_sequences=True, return_state=True)
    zero = getattr(L, cls)(4, return_sequences=True, return_state=True, zero_output_for_mask=True)
    out_repeat, *states_repeat = repeat(x, mask=mask)
    zero(x)
    zero.set_weights(repeat.get_weights())
    out_zero, *states_zero = zero(x, mask=mask)
    assert torch.equal(out_zero[0, 2], torch.zeros(4)) and torch.equal(out_repeat[0, 2], out_repeat[0, 1])
    assert torch.equal(out_zero[1], out_repeat[1]) and torch.equal(out_zero[0, 3], out_repeat[0, 3])
    assert all(torch.equal(a, b) for a, b in zip(states_zero, states_repeat))
    assert zero.get_config()["zero_output_for_mask"] is True and "zero_output_for_mask" not in repeat.get_config()
