"""Targets, sample weights and dict inputs that cannot match the model: a named error before any
step runs (weights untouched), with the shapes/keys given and expected; what Keras 2 accepts still trains."""
import numpy as np
import pytest
import torch

from kerosene.layers import Dense, Input, concatenate
from kerosene.models import Model, Sequential

RNG = np.random.RandomState(0)
X = RNG.rand(12, 4).astype("float32")


def weights(m):
    return [w.detach().clone() for w in m.parameters()]


def assert_untouched(m, before):
    assert all(torch.equal(a, b) for a, b in zip(before, weights(m)))


def dense_model(units, loss, activation="softmax"):
    m = Sequential([Dense(units, activation=activation, input_shape=(4,), name="out")])
    m.compile("sgd", loss)
    return m


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_one_hot_targets_of_the_wrong_width(method):
    m = dense_model(10, "categorical_crossentropy")
    m.predict(X[:1])
    before = weights(m)
    with pytest.raises(ValueError, match=r"`y` holds targets of shape \(3,\) per sample, but output 'out' with loss "
                                         r"'categorical_crossentropy' expects shape \(10,\) per sample"):
        getattr(m, method)(X, np.eye(3, dtype="float32")[np.arange(12) % 3], verbose=0)
    assert_untouched(m, before)


@pytest.mark.parametrize("method", ["train_on_batch", "test_on_batch"])
def test_single_batch_methods_check_targets_too(method):
    m = dense_model(1, "mse", activation=None)
    with pytest.raises(ValueError, match=r"`y` holds targets of shape \(3,\) per sample.*expects shape \(1,\)"):
        getattr(m, method)(X, RNG.rand(12, 3))


def test_regression_targets_are_not_broadcast_against_the_output():
    m = dense_model(1, "mse", activation=None)
    with pytest.raises(ValueError, match=r"`y` holds targets of shape \(3,\) per sample.*expects shape \(1,\)"):
        m.fit(X, RNG.rand(12, 3), verbose=0)


@pytest.mark.parametrize("y_shape", [(12,), (12, 1)])
def test_keras2_target_forms_still_train(y_shape):
    m = dense_model(1, "mse", activation=None)
    m.fit(X, RNG.rand(*y_shape).astype("float32"), verbose=0)
    sparse = dense_model(10, "sparse_categorical_crossentropy")
    sparse.fit(X, RNG.randint(0, 10, y_shape), verbose=0)


def test_sparse_targets_with_a_class_axis():
    m = dense_model(10, "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"expects class indices of shape \(1,\) per sample"):
        m.fit(X, RNG.randint(0, 10, (12, 10)), verbose=0)


def test_a_user_loss_is_not_checked():
    m = Sequential([Dense(1, input_shape=(4,))])
    m.compile("sgd", lambda y_true, y_pred: ((y_true.mean(-1, keepdim=True) - y_pred) ** 2).mean())
    m.fit(X, RNG.rand(12, 3).astype("float32"), verbose=0)


def test_sample_weight_that_cannot_weight_the_targets():
    m = dense_model(10, "categorical_crossentropy")
    m.predict(X[:1])
    before = weights(m)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(12, 2\) for targets of shape \(12, 10\); give a "
                                         r"1-D array \(samples,\)"):
        m.fit(X, np.eye(10, dtype="float32")[np.arange(12) % 10], sample_weight=np.ones((12, 2)), verbose=0)
    assert_untouched(m, before)
    m.fit(X, np.eye(10, dtype="float32")[np.arange(12) % 10], sample_weight=np.ones((12, 1)), verbose=0)


def two_input_model():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    o1 = Dense(2, name="o1")(concatenate([a, b]))
    o2 = Dense(5, name="o2")(a)
    m = Model([a, b], [o1, o2])
    m.compile("sgd", "mse")
    return m


Y2 = [RNG.rand(12, 2).astype("float32"), RNG.rand(12, 5).astype("float32")]
X2 = {"a": X, "b": RNG.rand(12, 3).astype("float32")}


def test_dict_input_with_no_matching_key():
    m = two_input_model()
    with pytest.raises(ValueError, match=r"`x` is a dict but none of its keys \['q', 'r'\] names a model input; "
                                         r"expected keys \['a', 'b'\]"):
        m.fit({"q": X, "r": X2["b"]}, Y2, verbose=0)


def test_dict_input_missing_an_input():
    m = two_input_model()
    with pytest.raises(ValueError, match=r"`x` is a dict but it lacks \['b'\]; expected keys \['a', 'b'\].*"
                                         r"got \['a', 'c'\]"):
        m.fit({"a": X, "c": X2["b"]}, Y2, verbose=0)


