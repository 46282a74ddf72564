"""K.rnn, K.map_fn, K.foldl and K.foldr (Keras 2's loops) against numpy references, and the
small Keras 2 backend helpers (get_uid, print_tensor, to_dense ...)."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.layers import Input

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.normal(size=shape).astype("float32")


def close(tensor, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(tensor.detach() if isinstance(tensor, torch.Tensor) else tensor),
                               np.asarray(expected), rtol=tol, atol=tol)


W_IN, W_H = rand(3, 4), rand(4, 4)


def step(x, states):
    h = torch.tanh(x @ torch.tensor(W_IN) + states[0] @ torch.tensor(W_H))
    return h, [h]


def numpy_rnn(x, h0, mask=None, backwards=False):
    h, prev_out, outs = h0, np.zeros_like(h0), []
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in steps:
        new = np.tanh(x[:, t] @ W_IN + h @ W_H)
        if mask is not None:
            keep = mask[:, t][:, None]
            new_out = np.where(keep, new, prev_out)
            h = np.where(keep, new, h)
        else:
            new_out = h = new
        prev_out = new_out
        outs.append(new_out)
    return outs[-1], np.stack(outs, axis=1), h


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_matches_numpy(backwards, masked):
    x, h0 = rand(3, 5, 3), rand(3, 4)
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], bool) if masked else None
    last, outputs, states = K.rnn(step, torch.tensor(x), [torch.tensor(h0)], go_backwards=backwards,
                                  mask=None if mask is None else torch.tensor(mask))
    ref_last, ref_outputs, ref_h = numpy_rnn(x, h0, mask, backwards)
    close(last, ref_last)
    close(outputs, ref_outputs)
    assert len(states) == 1
    close(states[0], ref_h)


def test_rnn_passes_constants_and_keeps_gradients():
    x = torch.tensor(rand(2, 4, 3), requires_grad=True)
    c = torch.tensor(rand(2, 3))

    def step_with_constant(inp, states):
        state, constant = states
        new = state + inp * constant
        return new, [new]

    last, outputs, (state,) = K.rnn(step_with_constant, x, [torch.zeros(2, 3)], constants=[c], unroll=True,
                                    input_length=4)
    close(last, (x.detach() * c[:, None]).sum(1))
    (grad,) = torch.autograd.grad(last.sum(), x)
    close(grad, c[:, None].expand(2, 4, 3))


def test_rnn_mask_of_shape_samples_time_1():
    x, h0 = rand(2, 3, 3), rand(2, 4)
    mask = np.array([[1, 0, 1], [1, 1, 0]], bool)
    a = K.rnn(step, torch.tensor(x), [torch.tensor(h0)], mask=torch.tensor(mask))[1]
    b = K.rnn(step, torch.tensor(x), [torch.tensor(h0)], mask=torch.tensor(mask[:, :, None]))[1]
    close(a, b)


def test_rnn_on_symbolic_tensors_runs_in_the_graph():
    inp = Input(shape=(5, 3))
    h0 = K.zeros_like(K.sum(inp, axis=1)[:, :1]) * K.zeros((1, 4))
    last, outputs, states = K.rnn(step, inp, [h0])
    assert K.int_shape(outputs) == (None, 5, 4) and K.int_shape(last) == (None, 4) and len(states) == 1
    f = K.function([inp], [last, outputs, states[0]])
    x = rand(2, 5, 3)
    ref_last, ref_outputs, ref_h = numpy_rnn(x, np.zeros((2, 4), "float32"))
    for value, ref in zip(f([x]), (ref_last, ref_outputs, ref_h)):
        close(value, ref)


def test_map_fn_foldl_foldr():
    x = rand(4, 3)
    close(K.map_fn(lambda row: row * 2, torch.tensor(x)), x * 2)
    close(K.foldl(lambda acc, row: acc + row, torch.tensor(x)), x.sum(0))
    close(K.foldl(lambda acc, row: acc * 2 + row, torch.tensor(x), initializer=torch.zeros(3)),
          ((x[0] * 2 + x[1]) * 2 + x[2]) * 2 + x[3])
    close(K.foldr(lambda acc, row: acc * 2 + row, torch.tensor(x), initializer=torch.zeros(3)),
          ((x[3] * 2 + x[2]) * 2 + x[1]) * 2 + x[0])
    assert K.map_fn(lambda row: row.sum(), torch.tensor(x), dtype="float64").dtype == torch.float64


def test_map_fn_on_symbolic_tensor_runs_in_the_graph():
    inp = Input(shape=(3,))
    out = K.map_fn(lambda row: row * 3, inp)
    x = rand(2, 3)
    close(K.function([inp], [out])([x])[0], x * 3)


def test_get_uid_counts_per_prefix_and_resets():
    K.reset_uids()
    assert [K.get_uid("a"), K.get_uid("a"), K.get_uid("b"), K.get_uid()] == [1, 2, 1, 1]
    K.reset_uids()
    assert K.get_uid("a") == 1


def test_print_tensor_prints_and_returns(capsys):
    x = torch.tensor([1.0, 2.0])
    assert K.print_tensor(x, message="x = ") is x
    assert "x = [1. 2.]" in capsys.readouterr().out


def test_print_tensor_on_a_symbolic_tensor_prints_when_the_graph_runs(capsys):
    inp = Input(shape=(2,))
    out = K.print_tensor(K.identity(inp) * 2, message="doubled: ")
    assert capsys.readouterr().out == ""
    K.function([inp], [out])([np.array([[1.0, 3.0]], "float32")])
    assert "doubled: [[2. 6.]]" in capsys.readouterr().out


def test_sparse_helpers_and_variable_shape():
    dense = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    sparse = dense.to_sparse()
    assert K.is_sparse(sparse) and not K.is_sparse(dense)
    close(K.to_dense(sparse), dense)
    assert K.get_variable_shape(K.variable(np.zeros((2, 3)))) == (2, 3)
    K.manual_variable_initialization(True)   # accepted, nothing to do


@pytest.mark.parametrize("call,match", [
    (lambda: K.rnn(step, torch.zeros(2, 3), [torch.zeros(2, 4)]), r"rnn: `inputs` must be at least 3-D"),
    (lambda: K.rnn("step", torch.zeros(2, 3, 3), [torch.zeros(2, 4)]), r"rnn: `step_function` must be callable"),
    (lambda: K.rnn(step, torch.zeros(2, 3, 3), [torch.zeros(2, 4)], mask=torch.ones(2, 4)), r"rnn: `mask`.*\(2, 3\)"),
    (lambda: K.rnn(lambda x, s: (x, []), torch.zeros(2, 3, 3), [torch.zeros(2, 4)]), r"returned 0 states for the 1"),
    (lambda: K.foldl(lambda a, b: a + b, torch.zeros(0, 3)), r"foldl: `elems` is empty"),
    (lambda: K.map_fn(lambda a: a, torch.tensor(1.0)), r"map_fn: `elems` must have a first axis"),
    (lambda: K.manual_variable_initialization("yes"), r"manual_variable_initialization: `value`.*'yes'"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
