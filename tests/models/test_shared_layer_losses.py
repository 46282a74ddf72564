"""A layer called more than once in a graph adds one activity penalty (and add_loss value) per call,
as Keras 2 counts them, in model.losses and in the loss fit/evaluate minimise."""
import numpy as np
import pytest
import torch

from kerosene import regularizers
from kerosene.layers import Average, Dense, Input, Layer
from kerosene.models import Model

A = np.ones((4, 3), dtype="float32")
B = 2 * np.ones((4, 3), dtype="float32")


def shared_dense():
    return Dense(2, activity_regularizer=regularizers.l1(0.5), kernel_initializer="ones", bias_initializer="zeros")


def test_a_shared_layer_adds_one_activity_penalty_per_call():
    d = shared_dense()
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], Average()([d(a), d(b)]))
    model([torch.from_numpy(A), torch.from_numpy(B)])
    # l1(0.5) of each call's output, summed over the batch as Keras 2's activity regularizer does
    assert [float(v) for v in model.losses] == pytest.approx([0.5 * 4 * 2 * 3, 0.5 * 4 * 2 * 6])
    model([torch.from_numpy(A), torch.from_numpy(B)])     # a second pass replaces, does not add
    assert len(model.losses) == 2


def test_the_evaluated_loss_holds_every_calls_penalty():
    d = shared_dense()
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], Average()([d(a), d(b)]))
    model.compile("sgd", "mse")
    y = np.zeros((4, 2), dtype="float32")
    mse = float(np.mean((model.predict([A, B]) - y) ** 2))
    loss = model.evaluate([A, B], y, batch_size=4, verbose=0)
    assert loss == pytest.approx(mse + 0.5 * 4 * 2 * 3 + 0.5 * 4 * 2 * 6, rel=1e-6)


def test_a_shared_model_pools_the_penalties_of_the_layers_inside():
    d = shared_dense()
    inner_input = Input((3,))
    inner = Model(inner_input, d(inner_input))
    a, b = Input((3,)), Input((3,))
    outer = Model([a, b], Average()([inner(a), inner(b)]))
    outer([torch.from_numpy(A), torch.from_numpy(B)])
    assert sorted(float(v) for v in outer.losses) == pytest.approx([12.0, 24.0])
    d(torch.from_numpy(A))                                 # called alone: its latest call only
    assert [float(v) for v in d._own_losses()] == pytest.approx([12.0])


def test_add_loss_of_a_shared_layer_counts_each_call():
    class Penalised(Layer):
        def call(self, inputs):
            self.add_loss(inputs.abs().mean())
            return inputs

    layer = Penalised()
    a, b = Input((3,)), Input((3,))
    model = Model([a, b], Average()([layer(a), layer(b)]))
    model([torch.from_numpy(A), torch.from_numpy(B)])     # the first pass finds out that the layer adds losses
    model([torch.from_numpy(A), torch.from_numpy(B)])
    assert sorted(float(v) for v in model.losses) == pytest.approx([1.0, 2.0])


def test_a_model_whose_only_loss_is_an_activity_penalty_evaluates_and_trains_with_loss_none():
    inner_input = Input((2,))
    inner = Model(inner_input, Dense(2, kernel_initializer="ones", use_bias=False,
                                     activity_regularizer=lambda t: t.sum())(inner_input))
    outer_input = Input((2,))
    model = Model(outer_input, inner(outer_input))
    model.compile("sgd", loss=None)
    assert model.evaluate(np.ones((1, 2)), verbose=0) == pytest.approx(4.0)   # Keras 2.2.4's own figure
    history = model.fit(np.ones((4, 2)), epochs=2, batch_size=4, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_loss_none_with_nothing_to_minimise_is_still_a_clear_error():
    a = Input((2,))
    model = Model(a, Dense(1)(a))
    model.compile("sgd", loss=None)
    with pytest.raises(ValueError, match=r"compile\(\) was given no loss; pass loss=\.\.\."):
        model.evaluate(np.ones((1, 2)), verbose=0)
