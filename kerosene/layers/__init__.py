"""Keras-named layers as ``torch.nn.Module`` s.

>>> import torch
>>> from kerosene import layers
>>> layers.Dense(3, activation='softmax')(torch.zeros(2, 5)).shape
torch.Size([2, 3])

``serialize(layer)`` gives Keras's ``{"class_name": ..., "config": ...}``;
``deserialize(config, custom_objects=None)`` rebuilds a layer, resolving only
kerosene's layer classes and ``custom_objects``.
"""

from .base import Layer, reset_name_counters, to_snake_case
from .input_spec import InputSpec
from .core import (Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Permute,
                   RepeatVector, Reshape)
from .convolutional import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from .conv_transpose import (Conv2DTranspose, Conv3DTranspose, Convolution2DTranspose, Deconv2D,
                             Deconv3D, Deconvolution2D, Deconvolution3D)
from .separable_conv import (DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
                             SeparableConvolution1D, SeparableConvolution2D)
from .zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D
from .upsampling import UpSampling1D, UpSampling2D, UpSampling3D
from .cropping import Cropping1D, Cropping2D, Cropping3D
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D,
                      AvgPool2D, AvgPool3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D,
                      GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D, MaxPool2D,
                      MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D)
from .normalization import BatchNormalization, LayerNormalization
from .embedding import Embedding
from .advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from .masking import Masking
from .activity_regularization import ActivityRegularization
from .recurrent import GRU, LSTM, SimpleRNN
from .rnn import RNN, StackedRNNCells
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from .cudnn_recurrent import CuDNNGRU, CuDNNLSTM
from .local import LocallyConnected1D, LocallyConnected2D
from .convolutional_recurrent import ConvLSTM2D, ConvLSTM2DCell, ConvRNN2D

from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
                    add, average, concatenate, dot, maximum, minimum, multiply, subtract)
from .noise import (AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
                    SpatialDropout2D, SpatialDropout3D)
from .wrappers import Bidirectional, TimeDistributed
from ..legacy.layers import AtrousConvolution1D, AtrousConvolution2D, Highway, MaxoutDense  # Keras 2.2.4 exports these
from ._serialization import LAYER_CLASSES, deserialize, get_layer_class, serialize

__all__ = [name for name in dir() if not name.startswith("_") and name != "LAYER_CLASSES"]

# Saved configs resolve the layer classes exported here, under every name they are exported as.
LAYER_CLASSES.update({name: obj for name, obj in list(globals().items())
                      if isinstance(obj, type) and issubclass(obj, Layer)})
