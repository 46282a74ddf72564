"""Keras 2's ``keras.utils.test_utils``: synthetic data for tests and examples.

    (x_train, y_train), (x_test, y_test) = get_test_data(
        num_train=200, num_test=50, input_shape=(8,), classification=True, num_classes=3)
"""
import numpy as np

__all__ = ["get_test_data"]


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
        centre = np.random.random((n,))
        x = np.random.normal(loc=centre.reshape((n,) + (1,) * len(input_shape)), scale=0.7,
                             size=(n,) + input_shape).astype(np.float32)
        y = np.random.normal(loc=centre.reshape((n,) + (1,) * len(output_shape)), scale=0.7,
                             size=(n,) + output_shape).astype(np.float32)
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])
