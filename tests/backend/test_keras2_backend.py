"""kerosene.backend (K) against numpy on random inputs, and K.set_value on optimizers."""
import numpy as np
import pytest
import torch

import kerosene
from kerosene import backend as K
from kerosene.layers import Input

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3, 5)).astype("float32")
Y = RNG.normal(size=(4, 3, 5)).astype("float32")


def close(tensor, expected, tol=1e-5):
    assert isinstance(tensor, torch.Tensor)
    np.testing.assert_allclose(tensor.detach().numpy(), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,ref", [
    ("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("prod", np.prod),
    ("var", np.var), ("std", np.std)])
@pytest.mark.parametrize("axis", [None, 0, -1, 1, (1, 2), [0, -1]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, ref, axis, keepdims):
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    close(getattr(K, name)(torch.tensor(X), axis=axis, keepdims=keepdims),
          ref(X, axis=np_axis, keepdims=keepdims), tol=1e-4)


def test_any_all_argmax():
    b = X > 0
    close(K.any(torch.tensor(b), axis=1), b.any(axis=1))
    close(K.all(torch.tensor(b), axis=-1, keepdims=True), b.all(axis=-1, keepdims=True))
    close(K.argmax(torch.tensor(X)), X.argmax(-1))


@pytest.mark.parametrize("name,ref", [
    ("square", np.square), ("abs", np.abs), ("exp", np.exp), ("tanh", np.tanh),
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a))), ("relu", lambda a: np.maximum(a, 0)),
    ("sqrt", lambda a: np.sqrt(np.clip(a, 0, None))), ("log", lambda a: np.log(np.abs(a) + 1)),
    ("sign", np.sign), ("round", np.round)])
def test_elementwise_match_numpy(name, ref):
    data = np.abs(X) + 1 if name == "log" else X
    close(getattr(K, name)(torch.tensor(data)), ref(X) if name == "log" else ref(data))


def test_relu_variants_and_clip():
    t = torch.tensor(X)
    close(K.relu(t, alpha=0.1), np.where(X >= 0, X, 0.1 * X))
    close(K.relu(t, max_value=0.5), np.clip(X, 0, 0.5))
    close(K.relu(t, threshold=0.2), np.where(X >= 0.2, X, 0))
    close(K.clip(t, -0.3, 0.4), np.clip(X, -0.3, 0.4))
    close(K.clip(t, 0.5, 0.1), np.full_like(X, 0.5))  # max below min is raised to min


def test_binary_and_comparisons():
    a, b = torch.tensor(X), torch.tensor(Y)
    close(K.maximum(a, b), np.maximum(X, Y))
    close(K.minimum(a, b), np.minimum(X, Y))
    close(K.equal(a, a), np.ones_like(X, bool))
    close(K.greater(a, b), X > Y)
    close(K.less_equal(a, b), X <= Y)
    close(K.pow(a, 2), X ** 2)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_l2_normalize(axis):
    e = np.exp(X - X.max(axis=axis, keepdims=True))
    close(K.softmax(torch.tensor(X), axis=axis), e / e.sum(axis=axis, keepdims=True))
    norm = np.sqrt(np.maximum((X ** 2).sum(axis=axis, keepdims=True), 1e-12))
    close(K.l2_normalize(torch.tensor(X), axis=axis), X / norm)


def test_l2_normalize_all_axes():
    close(K.l2_normalize(torch.tensor(X)), X / np.sqrt((X ** 2).sum()))


