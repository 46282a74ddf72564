"""Symbolic tensors keep unknown sizes unknown (Keras 2: ``Input((None, 4))`` through a Conv1D is
``(None, None, filters)``), and a window wider than the shape probe still builds."""
import pytest
import torch

from kerosene import layers as L
from kerosene.models import Model, Sequential

SEQ = (None, 4)


@pytest.mark.parametrize("make, expected", [
    (lambda: L.Conv1D(3, 5, padding="same"), (None, None, 3)),
    (lambda: L.Conv1D(3, 5), (None, None, 3)),                    # wider than the probe of 2
    (lambda: L.Conv1D(3, 2, strides=4), (None, None, 3)),
    (lambda: L.MaxPooling1D(2), (None, None, 4)),
    (lambda: L.LSTM(3, return_sequences=True), (None, None, 3)),
    (lambda: L.LSTM(3), (None, 3)),
    (lambda: L.GlobalMaxPooling1D(), (None, 4)),
    (lambda: L.Dense(2), (None, None, 2)),
    (lambda: L.TimeDistributed(L.Dense(2)), (None, None, 2)),
])
def test_unknown_steps_stay_unknown(make, expected):
    assert make()(L.Input(SEQ)).shape == expected


def test_embedding_of_any_length_and_images_of_any_size():
    assert L.Embedding(10, 4)(L.Input((None,), dtype="int32")).shape == (None, None, 4)
    image = L.Input((None, None, 3))
    assert L.Conv2D(4, 3, strides=2)(image).shape == (None, None, None, 4)
    assert L.GlobalAveragePooling2D()(image).shape == (None, 3)


def test_known_sizes_are_computed_as_before():
    assert L.Conv1D(3, 5)(L.Input((6, 4))).shape == (None, 2, 3)
    assert L.Conv2D(2, 3, padding="same")(L.Input((7, 5, 1))).shape == (None, 7, 5, 2)


def test_a_model_over_unknown_lengths_reports_them_and_runs_at_any_length():
    inputs = L.Input((None,), dtype="int32")
    hidden = L.Conv1D(6, 5, padding="same", activation="relu")(L.Embedding(20, 8)(inputs))
    model = Model(inputs, L.Dense(1)(L.LSTM(4, return_sequences=True)(hidden)))
    assert model.output_shape == (None, None, 1)
    for length in (3, 11):
        assert model.predict(torch.randint(1, 20, (2, length)).numpy()).shape == (2, length, 1)
    sequential = Sequential([L.Embedding(20, 8), L.Conv1D(4, 3)])
    sequential.build((None, None))
    assert sequential.output_shape == (None, None, 4)
