"""A small ONNX graph writer on `onnx.helper` (NCHW, float32), used by the Keras exporter."""

from __future__ import annotations

import numpy as np


class OnnxBuilder:
    def __init__(self):
        self.nodes, self.initializers, self.inputs = [], [], []
        self.alias: dict[str, str] = {}  # a name that holds no tensor of its own -> the tensor

    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def rename(self, source: str, name: str) -> None:
        self.alias[name] = self.resolve(source)

    def constant(self, name: str, values) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(values, np.float32), name))
        return name

    def node(self, op_type: str, inputs: list[str], output: str, **attributes) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, [self.resolve(i) for i in inputs], [output],
                                           name=output, **attributes))
        return output

    def add_input(self, name: str, chw) -> None:
        from onnx import TensorProto, helper

        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                         ["batch", *[int(d) for d in chw]]))

    def conv(self, source, weights, bias, output, pads, strides) -> str:
        inputs = [source, self.constant(f"{output}/weights", weights),
                  self.constant(f"{output}/bias", bias)]
        return self.node("Conv", inputs, output, kernel_shape=list(weights.shape[2:]),
                         pads=list(pads) * 2, strides=list(strides))

    def binary_conv(self, source, signs, output, pads, strides) -> str:
        """Sign -> Pad(-1) -> Conv(Sign(weights)): daBNN's strict binary conv pattern."""
        binarized = self.node("Sign", [source], f"{output}/sign_input")
        if any(pads):
            binarized = self.node("Pad", [binarized], f"{output}/pad", mode="constant",
                                  value=-1.0, pads=[0, 0, pads[0], pads[1], 0, 0, pads[0], pads[1]])
        weights = self.node("Sign", [self.constant(f"{output}/weights", signs)],
                            f"{output}/sign_weights")
        return self.node("Conv", [binarized, weights], output,
                         kernel_shape=list(signs.shape[2:]), strides=list(strides))

    def affine(self, source, scale, shift, output) -> str:
        channels = (1, -1, 1, 1)
        scaled = self.node("Mul", [source, self.constant(f"{output}/scale",
                                                         scale.reshape(channels))],
                           f"{output}/scaled")
        return self.node("Add", [scaled, self.constant(f"{output}/shift", shift.reshape(channels))],
                         output)

    def batchnorm(self, source, gamma, beta, mean, variance, epsilon, output) -> str:
        inputs = [source] + [self.constant(f"{output}/{part}", values) for part, values in
                             (("gamma", gamma), ("beta", beta), ("mean", mean),
                              ("variance", variance))]
        return self.node("BatchNormalization", inputs, output, epsilon=epsilon)

    def gemm(self, source, weights_out_in, bias, output) -> str:
        inputs = [source, self.constant(f"{output}/weights", weights_out_in),
                  self.constant(f"{output}/bias", bias)]
        return self.node("Gemm", inputs, output, transB=1)

    def finish(self, outputs: list[str], opset: int):
        from onnx import TensorProto, checker, helper

        for name in outputs:
            if self.resolve(name) != name:
                self.node("Identity", [name], name)
        graph = helper.make_graph(
            self.nodes, "deploy", self.inputs,
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", None])
             for name in outputs],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="bibench-deploy")
        model.ir_version = 7  # readable by onnxruntime releases of the opset-10 era and later
        checker.check_model(model)
        return model
