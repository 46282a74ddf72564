"""Merge layers as Keras 2.2.4 has them: inputs of different ranks, unknown sizes kept
unknown on symbolic tensors, shape checks at every call, and the masks they pass on."""
import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Model, load_model

RNG = np.random.default_rng(0)
X3 = RNG.random((2, 4, 5)).astype("float32")
X2 = RNG.random((2, 5)).astype("float32")


@pytest.mark.parametrize("cls,ref", [
    (L.Add, np.add), (L.Subtract, np.subtract), (L.Multiply, np.multiply),
    (L.Maximum, np.maximum), (L.Minimum, np.minimum),
    (L.Average, lambda a, b: (a + b) / 2),
])
def test_lower_rank_input_gets_axes_after_the_batch_axis(cls, ref):
    got = cls()([torch.tensor(X3), torch.tensor(X2)]).numpy()
    np.testing.assert_allclose(got, ref(X3, X2[:, None, :]), rtol=1e-6)
    # the other way round too: the reshape does not depend on the order
    got = cls()([torch.tensor(X2), torch.tensor(X3)]).numpy()
    np.testing.assert_allclose(got, ref(X2[:, None, :], X3), rtol=1e-6)


def test_rank_one_input_and_size_one_batch_broadcast():
    v = np.array([1.0, 2.0], dtype="float32")                  # (batch,)
    got = L.Add()([torch.tensor(X3), torch.tensor(v)]).numpy()
    np.testing.assert_allclose(got, X3 + v[:, None, None], rtol=1e-6)
    one = X3[:1]
    got = L.Multiply()([torch.tensor(one), torch.tensor(X3)]).numpy()
    np.testing.assert_allclose(got, one * X3, rtol=1e-6)


def test_functional_model_with_inputs_of_different_ranks():
    i1, i2 = L.Input(shape=(4, 5)), L.Input(shape=(5,))
    out = L.add([i1, i2])
    assert out.shape == (None, 4, 5)
    np.testing.assert_allclose(Model([i1, i2], out).predict([X3, X2], verbose=0), X3 + X2[:, None], rtol=1e-6)

    u1, u2 = L.Input(shape=(None, None)), L.Input(shape=(None,))
    out = L.maximum([u1, u2])
    assert out.shape == (None, None, None)
    got = Model([u1, u2], out).predict([X3, X2], verbose=0)
    np.testing.assert_allclose(got, np.maximum(X3, X2[:, None]), rtol=1e-6)


def test_unknown_sizes_stay_unknown_on_symbolic_tensors():
    a, b = L.Input(shape=(None, 5)), L.Input(shape=(None, 5))
    assert L.concatenate([a, b], axis=1).shape == (None, None, 5)
    assert L.concatenate([a, b]).shape == (None, None, 10)
    assert L.add([a, b]).shape == (None, None, 5)
    layer = L.Concatenate(axis=1)
    layer([a, b])
    assert layer.output_shape == (None, None, 5)
    c, d = L.Input(shape=(None, 3)), L.Input(shape=(4, 3))
    assert L.Dot(axes=2)([c, d]).shape == (None, None, 4)
    x = np.ones((2, 3, 5), "float32")
    model = Model([a, b], L.concatenate([a, b], axis=1))
    assert model.predict([x, x[:, :2]], verbose=0).shape == (2, 5, 5)


def test_elementwise_shape_follows_keras2():
    layer = L.Add()
    assert layer.compute_output_shape([(None, 4, 5), (None, 5)]) == (None, 4, 5)
    assert layer.compute_output_shape([(None, 4, 1), (None, 1, 5)]) == (None, 4, 5)
    assert layer.compute_output_shape([(None, None, 5), (None, 1)]) == (None, None, 5)
    assert layer.compute_output_shape([(3, 4), (None, 4)]) == (3, 4)   # the one known batch size


