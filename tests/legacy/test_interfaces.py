"""Keras 1 argument names (kerosene.legacy.interfaces): each conversion gives the config of the
Keras 2 call, warns with Keras 2.2.4's "Update your `X` call to the Keras 2 API" text, refuses an
argument given under both names and Keras 1 values with no Keras 2 meaning."""
import json
import warnings

import numpy as np
import pytest
import torch

from kerosene import layers as L
from kerosene.legacy import interfaces
from kerosene.legacy.interfaces import LAYER_SPECS, METHOD_SPECS, convert, legacy_support


def config(layer):
    return json.dumps(layer.get_config(), sort_keys=True)


def old_and_new(old, new):
    with pytest.warns(UserWarning, match="Keras 2 API"):
        old_layer = old()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new_layer = new()
    return old_layer, new_layer


SAME = {
    "dense": (lambda: L.Dense(output_dim=3, input_dim=4, init="ones", W_regularizer="l1", b_regularizer="l2",
                              W_constraint="maxnorm", b_constraint="nonneg", bias=True, name="d"),
              lambda: L.Dense(3, input_shape=(4,), kernel_initializer="ones", kernel_regularizer="l1",
                              bias_regularizer="l2", kernel_constraint="max_norm", bias_constraint="non_neg",
                              name="d")),
    "dense_no_bias": (lambda: L.Dense(2, bias=False, name="d"), lambda: L.Dense(2, use_bias=False, name="d")),
    "dropout": (lambda: L.Dropout(p=0.3, name="x"), lambda: L.Dropout(0.3, name="x")),
    "spatial_dropout1d": (lambda: L.SpatialDropout1D(p=0.4, name="x"), lambda: L.SpatialDropout1D(0.4, name="x")),
    "spatial_dropout2d": (lambda: L.SpatialDropout2D(p=0.5, dim_ordering="th", name="x"),
                          lambda: L.SpatialDropout2D(0.5, data_format="channels_first", name="x")),
    "spatial_dropout3d": (lambda: L.SpatialDropout3D(p=0.5, dim_ordering="tf", name="x"),
                          lambda: L.SpatialDropout3D(0.5, data_format="channels_last", name="x")),
    "gaussian_dropout": (lambda: L.GaussianDropout(p=0.6, name="x"), lambda: L.GaussianDropout(0.6, name="x")),
    "gaussian_noise": (lambda: L.GaussianNoise(sigma=0.5, name="x"), lambda: L.GaussianNoise(0.5, name="x")),
    "embedding": (lambda: L.Embedding(4, 2, init="normal", W_regularizer="l1", W_constraint="unitnorm", name="e"),
                  lambda: L.Embedding(4, 2, embeddings_initializer="normal", embeddings_regularizer="l1",
                                      embeddings_constraint="unit_norm", name="e")),
    "batchnorm": (lambda: L.BatchNormalization(mode=0, beta_init="one", gamma_init="uniform", name="bn"),
                  lambda: L.BatchNormalization(beta_initializer="ones", gamma_initializer="uniform", name="bn")),
    "maxpool1d": (lambda: L.MaxPooling1D(pool_length=3, stride=2, border_mode="same", name="p"),
                  lambda: L.MaxPooling1D(pool_size=3, strides=2, padding="same", name="p")),
    "avgpool1d": (lambda: L.AveragePooling1D(pool_length=2, name="p"), lambda: L.AveragePooling1D(2, name="p")),
    "maxpool2d": (lambda: L.MaxPooling2D((2, 2), border_mode="same", dim_ordering="th", name="p"),
                  lambda: L.MaxPooling2D((2, 2), padding="same", data_format="channels_first", name="p")),
    "avgpool2d_default": (lambda: L.AveragePooling2D((2, 2), dim_ordering="default", name="p"),
                          lambda: L.AveragePooling2D((2, 2), name="p")),
    "maxpool3d": (lambda: L.MaxPooling3D(border_mode="valid", dim_ordering="tf", name="p"),
                  lambda: L.MaxPooling3D(padding="valid", data_format="channels_last", name="p")),
    "avgpool3d": (lambda: L.AveragePooling3D(dim_ordering="th", name="p"),
                  lambda: L.AveragePooling3D(data_format="channels_first", name="p")),
    "global_max2d": (lambda: L.GlobalMaxPooling2D(dim_ordering="th", name="g"),
                     lambda: L.GlobalMaxPooling2D(data_format="channels_first", name="g")),
    "global_avg2d": (lambda: L.GlobalAveragePooling2D(dim_ordering="tf", name="g"),
                     lambda: L.GlobalAveragePooling2D(data_format="channels_last", name="g")),
    "global_max3d": (lambda: L.GlobalMaxPooling3D(dim_ordering="th", name="g"),
                     lambda: L.GlobalMaxPooling3D(data_format="channels_first", name="g")),
    "global_avg3d": (lambda: L.GlobalAveragePooling3D(dim_ordering="default", name="g"),
                     lambda: L.GlobalAveragePooling3D(name="g")),
    "lstm": (lambda: L.LSTM(output_dim=2, input_dim=5, input_length=3, consume_less="mem", init="normal",
                            inner_init="orthogonal", forget_bias_init="one", inner_activation="hard_sigmoid",
                            W_regularizer="l1", U_regularizer="l2", b_regularizer="l1", dropout_W=0.1,
                            dropout_U=0.2, name="r"),
             lambda: L.LSTM(2, input_shape=(3, 5), implementation=1, kernel_initializer="normal",
                            recurrent_initializer="orthogonal", unit_forget_bias=True,
                            recurrent_activation="hard_sigmoid", kernel_regularizer="l1",
                            recurrent_regularizer="l2", bias_regularizer="l1", dropout=0.1,
                            recurrent_dropout=0.2, name="r")),
    "gru_no_length": (lambda: L.GRU(output_dim=2, input_dim=5, consume_less="gpu", name="r"),
                      lambda: L.GRU(2, input_shape=(None, 5), implementation=2, name="r")),
    "simple_rnn": (lambda: L.SimpleRNN(3, init="zeros", inner_init="ones", dropout_W=0.5, name="r"),
                   lambda: L.SimpleRNN(3, kernel_initializer="zeros", recurrent_initializer="ones", dropout=0.5,
                                       name="r")),
    "conv1d": (lambda: L.Convolution1D(nb_filter=5, filter_length=3, subsample_length=2, border_mode="same",
                                       init="normal", bias=False, input_dim=3, input_length=8, name="c"),
               lambda: L.Conv1D(5, 3, strides=2, padding="same", kernel_initializer="normal", use_bias=False,
                                input_shape=(8, 3), name="c")),
    "conv2d_positional": (lambda: L.Convolution2D(5, 3, 4, name="c"), lambda: L.Conv2D(5, (3, 4), name="c")),
    "conv2d_nb_col": (lambda: L.Convolution2D(5, 3, nb_col=4, name="c"), lambda: L.Conv2D(5, (3, 4), name="c")),
    "conv2d_keywords": (lambda: L.Convolution2D(nb_filter=5, nb_row=3, nb_col=4, subsample=(2, 2),
                                                border_mode="same", dim_ordering="th", W_constraint="maxnorm",
                                                name="c"),
                        lambda: L.Conv2D(5, (3, 4), strides=(2, 2), padding="same", data_format="channels_first",
                                         kernel_constraint="max_norm", name="c")),
    "conv3d_positional": (lambda: L.Convolution3D(5, 3, 3, 4, name="c"), lambda: L.Conv3D(5, (3, 3, 4), name="c")),
    "conv3d_mixed": (lambda: L.Convolution3D(5, 3, kernel_dim2=3, kernel_dim3=4, subsample=(2, 2, 2), name="c"),
                     lambda: L.Conv3D(5, (3, 3, 4), strides=(2, 2, 2), name="c")),
    "deconv2d_output_shape": (lambda: L.Deconvolution2D(5, 3, 3, (6, 7, 5), name="c"),
                              lambda: L.Conv2DTranspose(5, (3, 3), name="c")),
    "deconv2d_keyword_shape": (lambda: L.Deconvolution2D(5, nb_row=3, nb_col=3, output_shape=(6, 7, 5),
                                                         subsample=(2, 2), name="c"),
                               lambda: L.Conv2DTranspose(5, (3, 3), strides=(2, 2), name="c")),
    "separable2d": (lambda: L.SeparableConv2D(5, 3, 3, init="normal", b_regularizer="l2", dim_ordering="th",
                                              name="c"),
                    lambda: L.SeparableConv2D(5, (3, 3), depthwise_initializer="normal",
                                              pointwise_initializer="normal", bias_regularizer="l2",
                                              data_format="channels_first", name="c")),
    "input_layer": (lambda: L.InputLayer(input_shape=(3,), input_dtype="float64", name="i"),
                    lambda: L.InputLayer(input_shape=(3,), dtype="float64", name="i")),
}


