"""kerosene.utils.layer_utils: counts, summary, and converting weights between layouts."""
import numpy as np
import pytest

from kerosene import backend as K
from kerosene.layers import Conv2D, Dense, Flatten
from kerosene.models import Sequential
from kerosene.utils import layer_utils


def test_count_params_counts_each_weight_once_and_print_summary_prints_the_table():
    model = Sequential([Dense(3, input_shape=(4,)), Dense(2)])
    weights = model.trainable_weights
    assert layer_utils.count_params(weights + weights[:1]) == 4 * 3 + 3 + 3 * 2 + 2
    lines = []
    layer_utils.print_summary(model, print_fn=lines.append)
    assert "Total params: 23" in lines and len(lines) > 5


def test_convert_all_kernels_flips_the_spatial_axes_of_convolutions():
    model = Sequential([Conv2D(2, (3, 2), input_shape=(5, 5, 1)), Flatten(), Dense(1)])
    kernel = model.layers[0].get_weights()[0]
    dense = model.layers[2].get_weights()[0]
    layer_utils.convert_all_kernels_in_model(model)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], kernel[::-1, ::-1])
    np.testing.assert_array_equal(model.layers[2].get_weights()[0], dense)


def test_flipped_numpy_views_feed_backend_functions():
    x = np.arange(6, dtype="float32").reshape(2, 3)[::-1, ::-1]
    assert float(K.sum(K.variable(x)[0])) == 5 + 4 + 3
    placeholder = K.placeholder(shape=(None, 3))
    np.testing.assert_array_equal(K.function([placeholder], [placeholder * 1.0])([x])[0], x)
    v = K.variable(np.zeros((2, 3)))
    K.set_value(v, x)
    np.testing.assert_array_equal(K.get_value(v), x)


@pytest.mark.parametrize("source, target", [("channels_first", "channels_last"), ("channels_last", "channels_first")])
def test_convert_dense_weights_follows_a_flatten_in_the_other_format(source, target):
    shapes = {"channels_first": (3, 4, 4), "channels_last": (4, 4, 3)}
    build = lambda fmt: Sequential([Conv2D(3, 3, input_shape=shapes[fmt], data_format=fmt), Flatten(), Dense(2)])
    model, other = build(source), build(target)
    x = np.random.RandomState(0).rand(2, *shapes[source]).astype("float32")
    expected = model.predict(x)
    feature_map = {"channels_first": (3, 2, 2), "channels_last": (2, 2, 3)}[target]
    layer_utils.convert_dense_weights_data_format(model.layers[2], feature_map, target)
    for src, dst in zip(model.layers, other.layers):
        dst.set_weights(src.get_weights())
    moved = np.moveaxis(x, 1, -1) if source == "channels_first" else np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(other.predict(moved), expected, atol=1e-5)
    with pytest.raises(ValueError, match="target_data_format"):
        layer_utils.convert_dense_weights_data_format(model.layers[2], feature_map, "nhwc")
    with pytest.raises(ValueError, match="previous_feature_map_shape"):
        layer_utils.convert_dense_weights_data_format(model.layers[2], (3, 3, 3), target)
