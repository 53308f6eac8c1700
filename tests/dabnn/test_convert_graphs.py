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


def test_stem_max_pool_then_negation_by_hand():
    """MaxPool 3x3/2 with pads 1 (-FLT_MAX in daBNN, ignored) and Neg on a 4x4 map whose channel
    c holds 16 * c + (4 * row + column): each window's maximum is its bottom-right pixel."""
    model = onnx_graphs.pool_neg_graph(channels=4, size=4)
    image = (np.arange(16).reshape(1, 4, 4) + 16 * np.arange(4).reshape(4, 1, 1))[None]
    pooled = np.array([[5, 7], [13, 15]])  # windows rows/cols {-1,0,1} and {1,2,3}
    expected = -(pooled[None] + 16 * np.arange(4).reshape(4, 1, 1))[None]
    types = [layer.type for layer in convert_onnx(model).model.layers]
    assert types == ["MaxPool", "Affine"]
    np.testing.assert_array_equal(dab_outputs(model, image.astype(np.float32)), expected)


def test_classifier_over_a_flattened_map_by_hand():
    """Flatten of a 2-channel 2x2 map (ONNX order c, h, w) into a Gemm: one FpConv2D with a 2x2
    kernel. Output 0 sums channel 0, output 1 is pixel (h=1, w=0) of channel 1, plus biases."""
    weights = np.zeros((2, 8))
    weights[0, :4] = 1.0
    weights[1, 4 + 2] = 1.0  # c = 1, h = 1, w = 0
    model = onnx_graphs.flatten_gemm_graph(weights, np.array([0.5, -1.0]), channels=2, size=2)
    image = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)  # channel 0: 0..3, channel 1: 4..7
    conversion = convert_onnx(model)
    assert [layer.type for layer in conversion.model.layers] == ["FpConv2D"]
    output = executor.run(conversion.model, image[0].transpose(1, 2, 0))[conversion.output_name]
    np.testing.assert_array_equal(output.reshape(-1), [0 + 1 + 2 + 3 + 0.5, 6 - 1.0])
    np.testing.assert_allclose(output.reshape(1, -1), onnx_graphs.run_onnxruntime(model, image))


def test_non_square_input_is_refused_with_the_runtime_bug():
    with pytest.raises(ConversionError, match="8x16 .*swaps height and width"):
        convert_onnx(onnx_graphs.binary_conv_graph(32, 8, size=16, height=8))


def test_non_square_intermediate_tensor_is_refused():
    from onnx import helper

    model = onnx_graphs.binary_conv_graph(32, 8, size=8)
    conv = next(node for node in model.graph.node if node.op_type == "Conv")
    conv.attribute.remove(next(a for a in conv.attribute if a.name == "strides"))
    conv.attribute.append(helper.make_attribute("strides", [2, 1]))
    with pytest.raises(ConversionError, match="outputs 4x8 .*swaps height and width"):
        convert_onnx(model)
