"""ZeroPadding1D/2D/3D, UpSampling1D/2D/3D and Cropping1D/2D/3D: numpy references in both data
formats, Keras 3 as oracle, output shapes with unknown sizes, Keras 2.2.4 configs, a Sequential
fit and .h5 round trip, bad arguments; and the 1-D poolings' Keras 2 default data_format."""
import doctest
import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene import layers as L
from kerosene.layers import convolutional
from kerosene.models import Sequential, load_model

keras = pytest.importorskip("keras")

FORMATS = ["channels_last", "channels_first"]


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def run(layer, x):
    return layer(torch.as_tensor(x)).detach().numpy()


def spatial(rank, data_format):
    """The spatial axes of a batch-first input of ``rank`` spatial axes."""
    first = 1 if data_format == "channels_last" else 2
    return list(range(first, first + rank))


def keras3(cls_name, x, **kwargs):
    return keras.ops.convert_to_numpy(getattr(keras.layers, cls_name)(**kwargs)(x))


# --------------------------------------------------------------------- numpy references

def np_pad(x, pairs, axes):
    widths = [(0, 0)] * x.ndim
    for axis, pair in zip(axes, pairs):
        widths[axis] = pair
    return np.pad(x, widths)


def np_crop(x, pairs, axes):
    index = [slice(None)] * x.ndim
    for axis, (start, end) in zip(axes, pairs):
        index[axis] = slice(start, x.shape[axis] - end)
    return x[tuple(index)]


def np_repeat(x, sizes, axes):
    for axis, size in zip(axes, sizes):
        x = np.repeat(x, size, axis=axis)
    return x


