"""Unit tests of kerosene.layers: shapes, configs, weights, errors, the base class."""

import numpy as np
import pytest
import torch

from kerosene import layers as L

# (factory, input shape with batch, integer input?)
CASES = [
    (lambda: L.Dense(4), (2, 3), False),
    (lambda: L.Dense(4, activation="relu", use_bias=False), (2, 5, 3), False),
    (lambda: L.Activation("softmax"), (2, 3), False),
    (lambda: L.Dropout(0.3), (2, 3), False),
    (lambda: L.Flatten(), (2, 3, 4, 5), False),
    (lambda: L.Flatten(data_format="channels_first"), (2, 3, 4, 5), False),
    (lambda: L.Reshape((2, -1)), (2, 12), False),
    (lambda: L.Permute((2, 1)), (2, 3, 4), False),
    (lambda: L.RepeatVector(3), (2, 4), False),
    (lambda: L.Lambda(lambda x: x[:, :2] * 2), (2, 5), False),
    (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 9, 3), False),
    (lambda: L.Conv2D(4, (3, 2), strides=2, padding="same"), (2, 9, 8, 3), False),
    (lambda: L.Conv2D(4, 3, data_format="channels_first"), (2, 3, 8, 8), False),
    (lambda: L.Conv3D(2, 3), (1, 5, 5, 5, 2), False),
    (lambda: L.MaxPooling1D(), (2, 9, 3), False),
    (lambda: L.MaxPooling2D(3, strides=2, padding="same"), (2, 9, 8, 3), False),
    (lambda: L.AveragePooling2D(data_format="channels_first"), (2, 3, 8, 8), False),
    (lambda: L.AveragePooling1D(3, padding="same"), (2, 10, 3), False),
    (lambda: L.MaxPooling3D(), (1, 4, 4, 4, 2), False),
    (lambda: L.GlobalAveragePooling1D(), (2, 9, 3), False),
    (lambda: L.GlobalMaxPooling2D(keepdims=True), (2, 5, 5, 3), False),
    (lambda: L.GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 5, 5), False),
    (lambda: L.BatchNormalization(), (4, 5, 5, 3), False),
    (lambda: L.BatchNormalization(axis=1), (4, 3, 5), False),
    (lambda: L.LayerNormalization(axis=[1, 2]), (2, 3, 4), False),
    (lambda: L.LayerNormalization(rms_scaling=True), (2, 3, 4), False),
    (lambda: L.Embedding(10, 4), (2, 7), True),
    (lambda: L.SimpleRNN(4, return_sequences=True), (2, 5, 3), False),
    (lambda: L.LSTM(4, go_backwards=True), (2, 5, 3), False),
    (lambda: L.LSTM(4, return_state=True), (2, 5, 3), False),
    (lambda: L.GRU(4, reset_after=False), (2, 5, 3), False),
    (lambda: L.Bidirectional(L.GRU(4, return_sequences=True)), (2, 5, 3), False),
    (lambda: L.Bidirectional(L.LSTM(4), merge_mode="sum"), (2, 5, 3), False),
    (lambda: L.TimeDistributed(L.Dense(6)), (2, 5, 3), False),
    (lambda: L.GaussianNoise(0.1), (2, 3), False),
    (lambda: L.GaussianDropout(0.2), (2, 3), False),
    (lambda: L.AlphaDropout(0.2), (2, 3), False),
    (lambda: L.SpatialDropout1D(0.2), (2, 5, 3), False),
    (lambda: L.SpatialDropout2D(0.2), (2, 4, 4, 3), False),
    (lambda: L.InputLayer(input_shape=(3,)), (2, 3), False),
]

IDS = [f"{i}" for i in range(len(CASES))]


def _input(shape, integer):
    if integer:
        return torch.randint(0, 10, shape)
    return torch.randn(shape)


def _shapes(out):
    if isinstance(out, (list, tuple)):
        return [tuple(o.shape[1:]) for o in out]
    return tuple(out.shape[1:])


