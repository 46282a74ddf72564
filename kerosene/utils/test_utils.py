"""Keras 2's ``keras.utils.test_utils``: synthetic data and a layer's standard checks.

    (x_train, y_train), (x_test, y_test) = get_test_data(
        num_train=200, num_test=50, input_shape=(8,), classification=True, num_classes=3)
    layer_test(Dense, kwargs={'units': 3}, input_shape=(2, 4))
"""
import functools

import numpy as np

from .. import backend as K
from ..layers import Input
from ..models import Model
from .generic_utils import has_arg

__all__ = ["get_test_data", "layer_test", "keras_test"]


def get_test_data(num_train=1000, num_test=500, input_shape=(10,), output_shape=(2,),
                  classification=True, num_classes=2):
    """Random train and test splits drawn from ``np.random`` (seed it for repeatable data).

    With ``classification=True``, ``y`` holds integer labels in ``[0, num_classes)`` of shape
    ``(n,)`` (``output_shape`` is ignored) and each sample is Gaussian noise around its label.
    Otherwise ``x`` and ``y`` (of shape ``output_shape``) are noise around a shared random
    location per sample, so ``y`` is learnable from ``x``.
    """
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"get_test_data: `{name}` must be an int >= 0, got {value!r}")
    n = num_train + num_test
    input_shape, output_shape = tuple(input_shape), tuple(output_shape)
    if classification:
        y = np.random.randint(0, num_classes, size=(n,))
        x = np.random.normal(loc=y.reshape((n,) + (1,) * len(input_shape)), scale=0.7,
                             size=(n,) + input_shape).astype(np.float32)
    else:
        # Keras 2 draws each sample's x then its y: the same numbers for the same np.random seed
        centre = np.random.random((n,))
        in_size, out_size = int(np.prod(input_shape)), int(np.prod(output_shape))
        noise = centre[:, None] + 0.7 * np.random.standard_normal((n, in_size + out_size))
        x = noise[:, :in_size].reshape((n,) + input_shape).astype(np.float32)
        y = noise[:, in_size:].reshape((n,) + output_shape).astype(np.float32)
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])


def _sample_input(input_shape, input_dtype):
    shape = [np.random.randint(1, 4) if d is None else d for d in input_shape]
    return (10 * np.random.random(shape)).astype(input_dtype)


def layer_test(layer_cls, kwargs=None, input_shape=None, input_dtype=None, input_data=None,
               expected_output=None, expected_output_dtype=None, fixed_batch_size=False):
    """Keras 2's standard checks of a layer with one input and one output; returns its output
    on ``input_data`` (random data of ``input_shape``, ``None`` sizes drawn in 1..3, when not
    given). Checked: weights out and back in (and through a ``weights=`` argument when the
    layer takes one), the output's shape against ``compute_output_shape`` and its dtype, the
    output against ``expected_output`` (rtol 1e-3), a functional model rebuilt from its config
    predicting the same with the same weights, a training step when ``call`` takes
    ``training``, and the layer rebuilt from its config.

        >>> from kerosene.layers import Dense
        >>> layer_test(Dense, kwargs={'units': 3}, input_shape=(2, 4)).shape
        (2, 3)
    """
    kwargs = dict(kwargs or {})
    if input_data is None:
        if not input_shape:
            raise ValueError("layer_test: give `input_shape` (batch first, None for any size) or `input_data`")
        input_dtype = input_dtype or K.floatx()
        input_data = _sample_input(input_shape, input_dtype)
    else:
        input_shape = input_data.shape if input_shape is None else input_shape
        input_dtype = input_data.dtype if input_dtype is None else input_dtype
    input_dtype = str(np.dtype(input_dtype))
    expected_output_dtype = str(np.dtype(expected_output_dtype or input_dtype))

    layer = layer_cls(**kwargs)
    weights = layer.get_weights()
    layer.set_weights(weights)
    if len(weights) and has_arg(layer_cls.__init__, "weights"):
        layer = layer_cls(**dict(kwargs, weights=weights))
    expected_shape = layer.compute_output_shape(tuple(input_shape))

    if fixed_batch_size:
        x = Input(batch_shape=tuple(input_shape), dtype=input_dtype)
    else:
        x = Input(shape=tuple(input_shape[1:]), dtype=input_dtype)
    y = layer(x)
    if K.dtype(y) != expected_output_dtype:
        raise AssertionError(f"layer_test: output dtype {K.dtype(y)}, expected {expected_output_dtype}")
    model = Model(x, y)
    output = model.predict(input_data)
    for expected, actual in zip(expected_shape, output.shape):
        if expected is not None and expected != actual:
            raise AssertionError(f"layer_test: output shape {output.shape}, compute_output_shape says "
                                 f"{expected_shape}")
    if expected_output is not None:
        np.testing.assert_allclose(output, expected_output, rtol=1e-3)
    rebuilt = model.__class__.from_config(model.get_config())
    if model.weights:
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_allclose(rebuilt.predict(input_data), output, rtol=1e-3)
    if has_arg(layer.call, "training"):
        model.compile("rmsprop", "mse")
        model.train_on_batch(input_data, output)
    config = dict(layer.get_config(), batch_input_shape=tuple(input_shape))
    layer.__class__.from_config(config)
    return output


def keras_test(func):
    """Keras 2's test decorator: runs ``func``, then ``K.clear_session()`` (fresh layer names,
    the learning phase unset), whatever the outcome."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            K.clear_session()
    return wrapper
