"""Read-only view of an ONNX graph for pattern matching: constants, producers, consumers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class OnnxGraph:
    nodes: list  # onnx.NodeProto, topologically sorted as the format requires
    constants: dict[str, np.ndarray]
    input_name: str
    input_shape: tuple  # NCHW as declared; the batch dimension may be symbolic
    output_names: list[str]
    opset: int
    producer: dict[str, object] = field(default_factory=dict)
    consumers: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, model) -> "OnnxGraph":
        from onnx import numpy_helper

        constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        for node in model.graph.node:
            if node.op_type == "Constant":
                constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        inputs = [i for i in model.graph.input if i.name not in constants]
        if len(inputs) != 1:
            raise ValueError(f"daBNN models have one input, this graph has {len(inputs)}")
        dims = tuple(d.dim_value if d.HasField("dim_value") else None
                     for d in inputs[0].type.tensor_type.shape.dim)
        opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                    default=1)
        graph = cls(list(model.graph.node), constants, inputs[0].name, dims,
                    [o.name for o in model.graph.output], opset)
        for index, node in enumerate(graph.nodes):
            for name in node.output:
                graph.producer[name] = node
            for name in node.input:
                graph.consumers.setdefault(name, []).append(index)
        return graph

    def is_constant(self, name: str) -> bool:
        return name in self.constants

    def consumer_nodes(self, name: str) -> list:
        return [self.nodes[i] for i in self.consumers.get(name, [])]


def attribute(node, name: str, default=None):
    from onnx import helper

    for attr in node.attribute:
        if attr.name == name:
            value = helper.get_attribute_value(attr)
            return value.decode() if isinstance(value, bytes) else value
    return default
