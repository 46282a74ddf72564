"""kerosene.utils.conv_utils: Keras 2's convolution length arithmetic, checked against torch's layers."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.utils import conv_utils as C


@pytest.mark.parametrize("length, kernel, stride, dilation", [(32, 5, 1, 1), (32, 5, 2, 1), (31, 3, 2, 2), (7, 7, 3, 1)])
def test_valid_and_full_output_lengths_match_torch_convolution(length, kernel, stride, dilation):
    x = torch.zeros(1, 1, length)
    valid = torch.nn.functional.conv1d(x, torch.zeros(1, 1, kernel), stride=stride, dilation=dilation)
    size = (kernel - 1) * dilation + 1
    full = torch.nn.functional.conv1d(x, torch.zeros(1, 1, kernel), stride=stride, dilation=dilation,
                                      padding=size - 1)
    assert C.conv_output_length(length, kernel, "valid", stride, dilation) == valid.shape[-1]
    assert C.conv_output_length(length, kernel, "full", stride, dilation) == full.shape[-1]
    assert C.conv_output_length(length, kernel, "same", stride, dilation) == -(-length // stride)


@pytest.mark.parametrize("length, kernel, stride, padding", [(32, 5, 1, "valid"), (32, 5, 2, "valid"), (6, 3, 2, "same")])
def test_deconv_length_matches_torch_transposed_convolution(length, kernel, stride, padding):
    pad = 0 if padding == "valid" else kernel // 2
    for output_padding in range(stride):
        out = torch.nn.functional.conv_transpose1d(torch.zeros(1, 1, length), torch.zeros(1, 1, kernel),
                                                   stride=stride, padding=pad, output_padding=output_padding)
        assert C.deconv_length(length, stride, kernel, padding, output_padding) == out.shape[-1]


def test_none_lengths_and_bad_arguments():
    assert C.conv_output_length(None, 3, "same", 1) is None and C.conv_input_length(None, 3, "same", 1) is None
    assert C.conv_input_length(14, 5, "valid", 2) == 31
    for call in (lambda: C.conv_output_length(3, 3, "diagonal", 1), lambda: C.normalize_padding("diagonal")):
        with pytest.raises(ValueError, match="padding"):
            call()
        with pytest.raises(AssertionError):    # Keras 2 asserts: code catching that still works
            call()
    with pytest.raises(ValueError, match="kernel_size"):
        C.normalize_tuple([1, 2, 3], 2, "kernel_size")
    with pytest.raises(ValueError, match="data_format"):
        K.normalize_data_format("channels_middle")
    assert K.normalize_data_format(None) == K.image_data_format()


def test_convert_kernel_reverses_the_spatial_axes_only():
    k = np.arange(2 * 3 * 1 * 2).reshape(2, 3, 1, 2)
    np.testing.assert_array_equal(C.convert_kernel(k), k[::-1, ::-1])
    with pytest.raises(ValueError, match="kernel"):
        C.convert_kernel(np.zeros((10, 20)))
