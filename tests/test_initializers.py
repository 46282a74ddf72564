"""kerosene.initializers: Keras semantics, statistics, names and configs."""

import math

import numpy as np
import pytest
import torch

from kerosene import initializers as I
from kerosene import layers as L


def test_uniform_is_keras_random_uniform():
    w = I.get("uniform")((200, 300))
    assert w.shape == (200, 300) and w.dtype == torch.float32
    assert w.min() >= -0.05 and w.max() <= 0.05
    assert abs(w.mean().item()) < 0.002
    assert w.std().item() == pytest.approx(0.1 / math.sqrt(12), rel=0.02)


def test_normal_and_truncated_normal_defaults():
    w = I.get("normal")((300, 300))
    assert w.std().item() == pytest.approx(0.05, rel=0.02)
    t = I.get("truncated_normal")((300, 300))
    assert t.abs().max() <= 0.1 + 1e-6


@pytest.mark.parametrize("name,shape,limit", [
    ("glorot_uniform", (784, 10), math.sqrt(6 / (784 + 10))),
    ("glorot_uniform", (3, 3, 16, 32), math.sqrt(6 / (9 * 16 + 9 * 32))),
    ("he_uniform", (100, 50), math.sqrt(6 / 100)),
    ("lecun_uniform", (5, 40, 20), math.sqrt(3 / (5 * 40))),
])
def test_uniform_variance_scaling_limits_on_keras_shape(name, shape, limit):
    w = I.get(name)(shape)
    assert tuple(w.shape) == shape
    assert w.abs().max().item() <= limit
    assert w.abs().max().item() > 0.95 * limit


@pytest.mark.parametrize("name,fan", [("glorot_normal", (200 + 300) / 2), ("he_normal", 200 / 2),
                                      ("lecun_normal", 200)])
def test_normal_variance_scaling_stddev(name, fan):
    w = I.get(name)((200, 300))
    assert w.std().item() == pytest.approx(math.sqrt(1 / fan), rel=0.03)
    # truncated at two (pre-correction) standard deviations
    assert w.abs().max().item() <= 2 * math.sqrt(1 / fan) / 0.87962566103423978 + 1e-6


def test_variance_scaling_untruncated_and_modes():
    w = I.VarianceScaling(2.0, "fan_out", "untruncated_normal")((100, 400))
    assert w.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.03)
    w = I.VarianceScaling(1.0, "fan_avg", "uniform")((10, 30))
    assert w.abs().max() <= math.sqrt(3 / 20)
    with pytest.raises(ValueError, match="'mode'.*fan_in, fan_out, fan_avg"):
        I.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="'distribution'"):
        I.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="'scale'"):
        I.VarianceScaling(scale=0)


def test_compute_fans():
    assert I.compute_fans((784, 10)) == (784, 10)
    assert I.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans(()) == (1, 1)


def test_constant_zeros_ones_identity_orthogonal():
    assert torch.equal(I.get("zeros")((2, 3)), torch.zeros(2, 3))
    assert torch.equal(I.get("ones")((3,)), torch.ones(3))
    assert torch.equal(I.Constant(0.5)((2,)), torch.tensor([0.5, 0.5]))
    assert torch.equal(I.Identity(2.0)((3, 3)), 2 * torch.eye(3))
    q = I.get("orthogonal")((6, 6))
    torch.testing.assert_close(q @ q.T, torch.eye(6), atol=1e-5, rtol=0)
    wide = I.Orthogonal(gain=2.0)((3, 8))
    torch.testing.assert_close(wide @ wide.T, 4 * torch.eye(3), atol=1e-5, rtol=0)
    conv = I.Orthogonal()((2, 2, 3, 4))
    assert conv.shape == (2, 2, 3, 4)
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((2, 2, 2))