def test_shape_functions():
    t = torch.tensor(X)
    close(K.concatenate([t, t], axis=1), np.concatenate([X, X], axis=1))
    close(K.concatenate([t, t]), np.concatenate([X, X], axis=-1))
    close(K.stack([t, t], axis=1), np.stack([X, X], axis=1))
    close(K.reshape(t, (4, 15)), X.reshape(4, 15))
    close(K.transpose(t), X.transpose())
    close(K.permute_dimensions(t, (0, 2, 1)), X.transpose(0, 2, 1))
    close(K.expand_dims(t, 1), np.expand_dims(X, 1))
    close(K.squeeze(K.expand_dims(t), -1), X)
    close(K.batch_flatten(t), X.reshape(4, -1))
    close(K.repeat_elements(t, 2, axis=1), np.repeat(X, 2, axis=1))
    close(K.tile(t, (1, 2, 1)), np.tile(X, (1, 2, 1)))
    assert K.shape(t)[0] == 4 and K.int_shape(t) == (4, 3, 5) and K.ndim(t) == 3
    close(K.ones_like(t), np.ones_like(X))
    close(K.zeros_like(t), np.zeros_like(X))
    assert K.cast(t, "int32").dtype == torch.int32 and K.dtype(t) == "float32"
    with pytest.raises(ValueError, match="squeeze"):
        K.squeeze(t, 1)
    with pytest.raises(ValueError, match="dtype"):
        K.cast(t, "complex-ish")


def test_dot_matches_numpy():
    a, b = RNG.normal(size=(4, 5)).astype("float32"), RNG.normal(size=(5, 6)).astype("float32")
    close(K.dot(torch.tensor(a), torch.tensor(b)), a @ b, tol=1e-4)
    c = RNG.normal(size=(2, 5, 7)).astype("float32")
    close(K.dot(torch.tensor(X), torch.tensor(c)), np.tensordot(X, c, axes=([2], [1])), tol=1e-4)


def test_batch_dot_matches_keras_examples():
    a, b = RNG.normal(size=(6, 5)).astype("float32"), RNG.normal(size=(6, 5)).astype("float32")
    out = K.batch_dot(torch.tensor(a), torch.tensor(b), axes=1)
    assert tuple(out.shape) == (6, 1)
    close(out, (a * b).sum(1, keepdims=True), tol=1e-4)
    m, n = RNG.normal(size=(4, 3, 5)).astype("float32"), RNG.normal(size=(4, 5, 2)).astype("float32")
    close(K.batch_dot(torch.tensor(m), torch.tensor(n)), np.matmul(m, n), tol=1e-4)
    close(K.batch_dot(torch.tensor(m), torch.tensor(m), axes=[2, 2]), m @ m.transpose(0, 2, 1), tol=1e-4)
    with pytest.raises(ValueError, match="axes"):
        K.batch_dot(torch.tensor(m), torch.tensor(m), axes="x")


def test_switch_broadcasts_condition_and_takes_callables():
    cond = torch.tensor([True, False, True, False])
    out = K.switch(cond, lambda: torch.tensor(X), torch.tensor(Y))
    close(out, np.where(np.array([1, 0, 1, 0], bool)[:, None, None], X, Y))


def test_crossentropies_match_numpy():
    logits = RNG.normal(size=(8, 4)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    target = np.eye(4, dtype="float32")[RNG.integers(0, 4, 8)]
    eps = K.epsilon()
    expected = -(target * np.log(np.clip(probs, eps, 1 - eps))).sum(-1)
    close(K.categorical_crossentropy(torch.tensor(target), torch.tensor(probs)), expected, tol=1e-5)
    close(K.categorical_crossentropy(torch.tensor(target), torch.tensor(logits), from_logits=True),
          expected, tol=1e-4)
    close(K.sparse_categorical_crossentropy(torch.tensor(target.argmax(-1)), torch.tensor(probs)),
          expected, tol=1e-5)
    p = 1 / (1 + np.exp(-logits))
    t = (RNG.random((8, 4)) > 0.5).astype("float32")
    pc = np.clip(p, eps, 1 - eps)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    close(K.binary_crossentropy(torch.tensor(t), torch.tensor(p)), bce, tol=1e-5)
    close(K.binary_crossentropy(torch.tensor(t), torch.tensor(logits), from_logits=True), bce, tol=1e-4)


def test_numpy_inputs_are_accepted():
    out = K.mean(X, axis=1)
    assert isinstance(out, torch.Tensor)
    close(out, X.mean(axis=1))


def test_config_functions_and_errors():
    assert K.image_data_format() == "channels_last" and K.floatx() == "float32" and K.epsilon() == 1e-7
    K.set_image_data_format("channels_first")
    try:
        assert K.image_data_format() == "channels_first"
    finally:
        K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="data_format.*'channels_last'.*got 'nchw'"):
        K.set_image_data_format("nchw")
    with pytest.raises(ValueError, match="value"):
        K.set_floatx("float8")