@pytest.mark.parametrize("case", sorted(SAME))
def test_keras1_call_gives_the_keras2_config(case):
    old, new = old_and_new(*SAME[case])
    assert config(old) == config(new)


def test_converted_layer_computes_as_the_keras2_one():
    old, new = old_and_new(lambda: L.Convolution2D(4, 3, 3, init="glorot_normal", border_mode="same"),
                           lambda: L.Conv2D(4, (3, 3), padding="same"))
    x = torch.randn(2, 6, 6, 3)
    old(x), new(x)
    new.set_weights(old.get_weights())
    np.testing.assert_allclose(old(x).detach().numpy(), new(x).detach().numpy(), rtol=1e-6)
    assert old.get_weights()[0].shape == (3, 3, 3, 4)


def test_warning_names_the_old_call_and_the_keras2_one():
    with pytest.warns(UserWarning) as record:
        L.Dense(output_dim=3, bias=False)
    assert [str(w.message) for w in record] == [
        "Update your `Dense` call to the Keras 2 API: `Dense(units=3, use_bias=False)`"]
    with pytest.warns(UserWarning) as record:
        L.Convolution2D(8, 3, 3, border_mode="same", name="conv")
    assert str(record[0].message) == ('Update your `Conv2D` call to the Keras 2 API: '
                                      '`Conv2D(8, (3, 3), name="conv", padding="same")`')


