"""Per-channel affine operators after a conv, folded into one y = a * x + b."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bibench_deploy.dabnn.onnx_graph import OnnxGraph, attribute


@dataclass
class AffineChain:
    scale: np.ndarray  # a, per output channel
    shift: np.ndarray  # b, per output channel
    output: str  # the ONNX tensor that the last folded node produces
    node_indices: list[int]


def batchnorm_affine(graph: OnnxGraph, node) -> tuple[np.ndarray, np.ndarray]:
    """a = gamma / sqrt(var + eps), b = beta - a * mean, with the node's own epsilon."""
    gamma, beta, mean, var = (graph.constants[name].astype(np.float64) for name in node.input[1:5])
    scale = gamma / np.sqrt(var + attribute(node, "epsilon", 1e-5))
    return scale, beta - scale * mean


def per_channel(value: np.ndarray, channels: int, rank: int) -> np.ndarray | None:
    """A constant broadcast against an activation of `rank` (NCHW: 4, NC: 2) as one value per
    channel, or None if it varies along another axis."""
    value = np.asarray(value, np.float64)
    if value.size == 1:
        return np.full(channels, value.item())
    if value.ndim > rank:
        return None
    shape = (1,) * (rank - value.ndim) + value.shape
    if shape[1] == channels and value.size == channels:
        return value.reshape(-1)
    return None


def follow(graph: OnnxGraph, start: str, channels: int, rank: int, keep: set[str]) -> AffineChain:
    """Fold BatchNormalization and Mul/Add/Sub/Div by per-channel constants that follow `start`,
    each the only consumer of its input; stops at anything else or at a tensor in `keep`."""
    chain = AffineChain(np.ones(channels), np.zeros(channels), start, [])
    while chain.output not in keep and len(graph.consumers.get(chain.output, [])) == 1:
        index = graph.consumers[chain.output][0]
        step = affine_step(graph, graph.nodes[index], chain.output, channels, rank)
        if step is None:
            break
        scale, shift = step
        chain.scale, chain.shift = scale * chain.scale, scale * chain.shift + shift
        chain.output, chain.node_indices = graph.nodes[index].output[0], chain.node_indices + [index]
    return chain


def affine_step(graph: OnnxGraph, node, source: str, channels: int, rank: int):
    if node.op_type == "BatchNormalization" and node.input[0] == source:
        return batchnorm_affine(graph, node)
    if node.op_type not in ("Mul", "Add", "Sub", "Div") or len(node.input) != 2:
        return None
    other = node.input[1] if node.input[0] == source else node.input[0]
    if other not in graph.constants:
        return None
    value = per_channel(graph.constants[other], channels, rank)
    if value is None:
        return None
    ones, zeros = np.ones(channels), np.zeros(channels)
    if node.op_type == "Sub":
        return (ones, -value) if node.input[0] == source else (-ones, value)
    if node.op_type == "Div":
        return (1 / value, zeros) if node.input[0] == source else None
    return (value, zeros) if node.op_type == "Mul" else (ones, value)
