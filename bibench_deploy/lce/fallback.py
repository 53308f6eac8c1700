"""Float fallbacks: binarized Keras layers that the LCE flatbuffer runs as float MAC operators.

A float CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED belongs to a Keras layer when that
layer's name is a component of the operator's output tensor name (the converter names tensors
by Keras layer path, e.g. `xnornet/quant_conv2d_4/Conv2D`). Its bytes are those of its constant
inputs in the file: weights and bias, or, where the converter left the kernel quantizer to run
at inference, the float kernel it starts from. The advice says what would let the converter
bind a binary kernel, read from the layer's own configuration and the operators around it.
"""

from __future__ import annotations

import re
from math import prod
from typing import Any, Optional

from bibench_deploy.lce.flatbuffer import FLOAT_MAC_OPS, Graph

SIGN_QUANTIZERS = frozenset({"SteSign", "ApproxSign", "SwishSign", "ste_sign", "approx_sign",
                             "swish_sign"})


def _quantizer(layer: Any, attribute: str) -> str:
    q = getattr(layer, attribute, None)
    if q is None:
        return ""
    return getattr(q, "__name__", type(q).__name__)


def advice(layer: Any, kernel_ops: list[str]) -> str:
    """What would make this binarized Keras layer a binary kernel in LCE; `kernel_ops` are the
    operators that compute its weights at inference (empty when they are a constant)."""
    cls = type(layer).__name__
    if cls == "QuantDense":
        return "LCE has no binary dense kernel: a 1x1 binary QuantConv2D instead would run binary"
    if cls != "QuantConv2D":
        return f"LCE has no binary kernel for {cls}"
    inputs, kernel = _quantizer(layer, "input_quantizer"), _quantizer(layer, "kernel_quantizer")
    if inputs not in SIGN_QUANTIZERS:
        return f"its input quantizer {inputs} is not a sign (ste_sign, approx_sign, swish_sign)"
    if layer.padding == "same" and float(layer.pad_values) not in (0.0, 1.0):
        return f"pad_values={layer.pad_values}: use 1.0"
    if getattr(layer, "groups", 1) != 1:
        return "grouped binary convs are not converted: use groups=1"
    if kernel_ops:
        weights = prod(int(d) for d in layer.kernel.shape)
        return (f"the converter left its kernel quantizer {kernel} unfolded over a "
                f"{weights / 1e6:.1f} M-weight kernel (it runs at inference: "
                f"{', '.join(kernel_ops)}): a kernel quantizer without a reduction (ste_sign, "
                "the scale in the next BatchNorm) or a smaller kernel would fold into binary "
                "weights")
    return f"the converter did not match its quantizers ({inputs}, {kernel})"


def _kernel_sources(graph: Graph, tensor: int) -> tuple[list[str], list[int]]:
    """(operator types computing `tensor` at inference, in execution order; the constants
    they start from)."""
    producers = {out: i for i, op in enumerate(graph.ops) for out in op.outputs}
    ops: set[int] = set()
    constants: list[int] = []
    pending, seen = [tensor], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        index = producers.get(current)
        if index is None:
            if current in graph.const_bytes:
                constants.append(current)
            continue
        ops.add(index)
        pending.extend(graph.ops[index].inputs)
    return list(dict.fromkeys(graph.ops[i].type for i in sorted(ops))), constants


def _owner(tensor_name: str, layers: dict[str, Any]) -> Optional[str]:
    for part in re.split(r"[/;]", tensor_name):
        if part in layers:
            return part
    return None


def float_fallbacks(graph: Graph, model: Any, binarized: list[str]) -> dict[str, Any]:
    """Per binarized layer that runs as a float MAC op: op, MACs, bytes, advice; and totals."""
    layers = {layer.name: layer for layer in model.layers if layer.name in binarized}
    entries = []
    for op in graph.ops:
        if op.type not in FLOAT_MAC_OPS:
            continue
        owner = _owner(graph.names.get(op.outputs[0], ""), layers) if op.outputs else None
        if owner is None:
            continue
        kernel_ops, constants = _kernel_sources(graph, op.inputs[1])
        entries.append({"layer": owner, "op": op.type, "macs": op.macs,
                        "bytes": sum(graph.const_bytes[i] for i in {*constants, *op.inputs[2:]}
                                     if i in graph.const_bytes),
                        "kernel_computed_by": kernel_ops, "advice": advice(layers[owner],
                                                                           kernel_ops)})
    return {"layers": entries, "macs": sum(e["macs"] for e in entries),
            "bytes": sum(e["bytes"] for e in entries)}


def _amount(value: float, unit: str) -> str:
    """1234 -> '1,234 MACs'; 58_600_000 -> '58.6 M MACs'."""
    return f"{value / 1e6:.1f} M{unit}" if value >= 1e6 else f"{value:,.0f} {unit.strip()}"


def fallback_line(fallbacks: dict[str, Any], file_bytes: int) -> str:
    """One line: what runs as float, what it costs, what would make it binary."""
    entries = fallbacks["layers"]
    if not entries:
        return "no float fallback: every binarized layer runs as a binary kernel"
    ops = sorted({e["op"] for e in entries})
    advices: dict[str, list[str]] = {}
    for e in entries:
        advices.setdefault(e["advice"], []).append(e["layer"])
    share = fallbacks["bytes"] / file_bytes if file_bytes else 0.0
    return (f"float fallback: {len(entries)} binarized layer(s) run as float {'/'.join(ops)} "
            f"({', '.join(e['layer'] for e in entries)}): {_amount(fallbacks['macs'], ' MACs')}, "
            f"{_amount(fallbacks['bytes'], 'B')} of weights ({share:.0%} of the file); "
            + "; ".join(f"{', '.join(names)}: {text}" for text, names in advices.items()))