def test_warning_points_at_the_callers_line():
    with pytest.warns(UserWarning) as record:
        L.Dropout(p=0.1)
    assert record[0].filename == __file__


def test_long_values_are_shortened_in_the_warning():
    with pytest.warns(UserWarning) as record:
        L.Dense(output_dim=2, W_regularizer=None, name="a_very_long_layer_name")
    assert '`Dense(name="a_very_long_layer_name", units=2, kernel_regularizer=None)`' in str(record[0].message)


def test_keras2_calls_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert L.Conv2D(5, 3).kernel_size == (3, 3)
        # Keras 2: the third integer is strides; only two integers after filters mean a 2D kernel.
        layer = L.Conv3D(5, 3, 3)
        assert layer.kernel_size == (3, 3, 3) and layer.strides == (3, 3, 3)
        L.Dense(3, use_bias=False)


def test_a_user_subclass_inherits_the_conversion():
    class MyDense(L.Dense):
        def __init__(self, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

    with pytest.warns(UserWarning, match=r"Update your `MyDense` call .*`MyDense\(units=2\)`"):
        layer = MyDense(output_dim=2)
    assert layer.units == 2


def test_a_wrapped_subclass_of_a_wrapped_class_converts_once():
    # Conv2DTranspose and Conv2D both have table entries; only the outermost applies.
    with pytest.warns(UserWarning) as record:
        L.Deconvolution2D(5, 3, 3, (6, 7, 5), subsample=(2, 2))
    assert len(record) == 1


@pytest.mark.parametrize("make, old, new", [
    (lambda: L.Dense(output_dim=3, units=4), "output_dim", "units"),
    (lambda: L.Dropout(p=0.1, rate=0.2), "p", "rate"),
    (lambda: L.Conv2D(5, nb_row=3, nb_col=3, kernel_size=3), "nb_row/nb_col", "kernel_size"),
    (lambda: L.LSTM(2, input_dim=3, input_shape=(4, 3)), "input_dim", "input_shape"),
    (lambda: L.SeparableConv2D(4, 3, init="ones", depthwise_initializer="zeros"), "init",
     "depthwise_initializer"),
    (lambda: L.MaxPooling2D(dim_ordering="tf", data_format="channels_last"), "dim_ordering", "data_format"),
])
def test_both_names_is_a_type_error(make, old, new):
    with pytest.raises(TypeError, match=f"Keras 1 argument `{old}`.*Keras 2 name `{new}`.*pass only `{new}`"):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: L.MaxPooling2D(dim_ordering="xy"), r"`dim_ordering` must be one of \['default', 'tf', 'th'\], got 'xy'"),
    (lambda: L.Conv2D(4, 3, 3, dim_ordering=["tf"]), r"`dim_ordering` must be one of .*got \['tf'\]"),
    (lambda: L.LSTM(2, consume_less="fast"), r"`consume_less` must be one of \['cpu', 'gpu', 'mem'\], got 'fast'"),
])
def test_unknown_keras1_values_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_batchnorm_modes_other_than_0_are_refused():
    with pytest.raises(TypeError, match=r"`BatchNormalization`: Keras 1's `mode=2` has no Keras 2 form"):
        L.BatchNormalization(mode=2)


def test_incomplete_kernel_dimensions_are_refused():
    with pytest.raises(TypeError, match=r"`Conv2D`: Keras 1 kernel dimensions \['nb_row', 'nb_col'\] are "
                                        r"incomplete \(missing \['nb_col'\]\)"):
        L.Conv2D(5, nb_row=3)
    with pytest.raises(TypeError, match=r"missing \['kernel_dim2'\]"):
        L.Conv3D(5, 3, kernel_dim3=3)


def test_integer_kernel_dims_with_keras2_strides_are_ambiguous():
    with pytest.raises(ValueError, match=r"read as Keras 1's \['nb_row', 'nb_col'\].*\['strides'\]"):
        L.Conv2D(5, 3, 3, strides=2)


