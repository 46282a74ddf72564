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


# --- on symbolic tensors, Keras 2's get() rules ----------------------------------------
def test_activations_record_graph_nodes_on_symbolic_tensors():
    import numpy as np
    from kerosene import backend as K
    x = K.placeholder(ndim=2)
    f = K.function([x], [A.softmax(x), A.tanh(x), A.hard_sigmoid(x), A.relu(x, max_value=0.5)])
    values = np.array([[-1.0, 0.0, 2.0]], dtype="float32")
    soft, tanh, hard, relu = f([values])
    e = np.exp(values - values.max())
    np.testing.assert_allclose(soft, e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(tanh, np.tanh(values), rtol=1e-6)
    np.testing.assert_allclose(hard, np.clip(0.2 * values + 0.5, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(relu, np.clip(values, 0, 0.5), rtol=1e-6)


def test_torch_functions_on_an_input_record_nodes_of_a_model():
    import numpy as np
    from kerosene.layers import Dense, Input
    from kerosene.models import Model
    x = Input(shape=(3,))
    h = torch.tanh(Dense(2, kernel_initializer="ones")(x))
    model = Model(x, [h, torch.relu(x)])
    data = np.array([[1.0, -2.0, 0.5]], dtype="float32")
    out_h, out_relu = model.predict(data)
    np.testing.assert_allclose(out_h, np.tanh(np.full((1, 2), data.sum())), rtol=1e-6)
    np.testing.assert_allclose(out_relu, np.maximum(data, 0))


def test_softmax_refuses_a_1d_tensor_as_keras2_does():
    from kerosene import backend as K
    with pytest.raises(ValueError, match="1-D"):
        A.softmax(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="1-D"):
        A.softmax(K.placeholder(ndim=1))


def test_get_warns_for_a_layer_and_refuses_a_number_with_value_error():
    from kerosene.layers import Dense
    with pytest.warns(UserWarning, match="activation"):
        A.get(Dense(2))
    with pytest.raises(ValueError, match="Could not interpret activation 6"):
        A.get(6)
    assert A.get(torch.nn.ReLU()) is not None      # a plain torch module is a callable, no warning


def _keras2_relu_reference(x, alpha, max_value, threshold):
    """Keras 2.2.4's K.relu written out in numpy terms: keep x above the threshold, clip to
    [0, max_value] when given, subtract the alpha slope below the threshold."""
    positive = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold else x.clamp(min=0)
    if max_value is not None:
        positive = positive.clamp(0, max_value)
    return positive - alpha * (threshold - x).clamp(min=0)


@pytest.mark.parametrize("alpha,max_value,threshold", [
    (0.1, None, 0.0), (0.0, 6.0, 0.0), (0.1, 6.0, 0.0), (0.0, None, 1.0), (0.2, None, 1.0),
    (0.0, 5.0, -1.0), (0.3, 5.0, -1.0), (0.3, None, -1.0), (0.1, 2.0, 0.5)])
def test_relu_options_match_keras_2_and_the_backend_relu(alpha, max_value, threshold):
    from kerosene import backend as K
    x = torch.linspace(-3, 9, 49)
    expected = _keras2_relu_reference(x, alpha, max_value, threshold)
    assert torch.allclose(A.relu(x, alpha, max_value, threshold), expected, atol=1e-6)
    assert torch.allclose(K.relu(x, alpha, max_value, threshold), expected, atol=1e-6)


def test_relu_with_a_negative_threshold_and_a_cap_clips_at_zero_as_keras_does():
    out = A.relu(torch.tensor([-0.5, 2.0, 7.0]), max_value=5.0, threshold=-1.0)
    assert out.tolist() == [0.0, 2.0, 5.0]
