"""Tiny ONNX graphs built node by node (no torch), for converter edge cases."""

from __future__ import annotations

import numpy as np


def binary_conv_graph(in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1,
                      size: int = 6, pad_value: float = -1.0, conv_pads: int = 0,
                      opset: int = 10, seed: int = 0, height: int | None = None):
    """input -> Sign -> Pad(pad_value) -> Conv(Sign(W)) -> BatchNormalization -> output."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    pad = kernel // 2
    weights = rng.normal(size=(out_channels, in_channels, kernel, kernel)).astype(np.float32)
    bn = [rng.uniform(0.5, 1.5, out_channels), rng.uniform(-1, 1, out_channels),
          rng.uniform(-5, 5, out_channels), rng.uniform(1, 4, out_channels)]
    initializers = [numpy_helper.from_array(weights, "w")] + [
        numpy_helper.from_array(v.astype(np.float32), n) for v, n in zip(bn, "gbmv")]
    pads = [0, 0, pad, pad, 0, 0, pad, pad]
    if opset < 11:
        pad_node = helper.make_node("Pad", ["s"], ["p"], mode="constant", pads=pads,
                                    value=pad_value)
    else:
        initializers += [numpy_helper.from_array(np.array(pads, np.int64), "pads"),
                         numpy_helper.from_array(np.array(pad_value, np.float32), "pad_value")]
        pad_node = helper.make_node("Pad", ["s", "pads", "pad_value"], ["p"], mode="constant")
    nodes = [helper.make_node("Sign", ["input"], ["s"]), pad_node,
             helper.make_node("Sign", ["w"], ["sw"]),
             helper.make_node("Conv", ["p", "sw"], ["c"], kernel_shape=[kernel, kernel],
                              strides=[stride, stride], pads=[conv_pads] * 4),
             helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["output"],
                              epsilon=1e-3)]
    return _model(nodes, initializers, in_channels, size, opset, height)


def residual_relu_graph(channels: int = 4, size: int = 4):
    """y = relu(x); z = bn(x) + y; the in-place Relu and Affine must not clobber x."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(3)
    bn = [rng.uniform(0.5, 1.5, channels), rng.uniform(-1, 1, channels),
          rng.uniform(-1, 1, channels), rng.uniform(1, 2, channels)]
    initializers = [numpy_helper.from_array(v.astype(np.float32), n) for v, n in zip(bn, "gbmv")]
    nodes = [helper.make_node("Relu", ["input"], ["y"]),
             helper.make_node("BatchNormalization", ["input", "g", "b", "m", "v"], ["n"]),
             helper.make_node("Add", ["y", "n"], ["output"])]
    return _model(nodes, initializers, channels, size, 10)


def pool_neg_graph(channels: int = 4, size: int = 4):
    """input -> MaxPool(3x3, stride 2, pads 1) -> Neg: ResNet's ImageNet stem pool, negated."""
    from onnx import helper

    nodes = [helper.make_node("MaxPool", ["input"], ["p"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Neg", ["p"], ["output"])]
    return _model(nodes, [], channels, size, 10)


def flatten_gemm_graph(weights: np.ndarray, bias: np.ndarray, channels: int, size: int):
    """input (1, C, size, size) -> Flatten -> Gemm(weights [out, C*size*size], transB=1)."""
    from onnx import helper, numpy_helper

    initializers = [numpy_helper.from_array(weights.astype(np.float32), "w"),
                    numpy_helper.from_array(bias.astype(np.float32), "b")]
    nodes = [helper.make_node("Flatten", ["input"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "w", "b"], ["output"], transB=1)]
    return _model(nodes, initializers, channels, size, 10)


def _model(nodes, initializers, channels, size, opset, height=None):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                   [1, channels, height or size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


def run_onnxruntime(model, images: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: image[None]})[0] for image in images])