def _strip_batch(shape):
    if isinstance(shape, list):
        return [tuple(s[1:]) for s in shape]
    return tuple(shape[1:])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_shape_matches_compute_output_shape(case):
    factory, shape, integer = case
    layer = factory()
    out = layer(_input(shape, integer))
    expected = layer.compute_output_shape((None,) + shape[1:])
    assert _shapes(out) == _strip_batch(expected)
    # Training mode gives the same shape.
    layer.train()
    assert _shapes(layer(_input(shape, integer))) == _strip_batch(expected)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip(case):
    factory, shape, integer = case
    layer = factory()
    config = layer.get_config()
    assert config["name"] == layer.name and "dtype" in config
    assert "trainable" in config or isinstance(layer, L.InputLayer)
    clone = L.deserialize(L.serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    x = _input(shape, integer)
    layer.eval(), clone.eval()
    layer(x), clone(x)
    clone.set_keras_weights(layer.keras_weights())
    got, want = clone(x), layer(x)
    if isinstance(want, (list, tuple)):
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w)
    else:
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_keras_weights_round_trip(case):
    factory, shape, integer = case
    layer = factory()
    layer(_input(shape, integer))
    weights = layer.keras_weights()
    names = layer.keras_weight_names()
    assert len(names) == len(weights) == len(layer.weights)
    assert all(n.endswith(":0") for n in names)
    rng = np.random.default_rng(0)
    new = [rng.normal(size=w.shape).astype(w.dtype) for w in weights]
    layer.set_keras_weights(new)
    for a, b in zip(layer.keras_weights(), new):
        np.testing.assert_array_equal(a, b)
    assert layer.count_params() == sum(w.size for w in weights)


# ------------------------------------------------------ weight orientation

