"""Keras 2 data handling in fit: integer and boolean inputs cast to K.floatx() where Keras 2
casts them (and only there); an initial_epoch past epochs refused before training."""
import warnings

import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.engine.input_casts import cast_inputs, float_input_policy
from kerosene.layers import LSTM, Concatenate, Dense, Embedding, Flatten, Input
from kerosene.models import Model, Sequential

Y = np.ones((6, 2), "float32")


def _dense():
    m = Sequential([Dense(2, input_dim=3, kernel_initializer="ones")])
    m.compile("sgd", "mse")
    return m


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "bool"])
def test_integer_and_boolean_arrays_into_dense(dtype):
    m = _dense()
    x = np.ones((6, 3)).astype(dtype)
    m.fit(x, Y, epochs=1, verbose=0)
    m.evaluate(x, Y, verbose=0)
    m.train_on_batch(x, Y)
    m.test_on_batch(x, Y)
    assert m.predict(x).dtype == np.float32
    np.testing.assert_allclose(m.predict_on_batch(x), m.predict(x.astype("float32")))


def test_float64_and_torch_integer_inputs():
    m = _dense()
    assert m.predict(np.ones((6, 3), "float64")).dtype == np.float32
    assert m.predict(torch.ones(6, 3, dtype=torch.int64)).shape == (6, 2)


def test_boolean_sequences_into_an_lstm_and_generators():
    m = Sequential([LSTM(2, input_shape=(5, 3))])
    m.compile("sgd", "mse")
    m.fit(np.zeros((6, 5, 3), dtype=bool), Y, epochs=1, verbose=0)

    def batches():
        while True:
            yield np.ones((3, 5, 3), dtype="int32"), Y[:3]
    m.fit_generator(batches(), steps_per_epoch=2, verbose=0)
    assert m.predict_generator(batches(), steps=1).shape == (3, 2)


def test_lazy_sequential_builds_from_cast_inputs():
    m = Sequential([Dense(2)])
    m.compile("sgd", "mse")
    m.fit(np.ones((6, 3), "int32"), Y, epochs=1, verbose=0)
    assert m.layers[0].kernel.dtype == torch.float32


def test_embedding_keeps_working_on_cast_indices():
    ids = np.array([[1, 2, 3], [4, 5, 9]] * 3)
    seq = Sequential([Embedding(10, 2, input_length=3), Flatten(), Dense(2)])
    seq.compile("sgd", "mse")
    seq.fit(ids, Y, epochs=1, verbose=0)
    a = Input(shape=(3,), dtype="int32")  # declared integer: kept as it is
    func = Model(a, Dense(2)(Flatten()(Embedding(10, 2)(a))))
    assert float_input_policy(func) is None
    func.compile("sgd", "mse")
    func.fit(ids, Y, epochs=1, verbose=0)


def test_functional_inputs_cast_by_their_own_dtype():
    a, b = Input(shape=(3,), name="a"), Input(shape=(3,), dtype="int64", name="b")
    model = Model([a, b], Dense(2)(Concatenate()([a, Flatten()(Embedding(10, 1)(b))])))
    dtypes, names = float_input_policy(model)
    assert dtypes == [getattr(torch, K.floatx()), None] and names == ["a", "b"]
    ints = torch.ones(2, 3, dtype=torch.int64)
    cast = cast_inputs([ints, ints], (dtypes, names))
    assert cast[0].dtype == torch.float32 and cast[1].dtype == torch.int64
    as_dict = cast_inputs({"a": ints, "b": ints}, (dtypes, names))
    assert as_dict["a"].dtype == torch.float32 and as_dict["b"] is ints
    model.compile("sgd", "mse")
    model.fit([np.ones((6, 3), "int32"), np.ones((6, 3), "int32")], Y, epochs=1, verbose=0)
    model.fit({"a": np.ones((6, 3), bool), "b": np.ones((6, 3), "int32")}, Y, epochs=1, verbose=0)


def test_raw_torch_models_keep_torch_dtypes():
    seq = Sequential([torch.nn.Embedding(10, 2), torch.nn.Flatten(), torch.nn.Linear(6, 2)])
    assert float_input_policy(seq) is None
    seq.compile("sgd", "mse")
    seq.fit(np.ones((6, 3), "int64"), Y, epochs=1, verbose=0)