def test_global_rng_reproducible_and_seed_fixed():
    torch.manual_seed(3)
    a = I.get("glorot_uniform")((4, 4))
    torch.manual_seed(3)
    b = I.get("glorot_uniform")((4, 4))
    assert torch.equal(a, b)
    s = I.RandomNormal(seed=7)
    assert torch.equal(s((3,)), s((3,)))
    assert not torch.equal(I.RandomNormal()((3,)), I.RandomNormal()((3,)))


def test_dtype():
    assert I.get("glorot_uniform")((2, 2), dtype=torch.float64).dtype == torch.float64
    assert I.get("zeros")((2,), dtype="float16").dtype == torch.float16


def test_get_accepts_names_classes_instances_dicts_callables():
    assert isinstance(I.get("GlorotUniform"), I.GlorotUniform)
    assert isinstance(I.get("he_normal"), I.HeNormal)
    assert isinstance(I.get(I.Zeros), I.Zeros)
    inst = I.RandomUniform(-1, 1)
    assert I.get(inst) is inst
    assert I.get(None) is None
    fn = lambda shape, dtype=None: torch.full(shape, 3.0)  # noqa: E731
    assert I.get(fn) is fn
    d = I.get({"class_name": "RandomUniform", "config": {"minval": 0, "maxval": 1}})
    assert isinstance(d, I.RandomUniform) and d.maxval == 1


def test_unknown_name_lists_accepted_names():
    with pytest.raises(ValueError) as info:
        I.get("glorot")
    msg = str(info.value)
    for name in ("glorot_uniform", "he_normal", "uniform", "orthogonal", "zeros"):
        assert name in msg


@pytest.mark.parametrize("init", [
    I.Zeros(), I.Ones(), I.Constant(2.0), I.RandomNormal(0.1, 0.2, seed=1),
    I.RandomUniform(-1, 2), I.TruncatedNormal(stddev=0.3), I.VarianceScaling(2.0, "fan_out"),
    I.Orthogonal(1.5), I.Identity(0.5), I.GlorotUniform(seed=4), I.HeNormal(), I.LecunUniform(),
])
def test_serialize_round_trip(init):
    config = I.serialize(init)
    assert config["class_name"] == type(init).__name__
    clone = I.deserialize(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()


def test_layer_initializers_use_keras_shape():
    # Dense stores (out, in) but Glorot must use fan_in=in, fan_out=out.
    d = L.Dense(10, kernel_initializer="he_uniform")
    d(torch.zeros(1, 784))
    assert np.abs(d.get_weights()[0]).max() <= math.sqrt(6 / 784)
    conv = L.Conv2D(32, 3, kernel_initializer=I.VarianceScaling(1.0, "fan_out", "uniform"))
    conv(torch.zeros(1, 5, 5, 16))
    assert np.abs(conv.get_weights()[0]).max() <= math.sqrt(3 / (9 * 32))
    e = L.Embedding(50, 8)
    assert np.abs(e.get_weights()[0]).max() <= 0.05
    rnn = L.SimpleRNN(6)
    rnn(torch.zeros(1, 2, 3))
    rec = rnn.get_weights()[1]
    np.testing.assert_allclose(rec @ rec.T, np.eye(6), atol=1e-5)


@pytest.mark.parametrize("shape", [(4, 4), (2, 6), (6, 2)])
def test_identity_stacks_along_the_long_side_as_keras2(shape):
    w = I.Identity(gain=2.0)(shape).numpy()
    short = min(shape)
    expected = 2.0 * np.tile(np.eye(short), (shape[0] // short, shape[1] // short))
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4), (0, 2)])
def test_identity_refuses_shapes_it_cannot_fill(shape):
    with pytest.raises(ValueError, match="Identity"):
        I.Identity()(shape)


def test_compute_fans_reads_both_kernel_layouts():
    assert I.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert I.compute_fans((32, 16, 3, 3), data_format="channels_first") == (144, 288)
    assert I._compute_fans is I.compute_fans
    with pytest.raises(ValueError, match="data_format"):
        I.compute_fans((3, 3, 1, 1), data_format="nhwc")
