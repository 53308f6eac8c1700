"""Evaluate ONNX nodes whose inputs are all constants (weight scales, Sign of weights, shapes)."""

from __future__ import annotations

import numpy as np

from bibench_deploy.dabnn.onnx_graph import attribute


def _reduce(function):
    def fold(node, x, axes=None):
        axes = attribute(node, "axes", None if axes is None else list(axes))
        keep = bool(attribute(node, "keepdims", 1))
        return function(x, axis=None if axes is None else tuple(axes), keepdims=keep)
    return fold


def _reshape(node, x, shape):
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape.tolist())]
    return x.reshape(shape)


def _unsqueeze(node, x, axes=None):
    for axis in sorted(attribute(node, "axes", None if axes is None else axes.tolist())):
        x = np.expand_dims(x, axis)
    return x


def _clip(node, x, low=None, high=None):
    low = attribute(node, "min", -np.inf) if low is None else low
    high = attribute(node, "max", np.inf) if high is None else high
    return np.clip(x, low, high)


def _gather(node, x, indices):
    return np.take(x, indices, axis=attribute(node, "axis", 0))


FOLDERS = {
    "Identity": lambda node, x: x,
    "Sign": lambda node, x: np.sign(x),
    "Abs": lambda node, x: np.abs(x),
    "Neg": lambda node, x: -x,
    "Sqrt": lambda node, x: np.sqrt(x),
    "Add": lambda node, x, y: x + y,
    "Sub": lambda node, x, y: x - y,
    "Mul": lambda node, x, y: x * y,
    "Div": lambda node, x, y: x / y,
    "ReduceMean": _reduce(np.mean),
    "ReduceSum": _reduce(np.sum),
    "ReduceProd": _reduce(np.prod),
    "Clip": _clip,
    "Shape": lambda node, x: np.asarray(x.shape, np.int64),
    "Gather": _gather,
    "Reshape": _reshape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": lambda node, x, axes=None: np.squeeze(x, tuple(attribute(node, "axes", []))
                                                     or None),
    "Transpose": lambda node, x: np.transpose(x, attribute(node, "perm")),
    "Cast": lambda node, x: x.astype(np.float32) if attribute(node, "to") == 1 else x,
}


def fold_constants(graph) -> set[int]:
    """Add the outputs of constant-only nodes to `graph.constants`; the indices of those nodes."""
    folded = set()
    for index, node in enumerate(graph.nodes):
        if node.op_type == "Constant":
            folded.add(index)
            continue
        inputs = [name for name in node.input if name]
        if node.op_type in FOLDERS and inputs and all(graph.is_constant(n) for n in inputs):
            values = [graph.constants[name] for name in inputs]
            graph.constants[node.output[0]] = np.asarray(FOLDERS[node.op_type](node, *values))
            folded.add(index)
    return folded