def test_keras_orientations():
    d = L.Dense(4)
    d(torch.zeros(1, 3))
    assert [w.shape for w in d.get_weights()] == [(3, 4), (4,)]
    assert tuple(d.kernel.shape) == (4, 3)  # torch storage
    c = L.Conv2D(5, (3, 2))
    c(torch.zeros(1, 6, 6, 2))
    assert c.get_weights()[0].shape == (3, 2, 2, 5)
    lstm = L.LSTM(4)
    lstm(torch.zeros(1, 2, 3))
    assert [w.shape for w in lstm.get_weights()] == [(3, 16), (4, 16), (16,)]
    # unit_forget_bias: ones on the forget gate only.
    np.testing.assert_array_equal(lstm.get_weights()[2],
                                  np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    gru = L.GRU(4)
    gru(torch.zeros(1, 2, 3))
    assert [w.shape for w in gru.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    assert gru.keras_weight_names() == ["kernel:0", "recurrent_kernel:0", "bias:0"]
    bn = L.BatchNormalization()
    bn(torch.zeros(2, 3))
    assert bn.keras_weight_names() == ["gamma:0", "beta:0", "moving_mean:0",
                                       "moving_variance:0"]
    bi = L.Bidirectional(L.LSTM(2, name="lstm"))
    bi(torch.zeros(1, 2, 3))
    assert bi.keras_weight_names()[0] == "forward_lstm/kernel:0"
    assert bi.keras_weight_names()[3] == "backward_lstm/kernel:0"


def test_gru_gate_reorder():
    # Keras's z block of the kernel must land in torch's second (z) block.
    gru = L.GRU(2)
    gru(torch.zeros(1, 1, 3))
    kernel, rec, bias = gru.get_weights()
    kernel[:, :2] = 1.0  # z
    kernel[:, 2:4] = 2.0  # r
    kernel[:, 4:] = 3.0  # h
    gru.set_keras_weights([kernel, rec, bias])
    w = gru.kernel.detach()
    assert torch.all(w[:2] == 2.0) and torch.all(w[2:4] == 1.0) and torch.all(w[4:] == 3.0)


def test_set_keras_weights_errors_leave_layer_unchanged():
    d = L.Dense(4, name="dense_err")
    d(torch.zeros(1, 3))
    before = d.get_weights()
    with pytest.raises(ValueError, match=r"dense_err.*kernel.*\(3, 4\).*\(4, 3\)"):
        d.set_keras_weights([np.zeros((4, 3)), np.ones(4)])
    with pytest.raises(ValueError, match="expects 2 weights"):
        d.set_keras_weights([np.zeros((3, 4))])
    # Second weight bad: the first must not have been written.
    with pytest.raises(ValueError, match="bias"):
        d.set_keras_weights([np.ones((3, 4)), np.ones(5)])
    for a, b in zip(d.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_unbuilt_set_weights_error_says_not_built():
    with pytest.raises(ValueError, match="not built"):
        L.Dense(2).set_keras_weights([np.zeros((3, 2)), np.zeros(2)])


def test_initial_weights_kwarg():
    w = [np.full((3, 2), 0.5, "float32"), np.ones(2, "float32")]
    d = L.Dense(2, weights=w)
    out = d(torch.ones(1, 3))
    torch.testing.assert_close(out, torch.full((1, 2), 2.5))


# ------------------------------------------------------------- base class

def test_auto_names_count_like_keras():
    L.reset_name_counters()
    names = [L.Dense(1).name, L.Dense(1).name, L.Conv2D(1, 1).name, L.Dense(1).name,
             L.BatchNormalization().name, L.SimpleRNN(1).name, L.GlobalMaxPooling2D().name]
    assert names == ["dense", "dense_1", "conv2d", "dense_2", "batch_normalization",
                     "simple_rnn", "global_max_pooling2d"]
    assert L.Dense(1, name="head").name == "head"


def test_input_shape_kwargs_recorded():
    assert L.Dense(2, input_dim=784).batch_input_shape == (None, 784)
    assert L.Dense(2, input_shape=(784,)).input_shape == (None, 784)
    assert L.Dense(2, input_shape=(5,), batch_size=32).batch_input_shape == (32, 5)
    assert L.Conv2D(2, 3, batch_input_shape=(None, 28, 28, 1)).input_shape == (None, 28, 28, 1)
    assert L.Dense(2).input_shape is None
    assert L.Embedding(10, 3, input_length=7).batch_input_shape == (None, 7)


def test_input_and_input_layer():
    inp = L.Input(shape=(28, 28))
    assert isinstance(inp, L.InputLayer)
    assert inp.input_shape == (None, 28, 28) and inp.built
    assert inp.name.startswith("input_")
    x = torch.randn(2, 28, 28)
    assert inp(x) is x
    assert L.Input(shape=10, batch_size=4, name="x").input_shape == (4, 10)
    assert L.InputLayer(batch_input_shape=(None, 3)).get_config()["batch_input_shape"] == (None, 3)
    with pytest.raises(ValueError, match="shape"):
        L.Input()


def test_wrong_feature_dim_is_a_clear_error():
    d = L.Dense(3, input_shape=(784,))
    d(torch.zeros(4, 784))
    with pytest.raises(ValueError) as info:
        d(torch.zeros(32, 100))
    assert str(info.value) == ("Input 0 of layer dense is incompatible: expected shape "
                               "(None, 784), got (32, 100)") or "expected shape (None, 784), " \
        "got (32, 100)" in str(info.value)
    conv = L.Conv2D(2, 3, input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match=r"expected shape \(None, 8, 8, 3\)"):
        conv(torch.zeros(1, 8, 8, 4))


def test_fast_path_after_build():
    d = L.Dense(3)
    assert d._slow
    d(torch.zeros(1, 2))
    assert not d._slow  # forward is a bool test then call()


def test_lazy_build_moves_weights_to_input_device_and_builds_once():
    d = L.Dense(3)
    d(torch.zeros(1, 2))
    params = list(d.parameters())
    d(torch.zeros(5, 2))
    assert list(d.parameters()) == params


def test_trainable_flag():
    bn = L.BatchNormalization()
    bn(torch.randn(4, 3))
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    bn.trainable = False
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4
    assert not any(p.requires_grad for p in bn.parameters())
    # A frozen BatchNormalization runs in inference mode: moving stats unchanged.
    bn.train()
    mean = bn.moving_mean.clone()
    bn(torch.randn(4, 3) + 5)
    torch.testing.assert_close(bn.moving_mean, mean)
    bn.trainable = True
    assert all(p.requires_grad for p in bn.parameters())
    assert L.Dense(2, trainable=False).get_config()["trainable"] is False
    frozen = L.Dense(2, trainable=False)
    frozen(torch.zeros(1, 2))
    assert frozen.trainable_weights == [] and not frozen.kernel.requires_grad


def test_bidirectional_trainable_propagates():
    bi = L.Bidirectional(L.LSTM(2))
    bi(torch.zeros(1, 2, 3))
    bi.trainable = False
    assert not any(p.requires_grad for p in bi.parameters())
    assert bi.trainable_weights == []


def test_dropout_train_vs_eval():
    torch.manual_seed(0)
    layer = L.Dropout(0.5)
    x = torch.ones(1000)
    layer.eval()
    assert torch.equal(layer(x), x)
    layer.train()
    y = layer(x)
    assert set(y.unique().tolist()) <= {0.0, 2.0}
    assert 350 < int((y == 0).sum()) < 650
    assert torch.equal(layer(x, training=False), x)
    shared = L.Dropout(0.5, noise_shape=(None, 1))
    shared.train()
    y = shared(torch.ones(8, 6))
    assert all(len(row.unique()) == 1 for row in y)


def test_spatial_dropout_drops_whole_channels():
    torch.manual_seed(0)
    layer = L.SpatialDropout1D(0.5).train()
    y = layer(torch.ones(4, 10, 6))
    assert torch.all(y.amax(1) == y.amin(1))


def test_batchnorm_moving_stats_use_keras_momentum_and_biased_variance():
    bn = L.BatchNormalization(momentum=0.9).train()
    x = torch.randn(10, 3) * 2 + 1
    bn(x)
    mean, var = x.mean(0), x.var(0, unbiased=False)
    torch.testing.assert_close(bn.moving_mean, 0.1 * mean, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(bn.moving_variance, 0.9 + 0.1 * var, atol=1e-5, rtol=1e-5)


def test_recurrent_stateful_and_reset():
    lstm = L.LSTM(3, stateful=True)
    x = torch.randn(2, 4, 5)
    a = lstm(x)
    b = lstm(x)
    assert not torch.allclose(a, b)
    lstm.reset_states()
    torch.testing.assert_close(lstm(x), a)


def test_recurrent_dropout_uses_loop_path_and_training_only():
    torch.manual_seed(0)
    gru = L.GRU(3, dropout=0.3, recurrent_dropout=0.3)
    x = torch.randn(2, 4, 5)
    gru.eval()
    a = gru(x)
    torch.testing.assert_close(gru(x), a)
    gru.train()
    assert not torch.allclose(gru(x), a)


def test_recurrent_mask_keeps_state_on_padding():
    emb = L.Embedding(10, 4, mask_zero=True)
    lstm = L.LSTM(3)
    tokens = torch.tensor([[1, 2, 3, 0, 0]])
    mask = emb.compute_mask(tokens)
    assert mask.tolist() == [[True, True, True, False, False]]
    with_pad = lstm(emb(tokens), mask=mask)
    no_pad = lstm(emb(tokens[:, :3]))
    torch.testing.assert_close(with_pad, no_pad)


def test_regularizers_and_losses():
    d = L.Dense(2, kernel_regularizer="l2", bias_regularizer="l1",
                activity_regularizer="l2")
    y = d(torch.ones(1, 3))
    k, b = d.kernel.detach(), d.bias.detach()
    expected = 0.01 * k.square().sum() + 0.01 * b.abs().sum() + 0.01 * y.detach().square().sum()
    torch.testing.assert_close(d.regularization_loss().detach(), expected)
    assert len(d.losses) == 3
    assert d.get_config()["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    assert L.Dense(2).regularization_loss() == 0.0
    # Nested layers: losses gathers sublayers, regularization_loss is own-only.
    bi = L.Bidirectional(L.LSTM(2, kernel_regularizer="l2"))
    bi(torch.zeros(1, 2, 3))
    assert len(bi.losses) == 2 and bi.regularization_loss() == 0.0
    total = sum(m.regularization_loss() for m in bi.modules())
    torch.testing.assert_close(total, bi.losses[0] + bi.losses[1])
    with pytest.raises(ValueError, match="Accepted names"):
        L.Dense(2, kernel_regularizer="l3")


def test_constraints_applied_on_request():
    d = L.Dense(2, kernel_constraint="non_neg")
    d(torch.ones(1, 3))
    with torch.no_grad():
        d.kernel.fill_(-1.0)
    d.apply_constraints()
    assert torch.all(d.kernel == 0)


def test_subclassing_keras2_style():
    class Scale(L.Layer):
        def __init__(self, factor=2.0, **kwargs):
            self.factor = factor
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],),
                                     initializer="ones", trainable=True)
            self.count = self.add_weight(name="count", shape=(), initializer="zeros",
                                         trainable=False)
            super().build(input_shape)

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            config = super().get_config()
            config["factor"] = self.factor
            return config

    layer = Scale(3.0)
    assert layer.name == "scale" and not layer.built
    y = layer(torch.ones(2, 4))
    assert layer.built and torch.equal(y, torch.full((2, 4), 3.0))
    assert layer.keras_weight_names() == ["w:0", "count:0"]
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 1
    assert layer.count_params() == 5
    assert "w" in dict(layer.named_parameters())
    assert Scale.from_config(layer.get_config()).factor == 3.0
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    # Weights are assigned to another attribute name: listed once.
    class Renamed(L.Layer):
        def build(self, input_shape):
            self.kernel_w = self.add_weight("kernel", (input_shape[-1], 2))

        def call(self, x):
            return x @ self.kernel_w

    r = Renamed()
    r(torch.ones(1, 3))
    assert list(dict(r.named_parameters())) == ["kernel_w"]
    assert r.keras_weight_names() == ["kernel:0"]
    # Keras 3 keyword order.
    class K3(L.Layer):
        def build(self, input_shape):
            self.b = self.add_weight(shape=(2,), initializer="ones", name="b")

    k3 = K3()
    k3.build((None, 2))
    assert k3.built and k3.get_weights()[0].tolist() == [1.0, 1.0]


def test_layer_without_own_config_returns_base_config():
    class Plain(L.Layer):
        def call(self, x):
            return x + 1

    config = Plain(name="p").get_config()
    assert config == {"name": "p", "trainable": True, "dtype": "float32"}


def test_torch_module_inside_layer_weights_listed():
    class Wrap(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.lin = torch.nn.Linear(3, 2)

        def call(self, x):
            return self.lin(x)

    w = Wrap()
    assert len(w.get_weights()) == 2 and w.count_params() == 8


def test_merge_helpers_and_errors():
    a, b = torch.ones(2, 3), torch.full((2, 3), 2.0)
    assert torch.equal(L.add([a, b]), torch.full((2, 3), 3.0))
    assert torch.equal(L.subtract([a, b]), -a)
    assert torch.equal(L.multiply([a, b]), b)
    assert torch.equal(L.average([a, b]), torch.full((2, 3), 1.5))
    assert torch.equal(L.maximum([a, b]), b) and torch.equal(L.minimum([a, b]), a)
    assert L.concatenate([a, b], axis=0).shape == (4, 3)
    assert L.dot([a, b], axes=1).shape == (2, 1)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.Subtract()([a, b, a])
    with pytest.raises(ValueError, match="list of at least 2"):
        L.Add()([a])
    with pytest.raises(ValueError, match="matching shapes"):
        L.Concatenate(axis=1).compute_output_shape([(None, 3, 4), (None, 3, 5)])
    assert L.Concatenate(axis=1).compute_output_shape([(None, 3), (None, 5)]) == (None, 8)


def test_noise_layers_identity_in_inference():
    x = torch.randn(3, 4)
    for layer in (L.GaussianNoise(1.0), L.GaussianDropout(0.5), L.AlphaDropout(0.5)):
        layer.eval()
        assert torch.equal(layer(x), x)
        layer.train()
        assert not torch.equal(layer(x), x)


# ------------------------------------------------------------- bad input

def test_unknown_kwarg_is_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'unitz'"):
        L.Dense(3, unitz=4)
    with pytest.raises(TypeError, match="'kernel_sise'"):
        L.Conv2D(3, 3, kernel_sise=2)


def test_unknown_activation_lists_names():
    with pytest.raises(ValueError, match=r"Unknown activation 'relux'.*relu.*sigmoid"):
        L.Dense(3, activation="relux")


def test_unknown_initializer_lists_names():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'.*glorot_uniform"):
        L.Dense(3, kernel_initializer="glorot")


@pytest.mark.parametrize("factory,match", [
    (lambda: L.Conv2D(3, 3, padding="full"), r"'padding': 'full'.*'valid', 'same'"),
    (lambda: L.Conv2D(3, 3, padding="causal"), r"'padding': 'causal'"),
    (lambda: L.MaxPooling2D(padding="zero"), r"'padding'"),
    (lambda: L.Conv2D(3, 3, data_format="NHWC"), r"'data_format': 'NHWC'.*channels_last"),
    (lambda: L.Flatten(data_format="channels_middle"), r"'data_format'"),
    (lambda: L.Conv2D(3, (3, 3, 3)), r"'kernel_size'.*tuple of 2 ints"),
    (lambda: L.Dense(0), r"'units' must be a positive integer"),
    (lambda: L.Dropout(1.5), r"'rate' must be a float between 0 and 1"),
    (lambda: L.Reshape((-1, -1)), r"'target_shape'"),
    (lambda: L.Permute((1, 3)), r"'dims'"),
    (lambda: L.Bidirectional(L.LSTM(2), merge_mode="cat"), r"'merge_mode'"),
    (lambda: L.Bidirectional(L.Dense(2)), r"recurrent layer"),
])
def test_bad_arguments(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_bad_rank_inputs():
    with pytest.raises(ValueError, match="rank 4"):
        L.Conv2D(2, 3)(torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        L.LSTM(2)(torch.zeros(2, 3))


def test_reshape_bad_size():
    with pytest.raises(ValueError, match="cannot reshape"):
        L.Reshape((5, -1)).compute_output_shape((None, 12))


def test_deserialize_with_custom_objects():
    def my_act(x):
        return x * 2

    def double(x):
        return x * 2

    dense = L.Dense(2, activation=my_act)
    config = L.serialize(dense)
    assert config["config"]["activation"] == "my_act"
    with pytest.raises(ValueError, match="Unknown activation 'my_act'"):
        L.deserialize(config)
    clone = L.deserialize(config, custom_objects={"my_act": my_act})
    assert clone.activation is my_act
    lam = L.deserialize(L.serialize(L.Lambda(double)))     # made in this process: the same function (Keras 2)
    assert lam.function is double
    foreign = L.serialize(L.Lambda(double))
    foreign["config"].update(function="double", function_type="function", module="elsewhere")
    with pytest.raises(ValueError, match="'double'.*custom_objects"):
        L.deserialize(foreign)
    lam = L.deserialize(foreign, custom_objects={"double": double})
    assert torch.equal(lam(torch.ones(1, 2)), torch.full((1, 2), 2.0))
    with pytest.raises(ValueError, match="Unknown layer class 'Foo'.*Dense"):
        L.deserialize({"class_name": "Foo", "config": {}})


def test_docstring_examples_run():
    import doctest
    import importlib
    modules = ["kerosene.activations", "kerosene.initializers"] + [
        f"kerosene.layers.{m}" for m in ("base", "core", "convolutional", "pooling",
                                         "normalization", "embedding", "recurrent", "merge",
                                         "noise", "wrappers")]
    for name in modules:
        result = doctest.testmod(importlib.import_module(name), verbose=False)
        assert result.failed == 0, name


def test_layers_made_after_set_floatx_float64_hold_float64_weights():
    import numpy as np
    from kerosene import backend as K
    from kerosene.layers import Conv2D, Dense
    K.set_floatx("float64")
    try:
        dense, conv = Dense(2), Conv2D(2, 3)
        out = dense(torch.ones(1, 3, dtype=torch.float64))
        conv(torch.ones(1, 5, 5, 1, dtype=torch.float64))
        assert dense.kernel.dtype == torch.float64 and conv.get_weights()[0].dtype == np.float64
        assert out.dtype == torch.float64 and dense.get_config()["dtype"] == "float64"
    finally:
        K.set_floatx("float32")
    assert Dense(2).get_config()["dtype"] == "float32"


def test_fit_after_set_floatx_float64_trains_at_float64_from_float32_and_int_data():
    import numpy as np
    from kerosene import backend as K
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    K.set_floatx("float64")
    try:
        model = Sequential([Dense(3, input_dim=4, activation="relu"), Dense(1)])
        model.compile("sgd", "mse")
        x = np.random.RandomState(0).rand(16, 4).astype(np.float32)
        model.fit(x, np.ones((16, 1)), epochs=1, batch_size=8, verbose=0)
        model.fit(np.arange(64).reshape(16, 4), np.ones((16, 1)), epochs=1, verbose=0)
        pred = model.predict(x.astype(np.float64))
        assert pred.dtype == np.float64 and all(w.dtype == np.float64 for w in model.get_weights())
    finally:
        K.set_floatx("float32")