def np_bilinear(x, sizes, axes):
    """Bilinear resize by whole factors with pixel centres aligned (half-pixel mapping),
    one axis at a time: output i reads input (i + 0.5) / factor - 0.5, clamped."""
    for axis, factor in zip(axes, sizes):
        n = x.shape[axis]
        src = np.clip((np.arange(n * factor) + 0.5) / factor - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
        x = np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac
    return x


PAD_CASES = [
    (L.ZeroPadding1D, 1, dict(), 2, ((2, 2),)),
    (L.ZeroPadding1D, 1, dict(), (1, 3), ((1, 3),)),
    (L.ZeroPadding1D, 1, dict(), [0, 2], ((0, 2),)),
    (L.ZeroPadding2D, 2, dict(), 1, ((1, 1), (1, 1))),
    (L.ZeroPadding2D, 2, dict(), (2, 0), ((2, 2), (0, 0))),
    (L.ZeroPadding2D, 2, dict(), ((1, 2), (3, 0)), ((1, 2), (3, 0))),
    (L.ZeroPadding2D, 2, dict(), (1, (0, 2)), ((1, 1), (0, 2))),
    (L.ZeroPadding3D, 3, dict(), 1, ((1, 1),) * 3),
    (L.ZeroPadding3D, 3, dict(), (1, 0, 2), ((1, 1), (0, 0), (2, 2))),
    (L.ZeroPadding3D, 3, dict(), ((1, 2), (0, 1), (2, 0)), ((1, 2), (0, 1), (2, 0))),
]


def _input(rank, data_format, seed=0):
    sizes = (5, 4, 3)[:rank]
    if data_format == "channels_last":
        return rand(2, *sizes, 3, seed=seed)
    return rand(2, 3, *sizes, seed=seed)


def _formats(rank):
    return FORMATS if rank > 1 else ["channels_last"]


@pytest.mark.parametrize("cls,rank,kwargs,padding,pairs", PAD_CASES)
def test_zero_padding_matches_numpy(cls, rank, kwargs, padding, pairs):
    for data_format in _formats(rank):
        fmt = {"data_format": data_format} if rank > 1 else {}
        layer = cls(padding, **fmt)
        x = _input(rank, data_format)
        want = np_pad(x, pairs, spatial(rank, data_format))
        got = run(layer, x)
        np.testing.assert_array_equal(got, want)
        assert layer.padding == pairs
        assert layer.compute_output_shape(x.shape) == want.shape


CROP_CASES = [
    (L.Cropping1D, 1, 1, ((1, 1),)),
    (L.Cropping1D, 1, (0, 3), ((0, 3),)),
    (L.Cropping2D, 2, 1, ((1, 1), (1, 1))),
    (L.Cropping2D, 2, (2, 0), ((2, 2), (0, 0))),
    (L.Cropping2D, 2, ((1, 2), (0, 3)), ((1, 2), (0, 3))),
    (L.Cropping2D, 2, ((0, 0), (0, 0)), ((0, 0), (0, 0))),
    (L.Cropping3D, 3, 1, ((1, 1),) * 3),
    (L.Cropping3D, 3, ((1, 2), (0, 1), (1, 0)), ((1, 2), (0, 1), (1, 0))),
]


@pytest.mark.parametrize("cls,rank,cropping,pairs", CROP_CASES)
def test_cropping_matches_numpy(cls, rank, cropping, pairs):
    for data_format in _formats(rank):
        fmt = {"data_format": data_format} if rank > 1 else {}
        layer = cls(cropping, **fmt)
        x = _input(rank, data_format)
        want = np_crop(x, pairs, spatial(rank, data_format))
        got = run(layer, x)
        np.testing.assert_array_equal(got, want)
        assert layer.cropping == pairs
        assert layer.compute_output_shape(x.shape) == want.shape


def test_cropping_everything_gives_an_empty_axis():
    # Keras 2.2.4's test_cropping_1d crops (2, 2) from 4 steps: an axis of size 0.
    out = L.Cropping1D((2, 2))(torch.zeros(2, 4, 3))
    assert tuple(out.shape) == (2, 0, 3)
    assert L.Cropping1D((2, 2)).compute_output_shape((2, 4, 3)) == (2, 0, 3)


UP_CASES = [
    (L.UpSampling1D, 1, 2, (2,)),
    (L.UpSampling1D, 1, 3, (3,)),
    (L.UpSampling2D, 2, 2, (2, 2)),
    (L.UpSampling2D, 2, (2, 3), (2, 3)),
    (L.UpSampling2D, 2, (1, 2), (1, 2)),
    (L.UpSampling3D, 3, 2, (2, 2, 2)),
    (L.UpSampling3D, 3, (3, 1, 2), (3, 1, 2)),
]


@pytest.mark.parametrize("cls,rank,size,sizes", UP_CASES)
def test_upsampling_nearest_matches_numpy(cls, rank, size, sizes):
    for data_format in _formats(rank):
        fmt = {"data_format": data_format} if rank > 1 else {}
        layer = cls(size, **fmt)
        x = _input(rank, data_format)
        want = np_repeat(x, sizes, spatial(rank, data_format))
        got = run(layer, x)
        np.testing.assert_array_equal(got, want)
        assert layer.size == sizes
        assert layer.compute_output_shape(x.shape) == want.shape


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("size", [(2, 2), (2, 3), (1, 4)])
def test_upsampling2d_bilinear_matches_numpy_and_keras3(data_format, size):
    x = _input(2, data_format)
    layer = L.UpSampling2D(size, data_format=data_format, interpolation="bilinear")
    got = run(layer, x)
    np.testing.assert_allclose(got, np_bilinear(x, size, spatial(2, data_format)), atol=1e-5)
    want = keras3("UpSampling2D", x, size=size, data_format=data_format,
                  interpolation="bilinear")
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert layer.compute_output_shape(x.shape) == got.shape


@pytest.mark.parametrize("data_format", FORMATS)
def test_every_layer_matches_keras3(data_format):
    cases = [("ZeroPadding2D", dict(padding=((1, 2), (0, 3)))),
             ("ZeroPadding3D", dict(padding=(1, 0, 2))),
             ("Cropping2D", dict(cropping=((1, 0), (2, 1)))),
             ("Cropping3D", dict(cropping=((0, 1), (1, 1), (1, 0)))),
             ("UpSampling2D", dict(size=(2, 3))),
             ("UpSampling3D", dict(size=(1, 2, 3)))]
    for name, kwargs in cases:
        rank = int(name[-2])
        x = _input(rank, data_format, seed=rank)
        ours = run(getattr(L, name)(data_format=data_format, **kwargs), x)
        np.testing.assert_array_equal(ours, keras3(name, x, data_format=data_format, **kwargs))
    x = _input(1, "channels_last")
    for name, kwargs in [("ZeroPadding1D", dict(padding=(2, 1))), ("Cropping1D", dict(cropping=(1, 2))),
                         ("UpSampling1D", dict(size=3))]:
        np.testing.assert_array_equal(run(getattr(L, name)(**kwargs), x), keras3(name, x, **kwargs))


@pytest.mark.parametrize("layer", [L.ZeroPadding2D(1), L.Cropping2D(1), L.UpSampling2D(2)])
def test_integer_inputs_keep_their_dtype(layer):
    x = torch.arange(2 * 4 * 4 * 3).reshape(2, 4, 4, 3)
    assert layer(x).dtype == torch.int64


def test_gradients_flow_back_to_the_input():
    x = torch.as_tensor(rand(1, 4, 4, 2)).requires_grad_()
    L.UpSampling2D((2, 3))(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 4, 4, 2), 6.0))
    x.grad = None
    L.Cropping2D(((1, 0), (0, 2)))(x).sum().backward()
    mask = np.zeros((1, 4, 4, 2))
    mask[:, 1:, :2] = 1
    np.testing.assert_array_equal(x.grad.numpy(), mask)
    x.grad = None
    L.ZeroPadding2D(2)(x).square().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


