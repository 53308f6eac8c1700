"""Operators daBNN cannot run, recognised in an ONNX graph before conversion starts.

Each finding is a reason a user can act on; the converter refuses the model with all of them.
"""

from __future__ import annotations

from bibench_deploy.dabnn.onnx_graph import OnnxGraph, attribute

_SCALE_SOURCES = {"ReduceMean", "ReduceL1", "ReduceSum", "Abs"}


def find_refusals(graph: OnnxGraph) -> list[str]:
    reasons = []
    for node in graph.nodes:
        for check in (_learnable_threshold, _runtime_scale, _spatial_scale, _groups):
            reason = check(graph, node)
            if reason and reason not in reasons:
                reasons.append(reason)
    return reasons


def _learnable_threshold(graph: OnnxGraph, node) -> str | None:
    if node.op_type != "Sign" or graph.is_constant(node.input[0]):
        return None
    producer = graph.producer.get(node.input[0])
    if producer is not None and producer.op_type in ("Add", "Sub") and any(
            graph.is_constant(name) for name in producer.input):
        return ("learnable threshold before binarization (a constant added before Sign, as in "
                "ReActNet's RSign): daBNN binarizes at 0 only")
    return None


def _runtime_scale(graph: OnnxGraph, node) -> str | None:
    runtime_source = node.op_type in _SCALE_SOURCES and not graph.is_constant(node.input[0])
    runtime_product = node.op_type in ("Mul", "Div") and not any(
        graph.is_constant(name) for name in node.input)
    if runtime_source or runtime_product:
        return ("runtime activation scale (a scale computed from the activations, e.g. "
                "ReduceMean(Abs(x)) multiplied into a conv output, as in XNOR-Net): daBNN has no "
                "activation scaling")
    return None


def _spatial_scale(graph: OnnxGraph, node) -> str | None:
    if node.op_type not in ("Mul", "Div"):
        return None
    for name in node.input:
        value = graph.constants.get(name)
        if value is not None and value.ndim >= 3 and max(value.shape[-2:]) > 1:
            return (f"spatial scale factor (Mul by a constant of shape {list(value.shape)} over "
                    "channels, height and width, as in XNOR-Net++): daBNN scales per channel only")
    return None


def _groups(graph: OnnxGraph, node) -> str | None:
    group = attribute(node, "group", 1)
    if node.op_type == "Conv" and group != 1:
        return f"grouped convolution (group = {group}): daBNN runs group = 1 only"
    return None
