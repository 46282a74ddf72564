"""K.ctc_batch_cost, K.ctc_decode (greedy and beam search) and K.ctc_label_dense_to_sparse
against Keras 3's CTC ops (torch backend; blank = the last class, as Keras 2)."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.layers import Dense, Input, Lambda
from kerosene.models import Model

keras = pytest.importorskip("keras")
RNG = np.random.default_rng(3)
LOGITS = RNG.normal(size=(3, 7, 5)).astype("float32")
Y_PRED = torch.softmax(torch.tensor(LOGITS), -1).numpy()
LABELS = np.array([[1, 2, 0], [0, 0, 3], [2, 2, 1]])
LABEL_LENGTH = np.array([[3], [2], [3]])
INPUT_LENGTH = np.array([[7], [5], [6]])


def k3(value):
    return keras.ops.convert_to_numpy(value)


def test_ctc_batch_cost_matches_keras3():
    got = K.ctc_batch_cost(LABELS, Y_PRED, INPUT_LENGTH, LABEL_LENGTH)
    assert got.shape == (3, 1)
    expected = k3(keras.ops.ctc_loss(LABELS, np.log(Y_PRED + K.epsilon()), LABEL_LENGTH[:, 0], INPUT_LENGTH[:, 0],
                                     mask_index=4))
    np.testing.assert_allclose(got[:, 0].numpy(), expected, rtol=1e-5)


def test_ctc_batch_cost_is_differentiable():
    y_pred = torch.tensor(Y_PRED, requires_grad=True)
    (grad,) = torch.autograd.grad(K.ctc_batch_cost(LABELS, y_pred, INPUT_LENGTH, LABEL_LENGTH).sum(), y_pred)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def trimmed(dense):
    return [[int(v) for v in row if v != -1] for row in np.asarray(dense)]


def test_ctc_decode_greedy_matches_keras3():
    decoded, log_prob = K.ctc_decode(Y_PRED, INPUT_LENGTH[:, 0])
    ref, ref_scores = keras.ops.ctc_decode(np.log(Y_PRED), INPUT_LENGTH[:, 0], strategy="greedy", mask_index=4)
    assert len(decoded) == 1 and decoded[0].shape[1] == max(len(r) for r in trimmed(decoded[0]))
    assert trimmed(decoded[0]) == trimmed(k3(ref)[0])
    np.testing.assert_allclose(log_prob.numpy(), k3(ref_scores), rtol=1e-4)


def test_ctc_decode_greedy_merges_repeats_then_drops_blanks():
    blank = 2
    steps = [0, 0, blank, 0, 1, 1, blank]
    y_pred = np.eye(3, dtype="float32")[steps][None] * 0.9 + 0.05
    decoded, _ = K.ctc_decode(y_pred, np.array([7]))
    assert decoded[0].tolist() == [[0, 0, 1]]
    decoded, _ = K.ctc_decode(y_pred, np.array([3]))   # only the first 3 steps
    assert decoded[0].tolist() == [[0]]


def test_ctc_decode_beam_search_matches_keras3():
    decoded, log_prob = K.ctc_decode(Y_PRED, INPUT_LENGTH[:, 0], greedy=False, beam_width=8, top_paths=3)
    ref, ref_scores = keras.ops.ctc_decode(np.log(Y_PRED), INPUT_LENGTH[:, 0], strategy="beam_search",
                                           beam_width=8, top_paths=3, mask_index=4)
    assert len(decoded) == 3 and log_prob.shape == (3, 3)
    for k in range(3):
        assert trimmed(decoded[k]) == trimmed(k3(ref)[k])
    np.testing.assert_allclose(log_prob.numpy(), k3(ref_scores), rtol=1e-4)


def test_ctc_label_dense_to_sparse():
    sparse = K.ctc_label_dense_to_sparse(LABELS, LABEL_LENGTH[:, 0])
    assert K.is_sparse(sparse)
    dense = K.to_dense(sparse).numpy()
    expected = LABELS * (np.arange(3)[None] < LABEL_LENGTH)
    np.testing.assert_array_equal(dense, expected)
    assert sparse._nnz() == int(LABEL_LENGTH.sum())


def test_ocr_example_lambda_loss_and_symbolic_decode():
    # Keras 2's image_ocr recipe: the CTC loss in a Lambda layer over four inputs, decoding through K.function.
    features = Input(shape=(7, 6))
    y_pred = Dense(5, activation="softmax")(features)
    labels, input_length, label_length = Input(shape=(3,)), Input(shape=(1,)), Input(shape=(1,))
    loss = Lambda(lambda args: K.ctc_batch_cost(*args), output_shape=(1,))(
        [labels, y_pred, input_length, label_length])
    model = Model([features, labels, input_length, label_length], loss)
    x = RNG.normal(size=(3, 7, 6)).astype("float32")
    got = model.predict([x, LABELS.astype("float32"), INPUT_LENGTH.astype("float32"),
                         LABEL_LENGTH.astype("float32")])
    probs = Model(features, y_pred).predict(x)
    np.testing.assert_allclose(got, K.ctc_batch_cost(LABELS, probs, INPUT_LENGTH, LABEL_LENGTH).numpy(), rtol=1e-4)
    decoded, log_prob = K.ctc_decode(y_pred, K.ones_like(K.sum(y_pred, axis=(1, 2))) * 7)
    decode = K.function([features], [decoded[0], log_prob])
    got_decoded, got_log_prob = decode([x])
    ref_decoded, ref_log_prob = K.ctc_decode(probs, np.full(3, 7))
    np.testing.assert_array_equal(got_decoded, ref_decoded[0].numpy())
    np.testing.assert_allclose(got_log_prob, ref_log_prob.numpy(), rtol=1e-5)


@pytest.mark.parametrize("call,match", [
    (lambda: K.ctc_batch_cost(LABELS, Y_PRED[0], INPUT_LENGTH, LABEL_LENGTH), r"ctc_batch_cost: `y_pred` must be 3-D"),
    (lambda: K.ctc_batch_cost(LABELS, Y_PRED, INPUT_LENGTH[:2], LABEL_LENGTH), r"`input_length` must hold one length"),
    (lambda: K.ctc_batch_cost(LABELS, Y_PRED, INPUT_LENGTH + 5, LABEL_LENGTH), r"`input_length` must be in \[0, 7\]"),
    (lambda: K.ctc_batch_cost(LABELS, Y_PRED, INPUT_LENGTH, LABEL_LENGTH + 1), r"`label_length` must be in \[0, 3\]"),
    (lambda: K.ctc_batch_cost(LABELS[0], Y_PRED, INPUT_LENGTH, LABEL_LENGTH), r"`y_true` must be 2-D"),
    (lambda: K.ctc_decode(Y_PRED, INPUT_LENGTH[:, 0], greedy=False, beam_width=0), r"`beam_width`.*0"),
    (lambda: K.ctc_decode(Y_PRED, INPUT_LENGTH[:, 0], greedy=False, beam_width=2, top_paths=3),
     r"`top_paths` \(3\) cannot exceed `beam_width` \(2\)"),
    (lambda: K.ctc_label_dense_to_sparse(LABELS[0], [1]), r"ctc_label_dense_to_sparse: `labels` must be 2-D"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
