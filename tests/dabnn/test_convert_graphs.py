import numpy as np
import pytest

from bibench_deploy.dabnn import executor
from bibench_deploy.dabnn.convert import convert_onnx
from bibench_deploy.dabnn.model import DabModel
from bibench_deploy.errors import ConversionError
from tests.dabnn import onnx_graphs


def dab_outputs(model, images_nchw):
    conversion = convert_onnx(model)
    dab = DabModel.from_bytes(conversion.model.to_bytes())
    outputs = executor.run_batch(dab, images_nchw.transpose(0, 2, 3, 1), conversion.output_name)
    return outputs.transpose(0, 3, 1, 2)


@pytest.mark.parametrize("in_channels, out_channels, kernel, stride, opset", [
    (32, 8, 3, 1, 10), (48, 8, 3, 2, 10), (64, 8, 3, 1, 10), (96, 4, 3, 1, 11),
    (128, 128, 3, 1, 10), (3, 4, 5, 1, 10), (64, 8, 2, 1, 13),
])
def test_binary_conv_matches_onnxruntime(in_channels, out_channels, kernel, stride, opset):
    model = onnx_graphs.binary_conv_graph(in_channels, out_channels, kernel, stride, opset=opset)
    images = np.random.default_rng(1).normal(size=(3, in_channels, 6, 6)).astype(np.float32)
    expected = onnx_graphs.run_onnxruntime(model, images)
    np.testing.assert_allclose(dab_outputs(model, images), expected, atol=1e-3)


def test_in_place_layers_do_not_clobber_shared_tensors():
    model = onnx_graphs.residual_relu_graph()
    images = np.random.default_rng(2).normal(size=(2, 4, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(dab_outputs(model, images),
                               onnx_graphs.run_onnxruntime(model, images), atol=1e-5)
    types = [layer.type for layer in convert_onnx(model).model.layers]
    assert types.count("AvePool") >= 1  # a copy kept the input for the later reader


@pytest.mark.parametrize("arguments, reason", [
    (dict(in_channels=64, out_channels=8, kernel=1), "words per unpadded 64-channel filter"),
    (dict(in_channels=128, out_channels=64), "direct conv needs out % 128"),
    (dict(in_channels=256, out_channels=192), "direct conv needs out % 128"),
    (dict(in_channels=64, out_channels=3), "even number of output channels"),
    (dict(in_channels=8, out_channels=4, pad_value=1.0), "pads binary convs with -1 only"),
    (dict(in_channels=8, out_channels=4, pad_value=0.0), "pads binary convs with -1 only"),
])
def test_refused_shapes_and_padding(arguments, reason):
    with pytest.raises(ConversionError, match=reason):
        convert_onnx(onnx_graphs.binary_conv_graph(**arguments))


def test_zero_padding_inside_the_conv_is_refused():
    model = onnx_graphs.binary_conv_graph(8, 4, kernel=3, conv_pads=1)
    with pytest.raises(ConversionError, match="pads its binarized input with 0"):
        convert_onnx(model)


def test_accepted_kernel_shapes():
    for in_channels, out_channels in ((128, 128), (256, 256), (192, 64), (64, 8)):
        convert_onnx(onnx_graphs.binary_conv_graph(in_channels, out_channels))


def test_unaligned_rows_are_refused():
    model = onnx_graphs.binary_conv_graph(64, 6, kernel=2)  # 7x7x6 output: W*C = 42
    with pytest.raises(ConversionError, match="W\\*C = 42"):
        convert_onnx(model)
