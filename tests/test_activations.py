"""kerosene.activations: Keras names, values, get/serialize."""

import math

import pytest
import torch

from kerosene import activations as A

X = torch.linspace(-4, 4, 17)


@pytest.mark.parametrize("name,ref", [
    ("linear", lambda x: x),
    ("relu", lambda x: x.clamp(min=0)),
    ("relu6", lambda x: x.clamp(0, 6)),
    ("sigmoid", lambda x: 1 / (1 + torch.exp(-x))),
    ("hard_sigmoid", lambda x: (0.2 * x + 0.5).clamp(0, 1)),
    ("tanh", torch.tanh),
    ("softplus", lambda x: torch.log(torch.exp(x) + 1)),
    ("softsign", lambda x: x / (x.abs() + 1)),
    ("elu", lambda x: torch.where(x > 0, x, torch.exp(x) - 1)),
    ("selu", lambda x: 1.0507009873554805 * torch.where(
        x > 0, x, 1.6732632423543772 * (torch.exp(x) - 1))),
    ("exponential", torch.exp),
    ("swish", lambda x: x / (1 + torch.exp(-x))),
    ("silu", lambda x: x / (1 + torch.exp(-x))),
    ("gelu", lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))),
    ("leaky_relu", lambda x: torch.where(x > 0, x, 0.2 * x)),
    ("mish", lambda x: x * torch.tanh(torch.log1p(torch.exp(x)))),
])
def test_values(name, ref):
    torch.testing.assert_close(A.get(name)(X), ref(X), atol=1e-6, rtol=1e-5)


def test_softmax_last_axis():
    x = torch.randn(3, 5)
    y = A.softmax(x)
    torch.testing.assert_close(y.sum(-1), torch.ones(3))
    torch.testing.assert_close(A.softmax(x, axis=0).sum(0), torch.ones(5))


def test_relu_keras2_options():
    x = torch.tensor([-2.0, 0.5, 3.0, 10.0])
    assert A.relu(x, max_value=6.0).tolist() == [0.0, 0.5, 3.0, 6.0]
    assert A.relu(x, alpha=0.5).tolist() == [-1.0, 0.5, 3.0, 10.0]
    assert A.relu(x, threshold=1.0).tolist() == [0.0, 0.0, 3.0, 10.0]


def test_get_none_callable_case():
    assert A.get(None) is A.linear
    assert A.get("ReLU") is A.relu
    f = lambda x: x * 3  # noqa: E731
    assert A.get(f) is f
    assert A.get(torch.tanh) is torch.tanh


def test_unknown_name_lists_accepted():
    with pytest.raises(ValueError) as info:
        A.get("rectifier")
    msg = str(info.value)
    assert "rectifier" in msg
    for name in ("relu", "sigmoid", "softmax", "tanh", "linear"):
        assert name in msg
    with pytest.raises(TypeError):
        A.get(3)


@pytest.mark.parametrize("name", A.accepted_names())
def test_serialize_round_trip(name):
    fn = A.get(name)
    assert A.get(A.serialize(fn)) is fn


def test_serialize_torch_and_user_functions():
    assert A.serialize(torch.relu) == "relu"
    assert A.serialize(None) == "linear"

    def my_act(x):
        return x

    assert A.serialize(my_act) == "my_act"
    assert A.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