# ------------------------------------------------------------------------------ shapes

@pytest.mark.parametrize("layer,shape,want", [
    (L.ZeroPadding1D((1, 2)), (None, None, 3), (None, None, 3)),
    (L.ZeroPadding1D((1, 2)), (None, 5, 3), (None, 8, 3)),
    (L.ZeroPadding2D(((1, 2), (3, 4))), (None, None, 6, 3), (None, None, 13, 3)),
    (L.ZeroPadding2D(1, data_format="channels_first"), (4, 3, 5, None), (4, 3, 7, None)),
    (L.ZeroPadding3D(1), (None, 2, None, 4, 1), (None, 4, None, 6, 1)),
    (L.Cropping1D((1, 2)), (None, None, 3), (None, None, 3)),
    (L.Cropping2D(((1, 2), (0, 1))), (None, 5, None, 3), (None, 2, None, 3)),
    (L.Cropping3D(1, data_format="channels_first"), (2, 1, None, 5, 4), (2, 1, None, 3, 2)),
    (L.UpSampling1D(3), (None, None, 2), (None, None, 2)),
    (L.UpSampling1D(3), (None, 4, 2), (None, 12, 2)),
    (L.UpSampling2D((2, 3), data_format="channels_first"), (None, 3, None, 5), (None, 3, None, 15)),
    (L.UpSampling3D((1, 2, 3)), (None, 2, 3, None, 1), (None, 2, 6, None, 1)),
])
def test_compute_output_shape_keeps_unknown_sizes(layer, shape, want):
    assert layer.compute_output_shape(shape) == want


@pytest.mark.parametrize("make", [lambda: L.ZeroPadding2D(((1, 0), (2, 1))),
                                  lambda: L.Cropping2D(((1, 0), (0, 1))),
                                  lambda: L.UpSampling2D((2, 1)),
                                  lambda: L.UpSampling2D(interpolation="bilinear")])
def test_symbolic_input_of_unknown_size_runs_at_any_size(make):
    layer = make()
    inputs = L.Input(shape=(None, None, 2))
    model = keras_model(inputs, layer(inputs))
    for rows, cols in [(4, 5), (7, 3)]:
        x = rand(2, rows, cols, 2)
        out = model.predict(x)
        assert out.shape == layer.compute_output_shape(x.shape)
        np.testing.assert_allclose(out, run(layer, x), rtol=1e-6)


def keras_model(inputs, outputs):
    from kerosene.models import Model
    return Model(inputs, outputs)


# ------------------------------------------------------------------ configs and files