def test_bad_symbolic_calls_raise_at_every_call():
    i1, i2, i3 = L.Input(shape=(4, 5)), L.Input(shape=(4, 5)), L.Input(shape=(3, 5))
    sub = L.Subtract()
    sub([i1, i2])
    with pytest.raises(ValueError, match="'subtract.*' \\(Subtract\\).*exactly 2 inputs, got 3"):
        sub([i1, i2, i1])
    with pytest.raises(ValueError, match="exactly 2 inputs, got 1"):
        sub([i1])
    concat = L.Concatenate(axis=1)
    concat([i1, i2])
    with pytest.raises(ValueError, match="at least 2 inputs, got 1"):
        concat([i1])
    with pytest.raises(ValueError, match=r"shapes \(4, 5\) and \(3, 5\).*do not broadcast"):
        L.Add()([i1, i3])
    with pytest.raises(ValueError, match="matching shapes except on axis -1"):
        L.Concatenate()([i1, i3])
    with pytest.raises(ValueError, match="list of inputs, got one tensor of shape \\(None, 4, 5\\)"):
        L.Add()(i1)
    b1, b2 = L.Input(batch_shape=(2, 5)), L.Input(batch_shape=(3, 5))
    with pytest.raises(ValueError, match="different batch sizes"):
        L.Add()([b1, b2])
    with pytest.raises(ValueError, match="axis 3 is out of range for inputs of rank 3"):
        L.Concatenate(axis=3)([i1, i2])
    with pytest.raises(ValueError, match="Dot axes \\(2, 2\\) have sizes 5 and 4"):
        L.Dot(axes=2)([i1, L.Input(shape=(5, 4))])


