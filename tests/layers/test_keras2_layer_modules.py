"""Every Keras 2.2.4 layers module resolves under kerosene with the names Keras 2 code imports from it
(``from keras.layers.core import Masking``, ``from keras.layers.convolutional import MaxPooling2D``, ...),
each the same class as ``kerosene.layers`` exports."""
import importlib

import pytest

import kerosene.layers

KERAS2_MODULES = {
    "core": "Masking Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D Activation Reshape Permute Flatten "
            "RepeatVector Lambda Dense ActivityRegularization",
    "convolutional": "Conv1D Conv2D Conv3D Conv2DTranspose Conv3DTranspose SeparableConv1D SeparableConv2D "
                     "DepthwiseConv2D UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D "
                     "Cropping1D Cropping2D Cropping3D Convolution1D Convolution2D Convolution3D SeparableConvolution1D "
                     "SeparableConvolution2D Convolution2DTranspose Deconvolution2D Deconvolution3D "
                     "MaxPooling1D MaxPooling2D AveragePooling2D GlobalMaxPooling2D",
    "pooling": "MaxPooling1D AveragePooling1D MaxPooling2D AveragePooling2D MaxPooling3D AveragePooling3D "
               "GlobalAveragePooling1D GlobalMaxPooling1D GlobalAveragePooling2D GlobalMaxPooling2D "
               "GlobalAveragePooling3D GlobalMaxPooling3D AvgPool1D MaxPool1D AvgPool2D MaxPool2D AvgPool3D MaxPool3D "
               "GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D GlobalAvgPool1D GlobalAvgPool2D GlobalAvgPool3D",
    "local": "LocallyConnected1D LocallyConnected2D",
    "recurrent": "StackedRNNCells RNN SimpleRNNCell SimpleRNN GRUCell GRU LSTMCell LSTM",
    "cudnn_recurrent": "CuDNNGRU CuDNNLSTM",
    "normalization": "BatchNormalization",
    "embeddings": "Embedding",
    "merge": "Add Subtract Multiply Average Maximum Minimum Concatenate Dot add subtract multiply average maximum "
             "minimum concatenate dot",
    "wrappers": "TimeDistributed Bidirectional",
    "noise": "GaussianNoise GaussianDropout AlphaDropout",
    "advanced_activations": "LeakyReLU PReLU ELU ThresholdedReLU Softmax ReLU",
    "convolutional_recurrent": "ConvLSTM2D",
}


@pytest.mark.parametrize("module", sorted(KERAS2_MODULES))
def test_each_keras2_layers_module_exports_its_classes(module):
    found = importlib.import_module(f"kerosene.layers.{module}")
    for name in KERAS2_MODULES[module].split():
        assert getattr(found, name) is getattr(kerosene.layers, name), f"kerosene.layers.{module}.{name}"


def test_an_input_takes_arithmetic_slicing_and_torch_functions_as_its_tensor():
    import numpy as np
    import torch
    from kerosene import backend as K
    from kerosene.layers import Input
    x = Input((3,))
    f = K.function([x], [x * 2 + 1, 1 - x, -x, x[:, 0], torch.tanh(x), x / 2, x ** 2])
    values = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    out = f([values])
    expected = [values * 2 + 1, 1 - values, -values, values[:, 0], np.tanh(values), values / 2, values ** 2]
    for got, want in zip(out, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)