def test_single_input_dict_with_a_wrong_key():
    a = Input((4,), name="a")
    m = Model(a, Dense(1)(a))
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"none of its keys \['zz'\] names a model input; expected keys \['a'\]"):
        m.fit({"zz": X}, RNG.rand(12), verbose=0)
    m.fit({"a": X}, RNG.rand(12).astype("float32"), verbose=0)


def test_sequential_dict_input_keyed_by_another_name_is_refused_naming_its_input():
    m = Sequential([Dense(1, input_dim=4)])
    m.compile("sgd", "mse")
    assert m.input_names == [m.input.name] and m.input.name.endswith("_input")
    before = weights(m)
    with pytest.raises(ValueError, match=r"none of its keys \['wrong'\] names a model input; expected keys "
                                         r"\['" + m.input_names[0] + r"'\]"):
        m.fit({"wrong": X}, RNG.rand(12, 1).astype("float32"), verbose=0)
    assert_untouched(m, before)
    m.fit({m.input_names[0]: X}, RNG.rand(12, 1).astype("float32"), verbose=0)


def test_target_dict_missing_an_output():
    m = two_input_model()
    with pytest.raises(ValueError, match=r"`y` is a dict but it lacks \['o2'\]; expected keys \['o1', 'o2'\]"):
        m.fit(X2, {"o1": Y2[0], "o3": Y2[1]}, verbose=0)
    m.fit(X2, {"o1": Y2[0], "o2": Y2[1]}, verbose=0)


def test_per_output_target_shape_names_the_output():
    m = two_input_model()
    with pytest.raises(ValueError, match=r"`y\['o2'\]` holds targets of shape \(4,\) per sample, but output 'o2'"):
        m.fit(X2, {"o1": Y2[0], "o2": RNG.rand(12, 4)}, verbose=0)


def test_targets_only_for_the_outputs_with_a_loss():
    a = Input((4,), name="a")
    hidden = Dense(4, name="hidden")(a)
    out = Dense(3, name="out")(hidden)
    m = Model(a, [hidden, out])
    m.compile("sgd", {"out": "mse"}, metrics=["mae"])
    y = RNG.rand(12, 3).astype("float32")
    expected = float(np.mean((m.predict(X)[1] - y) ** 2))
    for given in (y, [y]):  # Keras 2: one array, or a list of the targets of the outputs with a loss
        loss = m.evaluate(X, given, verbose=0, return_dict=True)["loss"]
        assert loss == pytest.approx(expected, rel=1e-5)
    m.fit(X, [y], verbose=0)


def test_a_target_dict_naming_only_the_output_with_a_loss():
    a = Input((4,), name="a")
    m = Model(a, [Dense(2, name="o1")(a), Dense(3, name="o2")(a)])
    m.compile("sgd", {"o2": "mse"})
    y = RNG.rand(12, 3).astype("float32")
    expected = float(np.mean((m.predict(X)[1] - y) ** 2))
    assert m.evaluate(X, {"o2": y}, verbose=0, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match=r"`y\['o2'\]` holds targets of shape \(4,\) per sample"):
        m.fit(X, {"o2": RNG.rand(12, 4)}, verbose=0)


def test_sequence_targets():
    from kerosene.layers import LSTM, Embedding
    xs = RNG.rand(12, 5, 3).astype("float32")
    m = Sequential([LSTM(2, return_sequences=True, input_shape=(5, 3), name="seq")])
    m.compile("sgd", "mse")
    m.fit(xs, RNG.rand(12, 5, 2).astype("float32"), sample_weight=np.ones((12, 5)), verbose=0)
    with pytest.raises(ValueError, match=r"holds targets of shape \(4, 2\) per sample.*expects shape \(5, 2\)"):
        m.fit(xs, RNG.rand(12, 4, 2), verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(12, 4\), which does not fit targets of shape "
                                         r"\(12, 5, 2\)"):
        m.fit(xs, RNG.rand(12, 5, 2), sample_weight=np.ones((12, 4)), verbose=0)
    # an input axis of any length: the output's length is not known before the data, nothing checked
    free = Sequential([LSTM(2, return_sequences=True, input_shape=(None, 3))])
    free.compile("sgd", "mse")
    free.fit(xs, RNG.rand(12, 5, 2).astype("float32"), verbose=0)
    tagger = Sequential([Embedding(10, 4, input_length=5), Dense(7, activation="softmax")])
    tagger.compile("sgd", "sparse_categorical_crossentropy")
    xi = RNG.randint(0, 10, (12, 5))
    for shape in [(12, 5), (12, 5, 1)]:  # per time step: (N, T) or Keras 2's (N, T, 1)
        tagger.fit(xi, RNG.randint(0, 7, shape), verbose=0)
    with pytest.raises(ValueError, match=r"expects class indices of shape \(5, 1\) per sample"):
        tagger.fit(xi, RNG.randint(0, 7, (12, 5, 7)), verbose=0)
