"""Operators daBNN cannot run, recognised in an ONNX graph before conversion starts.

Each finding is a reason a user can act on; the converter refuses the model with all of them.
"""

from __future__ import annotations

from bibench_deploy.dabnn.onnx_graph import OnnxGraph, attribute

_SCALE_SOURCES = {"ReduceMean", "ReduceL1", "ReduceSum"}
_PASS_THROUGH = {"Abs", "Reshape", "Unsqueeze", "Expand", "Flatten", "Cast", "Identity"}


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
    """A product of two activations where one comes from a reduction (ReduceMean(Abs(x))):
    a reduction alone (a global average as `x.mean((2, 3))`) is no scale; the converter then
    names the operator it cannot run."""
    runtime_product = node.op_type in ("Mul", "Div") and not any(
        graph.is_constant(name) for name in node.input)
    if runtime_product and any(_from_reduction(graph, name) for name in node.input):
        return ("runtime activation scale (a scale computed from the activations, e.g. "
                "ReduceMean(Abs(x)) multiplied into a conv output, as in XNOR-Net): daBNN has no "
                "activation scaling")
    return None


def _from_reduction(graph: OnnxGraph, name: str, depth: int = 4) -> bool:
    """`name` is computed by a reduction, directly or through shape-only or Abs ops."""
    producer = graph.producer.get(name)
    if producer is None or depth == 0:
        return False
    if producer.op_type in _SCALE_SOURCES:
        return True
    if producer.op_type in _PASS_THROUGH:
        return _from_reduction(graph, producer.input[0], depth - 1)
    return False


def _spatial_scale(graph: OnnxGraph, node) -> str | None:
    if node.op_type not in ("Mul", "Div") or all(graph.is_constant(n) for n in node.input):
        return None  # a product of constants is a weight (alpha_c * sign(W)), not a scale
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