def test_get_set_value_on_tensors():
    v = K.variable(np.zeros((2, 2)))
    K.set_value(v, np.ones((2, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        K.set_value(v, np.ones(3))
    with pytest.raises(TypeError, match="`x` must be a tensor or an optimizer hyperparameter.*float"):
        K.set_value(0.5, 0.1)


def _compiled_model(optimizer):
    model = kerosene.Sequential([kerosene.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_set_value_on_optimizer_lr_in_a_callback(optimizer):
    model = _compiled_model(optimizer)
    seen = []

    class Halve(kerosene.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            lr = K.get_value(self.model.optimizer.lr)
            K.set_value(self.model.optimizer.lr, lr * 0.5)
            seen.append(float(K.get_value(self.model.optimizer.lr)))

    start = float(model.optimizer.lr)
    x, y = np.random.rand(16, 3).astype("float32"), np.random.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=3, verbose=0, callbacks=[Halve()])
    assert seen == pytest.approx([start / 2, start / 4, start / 8])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(start / 8)
    assert isinstance(model.optimizer.lr, float)


def test_set_value_on_a_wrapped_torch_optimizer():
    model = kerosene.Sequential([kerosene.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="mse")
    K.set_value(model.optimizer.lr, 0.02)
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.02)


def test_clear_session_restarts_names():
    K.clear_session()
    first = kerosene.layers.Dense(1)
    K.clear_session()
    second = kerosene.layers.Dense(1)
    assert first.name == second.name == "dense"


def test_image_data_format_sets_the_layers_default():
    from kerosene import backend as K
    from kerosene.layers import Conv2D, MaxPooling2D
    try:
        K.set_image_data_format("channels_first")
        assert Conv2D(2, 3).data_format == "channels_first"
        assert MaxPooling2D().data_format == "channels_first"
    finally:
        K.set_image_data_format("channels_last")
    assert Conv2D(2, 3).data_format == "channels_last"


def test_trig_scans_and_logsumexp_match_numpy():
    t = torch.tensor(X)
    close(K.cos(t), np.cos(X))
    close(K.sin(t), np.sin(X))
    close(K.cumsum(t), np.cumsum(X, axis=0))
    close(K.cumprod(t, axis=-1), np.cumprod(X, axis=-1), tol=1e-4)
    close(K.logsumexp(t, axis=1, keepdims=True), np.log(np.exp(X).sum(axis=1, keepdims=True)), tol=1e-4)
    close(K.logsumexp(t), np.log(np.exp(X).sum()), tol=1e-4)
    close(K.arange(2, 8, 2), np.arange(2, 8, 2))
    assert K.cast_to_floatx([1, 2]).dtype == np.float32


def test_one_hot_gives_floats_and_refuses_indices_out_of_range():
    out = K.one_hot(K.cast(K.variable([0, 2, 1]), "int32"), num_classes=3)
    assert out.dtype == torch.float32
    close(out, np.eye(3)[[0, 2, 1]])
    with pytest.raises(ValueError, match=r"`indices` must lie in \[0, 3\).*from 0 to 3"):
        K.one_hot(torch.tensor([0, 3]), 3)


def test_updates_change_the_variable_in_place():
    v = K.variable(np.ones(3))
    assert K.update_add(v, np.array([1.0, 2.0, 3.0])) is v
    K.update_sub(v, 1.0)
    np.testing.assert_allclose(K.eval(v), [1.0, 2.0, 3.0])
    K.update(v, np.zeros(3))
    np.testing.assert_allclose(K.eval(v), np.zeros(3))
    with pytest.raises(TypeError, match="update_add: `x` must be a tensor.*float"):
        K.update_add(1.0, 2.0)


def test_eval_reads_tensors_numbers_and_optimizer_hyperparameters():
    assert isinstance(K.eval(K.variable([[1.0]])), np.ndarray)
    assert K.eval(K.mean(K.variable([1.0, 3.0]))) == pytest.approx(2.0)
    model = _compiled_model(kerosene.optimizers.SGD(lr=0.25))
    assert float(K.eval(model.optimizer.lr)) == pytest.approx(0.25)


def test_learning_phase_switches():
    assert K.learning_phase() == 0 and isinstance(K.learning_phase(), int)
    assert K.in_train_phase(1.0, lambda: 2.0) == 2.0
    assert K.in_train_phase(1.0, 2.0, training=1) == 1.0
    assert K.in_test_phase(1.0, 2.0, training=True) == 2.0


def test_tensorflow_sessions_are_a_clear_error_and_name_scope_a_no_op():
    with pytest.raises(RuntimeError, match="get_session.*no TensorFlow session.*K.function"):
        K.get_session()
    with pytest.warns(RuntimeWarning, match="set_session: .*no TensorFlow session; the session's settings are ignored"):
        K.set_session(object())     # Keras 2 scripts' GPU memory-growth recipe goes on
    with K.name_scope("block") as name:
        assert name == "block"


def test_random_variables_and_draws_follow_their_seed_and_bounds():
    from kerosene import backend as K
    a = K.random_normal_variable((200, 50), 1.0, 2.0, seed=3)
    np.testing.assert_array_equal(a.numpy(), K.random_normal_variable((200, 50), 1.0, 2.0, seed=3).numpy())
    assert abs(float(a.mean()) - 1.0) < 0.05 and abs(float(a.std()) - 2.0) < 0.05
    u = K.random_uniform_variable((1000,), -1.0, 3.0, seed=1).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.15
    t = K.truncated_normal((5000,), mean=2.0, stddev=0.5, seed=2).numpy()
    assert t.min() >= 1.0 and t.max() <= 3.0
    b = K.random_binomial((10000,), p=0.3, seed=4).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.02


def test_keras2_tensorflow_backend_path_is_the_same_backend():
    from kerosene.backend import tensorflow_backend as KTF
    for name in ("conv2d", "function", "placeholder", "set_session", "get_session", "floatx", "gradients"):
        assert getattr(KTF, name) is getattr(K, name)
    assert KTF.backend() == "torch"


def test_shape_of_a_symbolic_tensor_is_computed_when_the_graph_runs():
    # Keras 2's deep_dream: scaling = K.prod(K.cast(K.shape(x), 'float32')) on a layer's output
    x = Input(shape=(None, 5))
    size = K.prod(K.cast(K.shape(x), "float32"))
    rows = K.shape(x)[1]
    f = K.function([x], [size, rows, K.sum(K.square(x)) / size])
    data = np.ones((4, 3, 5), dtype="float32")
    got_size, got_rows, got_mean = f([data])
    assert float(got_size) == 60.0 and int(got_rows) == 3
    np.testing.assert_allclose(got_mean, 1.0)
    assert K.shape(torch.zeros(4, 3)) == (4, 3)


def test_a_fixed_batch_is_kept_as_probed_when_the_output_batch_differs():
    image = K.placeholder((1, 4, 5, 3))
    fixed = K.variable(np.zeros((1, 4, 5, 3), dtype="float32"))
    assert K.concatenate([fixed, fixed, image], axis=0).shape == (3, 4, 5, 3)
    assert K.sum(image, axis=0).shape == (4, 5, 3)
    assert K.concatenate([Input(shape=(5,)), Input(shape=(5,))], axis=0).shape == (None, 5)


def test_tensors_without_a_batch_axis_keep_their_first_axis():
    # Keras 2's neural doodle: one image's features (H, W, C) permuted and times a mask (H, W)
    features = K.placeholder((1, 4, 5, 3))[0]
    mask = K.placeholder((4, 5))
    masked = K.permute_dimensions(features, (2, 0, 1)) * mask
    assert masked.shape == (3, 4, 5)
    flat = K.batch_flatten(masked)
    assert K.dot(flat, K.transpose(flat)).shape == (3, 3)
