"""Read a TFLite flatbuffer: operators with their type, tensors and MAC counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any

BCONV = "LceBconv2d"
QUANTIZE = "LceQuantize"
DEQUANTIZE = "LceDequantize"
LCE_OPS = frozenset({BCONV, QUANTIZE, DEQUANTIZE, "LceBMaxPool2d"})
FLOAT_MAC_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


@dataclass
class Op:
    type: str
    inputs: list[int]
    outputs: list[int]
    macs: int = 0
    output_elements: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    ops: list[Op]
    shapes: dict[int, tuple[int, ...]]
    names: dict[int, str] = field(default_factory=dict)        # tensor names (Keras layer paths)
    const_bytes: dict[int, int] = field(default_factory=dict)  # bytes of constant tensors' data

    def histogram(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.ops:
            counts[op.type] = counts.get(op.type, 0) + 1
        return dict(sorted(counts.items()))


def _builtin_names() -> dict[int, str]:
    from tensorflow.lite.python import schema_py_generated as schema
    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def _op_type(code: Any, names: dict[int, str]) -> str:
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if names.get(builtin) == "CUSTOM":
        return code.customCode.decode()
    return names.get(builtin, f"BUILTIN_{builtin}")


def _custom_options(op: Any) -> dict[str, Any]:
    if op.customOptions is None or len(op.customOptions) == 0:
        return {}
    from flatbuffers import flexbuffers
    try:
        value = flexbuffers.Loads(bytes(bytearray(op.customOptions)))
    except Exception:  # options of an op we do not read; MACs then come from shapes alone
        return {}
    return value if isinstance(value, dict) else {}


def _macs(op_type: str, inputs: list[int], outputs: list[int], shapes: dict, options: dict) -> int:
    out = shapes.get(outputs[0], ()) if outputs else ()
    if op_type == BCONV:
        filt = shapes[inputs[1]]  # [out, kh, kw, packed in]
        cin = int(options.get("channels_in", 0))
        return prod(out[1:3]) * filt[0] * filt[1] * filt[2] * cin
    if op_type == "CONV_2D":
        filt = shapes[inputs[1]]  # [out, kh, kw, in]
        return prod(out[1:3]) * prod(filt)
    if op_type == "DEPTHWISE_CONV_2D":
        filt = shapes[inputs[1]]  # [1, kh, kw, out]
        return prod(out[1:3]) * prod(filt)
    if op_type == "FULLY_CONNECTED":
        weights = shapes[inputs[1]]  # [out, in]
        return prod(out[:-1]) * prod(weights)
    return 0


def read_graph(flatbuffer: bytes) -> Graph:
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    builtin_names = _builtin_names()
    subgraph = model.subgraphs[0]
    shapes = {i: tuple(int(d) for d in (t.shape if t.shape is not None else []))
              for i, t in enumerate(subgraph.tensors)}
    names = {i: t.name.decode() if t.name else "" for i, t in enumerate(subgraph.tensors)}
    const_bytes = {i: len(model.buffers[t.buffer].data) for i, t in enumerate(subgraph.tensors)
                   if t.buffer and model.buffers[t.buffer].data is not None}
    ops = []
    for raw in subgraph.operators:
        op_type = _op_type(model.operatorCodes[raw.opcodeIndex], builtin_names)
        inputs = [int(i) for i in (raw.inputs if raw.inputs is not None else [])]
        outputs = [int(i) for i in (raw.outputs if raw.outputs is not None else [])]
        options = _custom_options(raw) if op_type in LCE_OPS else {}
        ops.append(Op(op_type, inputs, outputs, _macs(op_type, inputs, outputs, shapes, options),
                      sum(prod(shapes.get(o, ())) for o in outputs), options))
    return Graph(ops, shapes, names, const_bytes)