@pytest.mark.parametrize("layer,keys", [
    (L.ZeroPadding1D(), {"padding": (1, 1)}),
    (L.ZeroPadding2D(), {"padding": ((1, 1), (1, 1)), "data_format": "channels_last"}),
    (L.ZeroPadding3D(), {"padding": ((1, 1),) * 3, "data_format": "channels_last"}),
    (L.Cropping1D(), {"cropping": (1, 1)}),
    (L.Cropping2D(), {"cropping": ((0, 0), (0, 0)), "data_format": "channels_last"}),
    (L.Cropping3D(), {"cropping": ((1, 1),) * 3, "data_format": "channels_last"}),
    (L.UpSampling1D(), {"size": 2}),
    (L.UpSampling2D(), {"size": (2, 2), "data_format": "channels_last", "interpolation": "nearest"}),
    (L.UpSampling3D(), {"size": (2, 2, 2), "data_format": "channels_last"}),
])
def test_keras2_defaults_and_config_keys(layer, keys):
    config = layer.get_config()
    assert {k: v for k, v in config.items() if k not in ("name", "trainable", "dtype")} == keys
    rebuilt = type(layer).from_config(config)
    assert rebuilt.get_config() == config


def test_data_format_none_follows_image_data_format():
    K.set_image_data_format("channels_first")
    try:
        for layer in (L.ZeroPadding2D(), L.Cropping3D(), L.UpSampling2D(), L.UpSampling3D()):
            assert layer.data_format == "channels_first"
        assert L.ZeroPadding2D(1)(torch.zeros(1, 3, 4, 4)).shape == (1, 3, 6, 6)
    finally:
        K.set_image_data_format("channels_last")


@pytest.mark.parametrize("name,config,x_shape", [
    ("ZeroPadding2D", {"padding": [[1, 2], [0, 1]], "data_format": "channels_first"}, (1, 2, 3, 3)),
    ("Cropping3D", {"cropping": [[1, 0], [0, 1], [1, 1]], "data_format": "channels_last"},
     (1, 3, 3, 3, 1)),
    ("UpSampling2D", {"size": [2, 1], "data_format": "channels_last"}, (1, 2, 2, 1)),
    ("ZeroPadding1D", {"padding": [1, 0]}, (1, 2, 1)),
])
def test_configs_as_keras2_json_holds_them_load(name, config, x_shape):
    # A Keras 2 .h5 file's JSON turns tuples into lists (and older files lack interpolation).
    layer = L.deserialize({"class_name": name, "config": dict(config, name="x", trainable=True)})
    assert isinstance(layer, getattr(L, name))
    out = layer(torch.zeros(x_shape))
    assert tuple(out.shape) == layer.compute_output_shape(x_shape)


@pytest.mark.parametrize("data_format", FORMATS)
def test_sequential_fit_and_h5_round_trip(tmp_path, data_format):
    fmt = dict(data_format=data_format)
    shape = (6, 6, 2) if data_format == "channels_last" else (2, 6, 6)
    model = Sequential([
        L.ZeroPadding2D(((1, 0), (0, 1)), input_shape=shape, **fmt),
        L.Conv2D(3, 3, **fmt),
        L.UpSampling2D((2, 1), interpolation="bilinear", **fmt),
        L.Cropping2D(((1, 1), (0, 1)), **fmt),
        L.UpSampling2D(**fmt),
        L.Flatten(),
        L.Dense(1),
    ])
    assert model.output_shape == (None, 1)
    x, y = rand(8, *shape), rand(8, 1, seed=1)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    path = str(tmp_path / "m.h5")
    model.save(path)
    restored = load_model(path)
    for ours, theirs in zip(model.layers, restored.layers):
        assert type(ours) is type(theirs) and ours.get_config() == theirs.get_config()
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)