def test_embedding_dropout_is_dropped_with_its_own_warning():
    with pytest.warns(UserWarning, match="SpatialDropout1D") as record:
        layer = L.Embedding(3, 2, dropout=0.2, name="e")
    assert len(record) == 1
    assert config(layer) == config(L.Embedding(3, 2, name="e"))


def test_forget_bias_init_other_than_one_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="forget_bias_init='zero'.* is ignored"):
        layer = L.LSTM(2, forget_bias_init="zero")
    assert layer.unit_forget_bias is True


def test_zero_padding_dict_becomes_pairs():
    spec = LAYER_SPECS["ZeroPadding2D"]
    with pytest.warns(UserWarning) as record:
        args, kwargs = convert("ZeroPadding2D", spec, (), {
            "padding": {"right_pad": 4, "bottom_pad": 2, "top_pad": 1, "left_pad": 3}, "dim_ordering": "tf"})
    assert args == () and kwargs == {"padding": ((1, 2), (3, 4)), "data_format": "channels_last"}
    assert any("pass `padding=((1, 2), (3, 4))`" in str(w.message) for w in record)
    with pytest.warns(UserWarning):
        args, kwargs = convert("ZeroPadding2D", spec, ({"top_pad": 1},), {})
    assert args == (((1, 0), (0, 0)),) and kwargs == {}
    with pytest.raises(ValueError, match=r"takes only the keys .*got \['middle'\]"):
        convert("ZeroPadding2D", spec, ({"middle": 1},), {})


def test_upsampling1d_length_is_size():
    with pytest.warns(UserWarning, match="UpSampling1D"):
        assert convert("UpSampling1D", LAYER_SPECS["UpSampling1D"], (), {"length": 3}) == ((), {"size": 3})


def test_method_decorator_converts_generator_arguments():
    class Generator:
        batch_size = 4

    class Trainer:
        @legacy_support("fit_generator")
        def fit_generator(self, generator, steps_per_epoch=None, epochs=1, validation_steps=None, workers=1,
                          use_multiprocessing=False, max_queue_size=10):
            return steps_per_epoch, epochs, validation_steps, workers, use_multiprocessing, max_queue_size

    gen = Generator()
    with pytest.warns(UserWarning) as record:
        got = Trainer().fit_generator(gen, samples_per_epoch=12, nb_epoch=3, nb_val_samples=2, nb_worker=2,
                                      pickle_safe=True, max_q_size=5)
    assert got == (3, 3, 2, 2, True, 5)
    messages = [str(w.message) for w in record]
    assert any("counts batches, not samples" in m for m in messages)
    assert any(m.startswith("Update your `fit_generator` call to the Keras 2 API") for m in messages)


def test_function_decorator_renames_model_arguments():
    @legacy_support("Model", method=False)
    def model(inputs=None, outputs=None):
        return inputs, outputs

    with pytest.warns(UserWarning, match=r"`Model\(inputs=1, outputs=2\)`"):
        assert model(input=1, output=2) == (1, 2)


def test_add_weight_shape_first_is_read_as_keras_2_2_4_does():
    class Weights:
        @legacy_support("add_weight")
        def add_weight(self, name=None, shape=None, initializer=None):
            return name, shape, initializer

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Weights().add_weight((3, 2), initializer="ones", name="W") == ("W", (3, 2), "ones")
        assert Weights().add_weight([4], "b") == ("b", (4,), None)
        assert Weights().add_weight("k", (1,)) == ("k", (1,), None)


def test_every_table_entry_renames_to_distinct_names():
    for name, spec in {**LAYER_SPECS, **METHOD_SPECS}.items():
        olds = [old for old, _ in spec.renames]
        assert len(olds) == len(set(olds)), name
        assert not set(olds) & {new for _, new in spec.renames}, name


def test_only_kerosene_classes_are_wrapped():
    class Dense(L.Layer):  # a user's own class that happens to share a table name
        def __init__(self, output_dim=1, **kwargs):
            super().__init__(**kwargs)
            self.output_dim = output_dim

    assert "_kerosene_legacy_spec" not in Dense.__dict__
    assert Dense(output_dim=4).output_dim == 4
    assert interfaces._legacy_owner(L.Dense) is L.Dense


def test_keras1_model_and_generator_method_names_run_a_real_model():
    import numpy as np
    from kerosene.layers import Dense, Input
    from kerosene.models import Model

    def batches():
        while True:
            yield np.ones((4, 3), dtype="float32"), np.zeros((4, 1), dtype="float32")

    a = Input((3,))
    with pytest.warns(UserWarning, match=r"Update your `Model` call to the Keras 2 API"):
        model = Model(input=a, output=Dense(1)(a))
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match=r"Update your `fit_generator` call to the Keras 2 API"):
        history = model.fit_generator(batches(), samples_per_epoch=2, nb_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.warns(UserWarning, match=r"`evaluate_generator` call"):
        assert np.isfinite(model.evaluate_generator(batches(), val_samples=1))