def test_bad_eager_calls_are_value_errors_naming_the_shapes():
    add = L.Add()
    add([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(ValueError, match=r"'add.*' \(Add\): inputs of shapes \[\(2, 3\), \(2, 4\)\] cannot be merged"):
        add([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="at least 2 inputs, got 1"):
        add([torch.ones(2, 3)])
    with pytest.raises(ValueError, match="must be called on a list of inputs, got Tensor"):
        add(torch.ones(2, 3))
    concat = L.Concatenate(axis=1)
    with pytest.raises(ValueError, match=r"matching shapes except on axis 1"):      # checked when it builds
        concat([torch.ones(2, 3, 4), torch.ones(2, 3, 5)])
    concat([torch.ones(2, 3, 4), torch.ones(2, 1, 4)])
    with pytest.raises(ValueError, match=r"cannot be concatenated on axis 1"):      # and at each call after
        concat([torch.ones(2, 3, 4), torch.ones(2, 3, 5)])
    with pytest.raises(ValueError, match="exactly 2 inputs, got 3"):
        L.Dot(axes=1)([torch.ones(2, 3)] * 3)


def test_mask_arguments_are_checked():
    i1, i2 = L.Input(shape=(4, 5)), L.Input(shape=(4, 5))
    m = torch.ones(2, 4, dtype=torch.bool)
    for layer in (L.Add(), L.Concatenate()):
        assert layer.compute_mask([i1, i2], None) is None
        assert layer.compute_mask([i1, i2], [None, None]) is None
        with pytest.raises(ValueError, match="`mask` must be a list.*got Tensor"):
            layer.compute_mask([i1, i2], m)
        with pytest.raises(ValueError, match="`inputs` must be a list when masks are given"):
            layer.compute_mask(i1, [m, None])
        with pytest.raises(ValueError, match="same length, got 2 inputs and 1 masks"):
            layer.compute_mask([i1, i2], [m])
    assert L.Dot(axes=1).compute_mask([i1, i2], [m, m]) is None


def test_elementwise_mask_keeps_a_step_kept_by_every_mask():
    a = torch.tensor([[True, True, False]])
    b = torch.tensor([[1.0, 0.0, 1.0]])                  # a float mask counts its non-zeros
    x = torch.zeros(1, 3, 2)
    assert L.Multiply().compute_mask([x, x], [a, b]).tolist() == [[True, False, False]]
    assert L.Multiply().compute_mask([x, x], [None, b]).tolist() == [[True, False, True]]


def test_concatenate_mask_on_the_time_axis_and_the_feature_axis():
    x1, x2 = torch.zeros(2, 3, 4), torch.zeros(2, 2, 4)
    m1 = torch.tensor([[True, True, False], [True, False, False]])
    m2 = torch.tensor([[True, False], [False, False]])
    on_time = L.Concatenate(axis=1).compute_mask([x1, x2], [m1, m2])
    assert on_time.tolist() == torch.cat([m1, m2], dim=1).tolist()
    assert L.Concatenate(axis=1).compute_mask([x1, x2], [m1, None]).tolist() == (
        torch.cat([m1, torch.ones(2, 2, dtype=torch.bool)], dim=1).tolist())
    y = torch.zeros(2, 3, 6)
    assert L.Concatenate().compute_mask([x1, y], [m1, None]).tolist() == m1.tolist()
    assert L.Concatenate().compute_mask([x1, y], [m1, ~m1]).tolist() == [[False] * 3] * 2
    # masks as big as the inputs: all over the last axis after concatenating
    full = torch.ones(2, 3, 4)
    full[0, 1, 2] = 0
    got = L.Concatenate(axis=1).compute_mask([x1, x1], [full, torch.ones(2, 3, 4)])
    assert got.tolist() == [[True, False, True, True, True, True], [True] * 6]


def test_masked_concatenate_in_a_model_reaches_the_next_layer():
    tokens = np.array([[1, 2, 0], [3, 0, 0]])
    a, b = L.Input(shape=(3,), dtype="int64"), L.Input(shape=(3,), dtype="int64")
    ea = L.Embedding(5, 2, mask_zero=True)(a)
    eb = L.Embedding(5, 2, mask_zero=True)(b)
    out = L.LSTM(2)(L.concatenate([ea, eb], axis=1))      # 6 steps, padding masked
    model = Model([a, b], out)
    full = model.predict([tokens, tokens], verbose=0)
    lstm = model.layers[-1]
    steps = L.concatenate([model.layers[2](torch.tensor(tokens)), model.layers[3](torch.tensor(tokens))], axis=1)
    keep = torch.tensor(np.concatenate([tokens, tokens], axis=1) != 0)
    alone = [lstm(steps[i:i + 1, keep[i]]).detach().numpy() for i in range(2)]
    np.testing.assert_allclose(full, np.concatenate(alone), atol=1e-6)   # the LSTM saw the kept steps only


def test_config_round_trip_and_h5(tmp_path):
    i1, i2 = L.Input(shape=(4, 5)), L.Input(shape=(5,))
    h = L.Dense(5, name="d")(i2)
    out = L.concatenate([L.add([i1, h]), L.Multiply()([i1, h])], axis=1)
    model = Model([i1, i2], out)
    assert out.shape == (None, 8, 5)
    for layer in model.layers:
        if isinstance(layer, (L.Concatenate, L.Add, L.Multiply)):
            clone = type(layer).from_config(layer.get_config())
            assert clone.get_config() == layer.get_config()
    rebuilt = Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    want = model.predict([X3, X2], verbose=0)
    np.testing.assert_allclose(rebuilt.predict([X3, X2], verbose=0), want, rtol=1e-6)
    path = str(tmp_path / "m.h5")
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict([X3, X2], verbose=0), want, rtol=1e-6)


def test_concatenate_axis_must_be_an_int():
    with pytest.raises(TypeError, match="'axis' must be an int, got '1'"):
        L.Concatenate(axis="1")


def test_a_graph_rebuilt_from_config_keeps_unknown_sizes():
    a, b = L.Input(shape=(None, 5)), L.Input(shape=(None, 5))
    model = Model([a, b], L.concatenate([a, b], axis=1))
    rebuilt = Model.from_config(model.get_config())
    assert rebuilt.output_shape == (None, None, 5)