def test_sequential_1d_and_3d_h5_round_trip(tmp_path):
    for model, x in [
        (Sequential([L.ZeroPadding1D((2, 1), input_shape=(5, 2)), L.Conv1D(2, 3),
                     L.UpSampling1D(3), L.Cropping1D((1, 2)), L.Flatten(), L.Dense(1)]),
         rand(4, 5, 2)),
        (Sequential([L.ZeroPadding3D(1, input_shape=(2, 3, 4, 1)), L.Conv3D(2, 2),
                     L.UpSampling3D((1, 2, 1)), L.Cropping3D(((0, 1), (1, 0), (1, 1))),
                     L.Flatten(), L.Dense(1)]),
         rand(4, 2, 3, 4, 1)),
    ]:
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, rand(4, 1), epochs=1, verbose=0)
        path = str(tmp_path / "m.h5")
        model.save(path)
        restored = load_model(path)
        assert [l.get_config() for l in restored.layers] == [l.get_config() for l in model.layers]
        np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)


def test_keras3_archive_loads_both_ways(tmp_path):
    theirs = keras.Sequential([
        keras.Input((6, 2)), keras.layers.ZeroPadding1D((1, 2)), keras.layers.Cropping1D((0, 1)),
        keras.layers.UpSampling1D(2), keras.layers.Reshape((16, 2, 1)),
        keras.layers.UpSampling2D((1, 2), interpolation="bilinear"), keras.layers.ZeroPadding2D(1),
        keras.layers.Cropping2D(((1, 0), (0, 1))), keras.layers.Reshape((17, 5, 1, 1)),
        keras.layers.UpSampling3D((1, 1, 2)), keras.layers.ZeroPadding3D(1), keras.layers.Cropping3D(1),
        keras.layers.Flatten(), keras.layers.Dense(1)])
    theirs.save(str(tmp_path / "k3.keras"))
    x = rand(2, 6, 2)
    want = theirs.predict(x, verbose=0)
    ours = load_model(str(tmp_path / "k3.keras"))
    np.testing.assert_allclose(ours.predict(x), want, rtol=1e-5, atol=1e-6)
    ours.save(str(tmp_path / "back.keras"))
    back = keras.saving.load_model(str(tmp_path / "back.keras"))
    np.testing.assert_allclose(back.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_keras3_channels_first_zero_padding1d_is_refused_by_name(tmp_path):
    keras.Sequential([keras.Input((2, 6)), keras.layers.ZeroPadding1D(1, data_format="channels_first")]).save(
        str(tmp_path / "cf.keras"))
    with pytest.raises(ValueError, match="'data_format'='channels_first' is not supported"):
        load_model(str(tmp_path / "cf.keras"))


def test_keras2_module_path_exports_them():
    from kerosene.layers import pooling
    names = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D",
             "UpSampling3D", "Cropping1D", "Cropping2D", "Cropping3D"]
    for name in names:
        assert getattr(convolutional, name) is getattr(L, name)
    for name in pooling.__all__:
        assert getattr(convolutional, name) is getattr(pooling, name) is getattr(L, name)


def test_docstring_examples_run():
    for name in ("zero_padding", "cropping", "upsampling"):
        result = doctest.testmod(importlib.import_module(f"kerosene.layers.{name}"))
        assert result.attempted > 0 and result.failed == 0, name


