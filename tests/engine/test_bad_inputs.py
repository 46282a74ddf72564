"""Bad inputs to fit/compile/callbacks: a clear error naming the argument, the value and what is
accepted, raised before any step runs (the weights are untouched)."""
import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import Callback, LambdaCallback, ReduceLROnPlateau
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.RandomState(0).rand(12, 4).astype("float32")
Y = np.eye(3, dtype="float32")[np.arange(12) % 3]


def model(loss="categorical_crossentropy"):
    m = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    m.compile("sgd", loss)
    return m


def weights(m):
    return [w.detach().clone() for w in m.parameters()]


def assert_untouched(m, before):
    assert all(torch.equal(a, b) for a, b in zip(before, weights(m)))


class Counting(Callback):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def on_train_begin(self, logs=None):
        self.calls += 1


@pytest.mark.parametrize("bad_x, message", [
    (np.array([["a"] * 4] * 12), r"`x` holds strings/bytes \(dtype=<U1, shape \(12, 4\)\); accepted: numeric"),
    (np.array([b"ab"] * 12), r"`x` holds strings/bytes \(dtype=\|S2"),
    (np.array([object()] * 12), r"`x` holds Python objects \(dtype=object"),
])
def test_string_or_object_x(bad_x, message):
    m = model()
    with pytest.raises(TypeError, match=message):
        m.fit(bad_x, Y, verbose=0)


def test_fit_without_targets_on_a_compiled_loss():
    m = model()
    before, counting = weights(m), Counting()
    with pytest.raises(ValueError, match=r"fit\(\) needs targets: `y` is None.*Pass `y`"):
        m.fit(X, None, verbose=0, callbacks=[counting])
    assert_untouched(m, before)
    assert counting.calls == 0


def test_fit_without_targets_is_fine_when_train_step_is_overridden():
    class OwnStep(Sequential):
        def train_step(self, data):
            return {"loss": self(data[0]).sum() * 0}
    m = OwnStep([Dense(3, input_shape=(4,))])
    m.compile("sgd", "mse")
    assert len(m.fit(X, None, verbose=0).history["loss"]) == 1


def test_validation_data_without_targets():
    m = model()
    before = weights(m)
    with pytest.raises(ValueError, match=r"`validation_data` must be \(x_val, y_val\).*got ndarray arrays alone"):
        m.fit(X, Y, validation_data=X, verbose=0)
    with pytest.raises(ValueError, match="`validation_data` must be"):
        m.fit(X, Y, validation_data={"dense_input": X}, verbose=0)
    assert_untouched(m, before)


def test_validation_data_generator_alone_is_still_accepted():
    def batches():
        while True:
            yield X, Y
    history = model().fit(X, Y, validation_data=batches(), validation_steps=2, verbose=0)
    assert len(history.history["val_loss"]) == 1


def test_bool_one_hot_targets_train_as_floats_as_in_keras2():
    # Keras 2 casts bool arrays to floatx: the same model trained on bool and float targets agrees.
    torch.manual_seed(0)
    a = model()
    torch.manual_seed(0)
    b = model()
    la = a.fit(X, Y.astype(bool), shuffle=False, verbose=0).history["loss"]
    lb = b.fit(X, Y, shuffle=False, verbose=0).history["loss"]
    assert la == lb


def test_sparse_labels_out_of_range():
    m = model("sparse_categorical_crossentropy")
    before = weights(m)
    labels = np.arange(12) % 5
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: `y_true` must hold class indices 0 to 2 "
                                         r"\(the output has 3 classes\), got labels from 0 to 4"):
        m.fit(X, labels, verbose=0)
    with pytest.raises(ValueError, match="got labels from -1 to"):
        m.fit(X, labels % 3 - 1, verbose=0)
    assert_untouched(m, before)
    assert len(m.fit(X, labels % 3, verbose=0).history["loss"]) == 1


def test_one_callback_instead_of_a_list_is_accepted():
    counting = Counting()
    model().fit(X, Y, verbose=0, callbacks=counting)
    assert counting.calls == 1
    with pytest.raises(TypeError, match="`callbacks` must hold kerosene.callbacks.Callback instances, got str"):
        model().fit(X, Y, verbose=0, callbacks="history")


@pytest.mark.parametrize("factor", [0, 0.0, -0.5, 1.0, 2])
def test_reduce_lr_on_plateau_factor(factor):
    with pytest.raises(ValueError, match=rf"`factor` must be in \(0, 1\), got {factor}"):
        ReduceLROnPlateau(factor=factor)


def test_lambda_callback_misspelt_hook():
    with pytest.raises(TypeError, match=r"unknown hook 'on_epoch_ended'; accepted hooks: on_epoch_begin, "
                                        r"on_epoch_end, .*on_predict_batch_end"):
        LambdaCallback(on_epoch_ended=print)
    seen = []
    cb = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch), note="kept")
    assert cb.note == "kept"  # Keras 2: other keywords become attributes
    model().fit(X, Y, batch_size=6, verbose=0, callbacks=[cb])
    assert seen == [0, 1]


def test_loss_weights_of_the_wrong_length():
    m = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(ValueError, match="`loss_weights` has 2 entries but the model has one output"):
        m.compile("sgd", "mse", loss_weights=[1.0, 2.0])
    m.compile("sgd", "mse", loss_weights=[2.0])
    assert m._compile_state.loss_weights == [2.0]
    inputs = kerosene.layers.Input((4,))
    two = kerosene.models.Model(inputs, [Dense(1, name="a")(inputs), Dense(1, name="b")(inputs)])
    with pytest.raises(ValueError, match="`loss_weights` has 1 entries but the model has 2 outputs"):
        two.compile("sgd", "mse", loss_weights=[1.0])