def test_targets_of_any_dtype():
    m = Sequential([Dense(3, input_dim=3, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["acc"])
    history = m.fit(np.eye(3)[[0, 1, 2, 1]], np.array([0, 1, 2, 1]), verbose=0)
    assert set(history.history) == {"loss", "acc"}
    b = Sequential([Dense(1, input_dim=3, activation="sigmoid")])
    b.compile("sgd", "binary_crossentropy", metrics=["acc"])
    b.fit(np.ones((4, 3), "int32"), np.ones((4, 1), dtype=bool), verbose=0)


def test_initial_epoch_past_epochs_is_a_clear_error():
    m = _dense()
    weights = m.get_weights()
    with pytest.raises(ValueError, match="`initial_epoch`=5 is past `epochs`=2"):
        m.fit(np.ones((6, 3)), Y, epochs=2, initial_epoch=5, verbose=0)
    for got, want in zip(m.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    assert m.fit(np.ones((6, 3)), Y, epochs=2, initial_epoch=2, verbose=0).epoch == []  # nothing left: fine


def _two_outputs():
    from kerosene.layers import Dropout
    a, b = Input(shape=(3,), name="input_a"), Input(shape=(3,), name="input_b")
    model = Model([a, b], [Dense(4, name="dense_1")(a), Dropout(0.5, name="dropout")(b)])
    model.compile("rmsprop", "mse", loss_weights=[1.0, 0.5])
    return model


def test_sample_weight_per_output_as_list_or_dict():
    rng = np.random.default_rng(0)
    model = _two_outputs()
    x = [rng.random((10, 3)), rng.random((10, 3))]
    y = [rng.random((10, 4)), rng.random((10, 3))]
    total, first, second = model.test_on_batch(x, y)
    weighted = model.test_on_batch(x, y, sample_weight=[None, np.zeros(10)])
    assert weighted[1] == pytest.approx(first) and weighted[2] == 0.0
    assert weighted[0] == pytest.approx(first)  # the second output's term is zero
    by_name = model.test_on_batch(x, y, sample_weight={"dropout": np.zeros(10)})
    np.testing.assert_allclose(by_name, weighted, rtol=1e-6)
    half = model.test_on_batch(x, y, sample_weight=[np.full(10, 2.0), None])
    assert half[1] == pytest.approx(2 * first, rel=1e-5) and half[2] == pytest.approx(second, rel=1e-5)
    history = model.fit(x, y, sample_weight=[None, rng.random(10)], validation_split=0.5, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "dense_1_loss", "dropout_loss", "val_loss", "val_dense_1_loss",
                                    "val_dropout_loss"}


def test_bad_sample_weights_are_refused_naming_the_argument():
    model = _two_outputs()
    x, y = [np.ones((10, 3))] * 2, [np.ones((10, 4)), np.ones((10, 3))]
    with pytest.raises(TypeError, match="`sample_weight` must be an array, a list .* got a tuple"):
        model.train_on_batch(x, y, sample_weight=(None, np.ones(10)))
    with pytest.raises(ValueError, match="sample_weight\\[1\\] has 2 samples"):
        model.train_on_batch(x, y, sample_weight=[np.ones(10), np.ones(2)])
    with pytest.raises(ValueError, match="`sample_weight` has 3 entries but the model has 2 outputs"):
        model.train_on_batch(x, y, sample_weight=[None, None, np.ones(10)])


def test_sample_weight_keys_naming_no_output_are_ignored_with_a_warning():
    """Keras 2.2 drops them (its tests key weights by placeholders); kerosene also names them."""
    model = _two_outputs()
    x, y = [np.ones((10, 3))] * 2, [np.ones((10, 4)), np.zeros((10, 3))]
    plain = model.test_on_batch(x, y)
    assert plain[2] > 0
    with pytest.warns(UserWarning, match=r"names unknown outputs \['lstm'\], which are ignored; "
                                         r"outputs: \['dense_1', 'dropout'\]"):
        ignored = model.test_on_batch(x, y, sample_weight={"lstm": np.zeros(10)})
    np.testing.assert_allclose(ignored, plain, rtol=1e-6)
    with pytest.warns(UserWarning, match=r"\['lstm'\]"):
        mixed = model.test_on_batch(x, y, sample_weight={"lstm": np.ones(10), "dropout": np.zeros(10)})
    assert mixed[2] == 0 and mixed[1] == pytest.approx(plain[1], rel=1e-6)


def test_scipy_sparse_inputs_and_targets():
    sparse = pytest.importorskip("scipy.sparse")
    x = [sparse.random(6, 3, density=0.5, format="csr", random_state=i) for i in range(2)]
    y = [sparse.random(6, 3, density=0.5, format="csr", random_state=5), sparse.random(6, 4, format="csr")]
    a, b = Input(shape=(3,)), Input(shape=(3,))
    model = Model([a, b], [Dense(3)(a), Dense(4)(b)])
    np.testing.assert_allclose(model.predict(x, batch_size=2)[0], model.predict([v.toarray() for v in x])[0],
                               rtol=1e-6)
    model.compile("rmsprop", "mse")
    model.fit(x, y, epochs=1, batch_size=2, validation_split=0.5, verbose=0)
    dense = model.evaluate([v.toarray() for v in x], [v.toarray() for v in y], verbose=0)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=2, verbose=0), dense, rtol=1e-5)


def test_fit_generator_with_workers_warns_that_none_run():
    m = _dense()

    def batches():
        while True:
            yield np.ones((3, 3)), Y[:3]
    with pytest.warns(UserWarning, match="reads a generator in this process.*no worker runs"):
        m.fit_generator(batches(), steps_per_epoch=2, workers=2, use_multiprocessing=True, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.fit_generator(batches(), steps_per_epoch=2, workers=2, verbose=0)  # threads: no warning


def test_generator_methods_refuse_a_generator_without_steps_before_reading_it():
    m = _dense()
    read = []

    def batches():
        while True:
            read.append(1)
            yield np.ones((3, 3)), Y[:3]
    with pytest.raises(ValueError, match="validation_steps=None.*validation_data.*generator"):
        m.fit_generator(batches(), steps_per_epoch=2, validation_data=batches(), verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch=None"):
        m.fit_generator(batches(), verbose=0)
    with pytest.raises(ValueError, match="steps=None"):
        m.evaluate_generator(batches())
    with pytest.raises(ValueError, match="steps=None"):
        m.predict_generator(batches())
    assert read == []
    assert np.all(np.isfinite(m.evaluate_generator(batches(), steps=2)))


def test_multi_output_model_trained_on_its_regularization_losses_alone():
    from kerosene.layers import Dropout
    a = Input(shape=(3,))
    hidden = Dense(4, kernel_regularizer="l1", bias_regularizer="l2", bias_initializer="ones")(a)
    model = Model(a, [hidden, Dropout(0.5)(hidden)])
    model.compile("rmsprop", None, metrics=["mae"])
    x = np.random.default_rng(1).random((10, 3))
    first = model.test_on_batch(x, None)
    assert first > 0  # the l1/l2 penalties
    model.train_on_batch(x, None)
    history = model.fit(x, None, epochs=3, verbose=0)
    assert set(history.history) == {"loss"} and history.history["loss"][-1] < first
    assert model.evaluate(x, None, verbose=0) < first
    model.compile("rmsprop", "mse")
    with pytest.raises(ValueError, match="has a loss but no target: pass y"):
        model.train_on_batch(x, None)


def test_class_weight_missing_a_class_in_the_data_is_refused_before_training():
    m = Sequential([Dense(3, input_dim=3, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy")
    weights = m.get_weights()
    with pytest.raises(ValueError, match="The classes \\[1\\] exist in the data but not in `class_weight`"):
        m.fit(np.eye(3), np.array([0, 1, 2]), epochs=0, verbose=0, class_weight={0: 1.0, 2: 3.0})
    np.testing.assert_array_equal(m.get_weights()[0], weights[0])
    m.fit(np.eye(3), np.array([0, 2, 2]), epochs=1, verbose=0, class_weight={0: 1.0, 2: 3.0})  # 1 absent: fine