# ---------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("make,match", [
    (lambda: L.ZeroPadding1D((1, 2, 3)), r"'padding' must be an int or a tuple of 2 ints"),
    (lambda: L.ZeroPadding1D(-1), r"'padding'.*>= 0.*-1"),
    (lambda: L.ZeroPadding1D(1.5), r"'padding'.*1\.5"),
    (lambda: L.ZeroPadding2D((1, 2, 3)), r"'padding' must be an int, a tuple of 2 ints"),
    (lambda: L.ZeroPadding2D(((1, 2),)), r"'padding'.*\(\(1, 2\),\)"),
    (lambda: L.ZeroPadding2D(((1, 2), (3, 4, 5))), r"'padding'"),
    (lambda: L.ZeroPadding2D(True), r"'padding'.*True"),
    (lambda: L.ZeroPadding2D("same"), r"'padding'.*'same'"),
    (lambda: L.ZeroPadding3D((1, 1)), r"ZeroPadding3D: argument 'padding'.*tuple of 3"),
    (lambda: L.ZeroPadding3D(((1, 1), (1, -2), (0, 0))), r"'padding'.*>= 0"),
    (lambda: L.Cropping1D("x"), r"Cropping1D: argument 'cropping'"),
    (lambda: L.Cropping2D(((1, 1),)), r"Cropping2D: argument 'cropping'"),
    (lambda: L.Cropping2D(lambda x: x), r"'cropping'.*function"),
    (lambda: L.Cropping3D(((1, 1),)), r"Cropping3D: argument 'cropping'"),
    (lambda: L.Cropping3D(-1), r"'cropping'.*>= 0"),
    (lambda: L.UpSampling1D(0), r"'size' must be a positive integer, got 0"),
    (lambda: L.UpSampling1D(2.5), r"'size'.*2\.5"),
    (lambda: L.UpSampling2D((2, 0)), r"'size' must hold positive integers, got \(2, 0\)"),
    (lambda: L.UpSampling2D((2, 2, 2)), r"'size' must be an int or a tuple of 2 ints"),
    (lambda: L.UpSampling3D((2, 2)), r"'size' must be an int or a tuple of 3 ints"),
    (lambda: L.UpSampling2D(interpolation="bicubic"),
     r"'interpolation': 'bicubic'. Accepted values: 'nearest', 'bilinear'"),
    (lambda: L.ZeroPadding2D(data_format="NHWC"), r"'data_format': 'NHWC'"),
    (lambda: L.Cropping3D(data_format="channels_middle"), r"'data_format'"),
    (lambda: L.UpSampling3D(data_format=1), r"'data_format'"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer,x_shape", [
    (L.ZeroPadding2D(1), (2, 4, 4)),
    (L.ZeroPadding1D(1), (2, 4, 4, 1)),
    (L.Cropping3D(1), (2, 4, 4, 4)),
    (L.UpSampling2D(2), (2, 4, 4, 4, 1)),
    (L.UpSampling1D(2), (4, 3)),
])
def test_input_of_the_wrong_rank(layer, x_shape):
    with pytest.raises(ValueError, match=r"expected ndim=\d, found ndim=\d"):
        layer(torch.zeros(x_shape))
    with pytest.raises(ValueError, match=r"expected ndim=\d, found ndim=\d"):
        layer.compute_output_shape(x_shape)


def test_cropping_more_than_the_axis_holds():
    with pytest.raises(ValueError, match=r"'cropping'.*removes 5 entries from axis 2, which has only 4"):
        L.Cropping2D(((0, 0), (2, 3)))(torch.zeros(1, 6, 4, 1))
    with pytest.raises(ValueError, match=r"removes 3 entries from axis 1, which has only 2"):
        L.Cropping1D((1, 2)).compute_output_shape((None, 2, 3))
    layer = L.Cropping1D((1, 1))
    layer(torch.zeros(1, 5, 1))
    with pytest.raises(ValueError, match=r"which has only 1"):
        layer(torch.zeros(1, 1, 1))   # a later, shorter input


def test_one_dimensional_layers_take_no_data_format():
    for cls in (L.ZeroPadding1D, L.Cropping1D, L.UpSampling1D):
        with pytest.raises(TypeError, match="data_format"):
            cls(data_format="channels_first")


# ------------------------------------------------------------------------ 1-D pooling

@pytest.mark.parametrize("cls", [L.MaxPooling1D, L.AveragePooling1D, L.GlobalMaxPooling1D,
                                 L.GlobalAveragePooling1D])
def test_1d_poolings_default_to_channels_last_as_keras2(cls):
    # Keras 2: data_format='channels_last' for the 1-D poolings, whatever K.image_data_format() says.
    K.set_image_data_format("channels_first")
    try:
        layer = cls()
        assert layer.data_format == "channels_last"
        assert cls(data_format=None).data_format == "channels_first"
        x = rand(2, 6, 3)
        want = {"MaxPooling1D": x.reshape(2, 3, 2, 3).max(2), "AveragePooling1D": x.reshape(2, 3, 2, 3).mean(2),
                "GlobalMaxPooling1D": x.max(1), "GlobalAveragePooling1D": x.mean(1)}[cls.__name__]
        np.testing.assert_allclose(run(layer, x), want, rtol=1e-5, atol=1e-6)
        assert type(layer).from_config(layer.get_config()).data_format == "channels_last"
    finally:
        K.set_image_data_format("channels_last")
