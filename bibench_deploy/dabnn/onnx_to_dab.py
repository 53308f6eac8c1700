"""Walk an ONNX graph in order and emit daBNN layers.

Binary convs are recognised in daBNN's strict form: input `Sign` (optionally `Pad` with -1) and
weights from `Sign` of a constant or constants that are all +/-1. Each becomes a BinConv2D
(mismatch count) and an in-place Affine that restores the dot product and folds what follows it
per channel (BatchNorm with its own epsilon, weight scales, biases): with y = a * (conv + bias) + b,
A = -2a and B = b + a * (K + bias), K = kh*kw*in. Float convs take following per-channel affines
into their weights. A Gemm/MatMul classifier after global pooling becomes a fixed-kernel AvePool
and a 1x1 FpConv2D; one over a flattened H x W map becomes an FpConv2D with an H x W kernel.
Clip (Hardtanh) is dropped where its output feeds only binarization, and is otherwise built from
in-place layers: clip(x, lo, hi) = hi - relu(hi - lo - relu(x - lo)). Neg is an Affine (-1, 0).
Before an in-place layer overwrites a tensor that is still read later, the tensor is copied
(AvePool 1x1, stride 1). Every layer output gets a new name: the runtime reuses existing buffers
by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bibench_deploy.dabnn import affine_chain
from bibench_deploy.dabnn.bitpack import pack_weights
from bibench_deploy.dabnn.limits import NON_SQUARE_REASON, kernel_limit_violations
from bibench_deploy.dabnn.model import DabModel, DabTensor
from bibench_deploy.dabnn.onnx_graph import OnnxGraph, attribute
from bibench_deploy.errors import ConversionError


@dataclass
class DabConversion:
    model: DabModel
    output_name: str  # the blob that holds the ONNX model's output
    notes: list[str] = field(default_factory=list)


@dataclass
class _Binarized:
    source: str  # dab name of the float tensor that the binary conv binarizes
    pad_h: int = 0
    pad_w: int = 0


def _channel_magnitudes(weights: np.ndarray) -> np.ndarray | None:
    """alpha_c when every weight of output channel c is +alpha_c or -alpha_c (alpha_c > 0), as in
    exports of scaled binary weights (alpha_c * sign(W)); None otherwise."""
    magnitudes = np.abs(weights).reshape(weights.shape[0], -1)
    alpha = magnitudes[:, 0]
    if np.all(alpha > 0) and np.all(magnitudes == alpha[:, None]):
        return alpha
    return None


class OnnxToDab:
    def __init__(self, graph: OnnxGraph, done: set[int]):
        self.graph, self.done, self.notes = graph, set(done), []
        batch, channels, height, width = (list(graph.input_shape) + [None] * 4)[:4]
        if None in (channels, height, width) or len(graph.input_shape) != 4 or batch not in (1, None):
            raise ConversionError(f"input {graph.input_name!r} must be NCHW with static C, H, W "
                                  f"and batch 1, got {list(graph.input_shape)}")
        if height != width:
            raise ConversionError(f"input {graph.input_name!r} is {height}x{width} (H x W): "
                                  + NON_SQUARE_REASON)
        self.model = DabModel(graph.input_name, (1, height, width, channels))
        self.alias = {graph.input_name: graph.input_name}  # ONNX name -> dab name
        self.rank = {graph.input_name: 4}  # ONNX name -> rank (4: NCHW, 2: flattened 1x1)
        self.shapes = {graph.input_name: (height, width, channels)}  # dab name -> H, W, C
        self.binarized: dict[str, _Binarized] = {}
        self.flattened: dict[str, str] = {}  # ONNX name of a flattened H x W map -> dab source
        self.zero_padded: dict[str, _Binarized] = {}
        self.index = 0

    def run(self) -> DabConversion:
        for index, node in enumerate(self.graph.nodes):
            if index in self.done:
                continue
            self.index = index
            handler = getattr(self, f"_op_{node.op_type}", None)
            if handler is None:
                raise ConversionError(f"unsupported operator {node.op_type} "
                                      f"({node.name or node.output[0]}) for daBNN")
            handler(node)
        output = self.graph.output_names[0]
        if output not in self.alias:
            raise ConversionError(f"the output {output!r} is not computed by daBNN layers")
        reasons = kernel_limit_violations(self.model, self.shapes)
        if reasons:
            raise ConversionError("daBNN's runtime fails on: " + "; ".join(reasons))
        return DabConversion(self.model, self.alias[output], self.notes)

    # ---- names, shapes, in-place safety

    def _float_input(self, name: str, node) -> str:
        if name in self.flattened:
            raise ConversionError(f"{node.op_type} {node.output[0]!r} reads {name!r}, a flattened "
                                  "spatial map; daBNN keeps NHWC tensors, so only a Gemm/MatMul "
                                  "classifier (run as a conv over the whole map) may read it")
        if name in self.binarized or name in self.zero_padded:
            raise ConversionError(f"{node.op_type} {node.output[0]!r} reads a binarized or padded "
                                  "tensor; daBNN binarizes and pads only inside convs")
        if name not in self.alias:
            raise ConversionError(f"{node.op_type} {node.output[0]!r} reads {name!r}, which no "
                                  "supported operator computes")
        return self.alias[name]

    def _new_name(self, wanted: str) -> str:
        name, count = wanted, 1
        while name in self.shapes or name in self.model.tensors:
            name, count = f"{wanted}_{count}", count + 1
        return name

    def _output(self, onnx_name: str, shape, rank: int = 4) -> str:
        name = self._new_name(onnx_name)
        self.alias[onnx_name], self.rank[onnx_name], self.shapes[name] = name, rank, tuple(shape)
        return name

    def _read_later(self, dab_name: str) -> bool:
        def reads(onnx_name: str) -> bool:
            marked = self.binarized.get(onnx_name) or self.zero_padded.get(onnx_name)
            return dab_name in (self.alias.get(onnx_name), self.flattened.get(onnx_name)) or (
                marked and marked.source == dab_name)

        later = (node for i, node in enumerate(self.graph.nodes[self.index + 1:], self.index + 1)
                 if i not in self.done)
        return any(reads(name) for node in later for name in node.input) or any(
            self.alias.get(name) == dab_name for name in self.graph.output_names)

    def _writable(self, dab_name: str) -> str:
        """`dab_name`, or a copy of it when a later layer still reads the original values."""
        if not self._read_later(dab_name):
            return dab_name
        copy = self._new_name(f"{dab_name}_copy")
        self.model.add_layer("AvePool", input=dab_name, kernel_shape=[1, 1], pads=[0, 0, 0, 0],
                             strides=[1, 1], output=copy)
        self.shapes[copy] = self.shapes[dab_name]
        return copy

    def _in_place(self, layer_type: str, source: str, onnx_output: str, **params) -> str:
        output = self._output(onnx_output, self.shapes[source])
        self.model.add_layer(layer_type, input=source, output=output, **params)
        return output

    def _affine(self, source: str, onnx_output: str, scale, shift) -> str:
        channels = self.shapes[source][2]
        a = self._constant(f"{onnx_output}_a", np.broadcast_to(scale, (channels,)))
        b = self._constant(f"{onnx_output}_b", np.broadcast_to(shift, (channels,)))
        return self._in_place("Affine", source, onnx_output, a=a, b=b)

    def _constant(self, wanted: str, values: np.ndarray) -> str:
        values = np.asarray(values, np.float32)
        return self.model.add_tensor(DabTensor(self._new_name(wanted), values.shape,
                                               floats=values.copy()))

    def _skip(self, indices) -> None:
        self.done.update(indices)

    # ---- binarization and padding (virtual: daBNN binarizes and pads inside BinConv2D)

    def _op_Sign(self, node) -> None:
        source = node.input[0]
        self.binarized[node.output[0]] = self.binarized.get(source) or _Binarized(
            self._float_input(source, node))

    def _op_Pad(self, node) -> None:
        pads, value = self._pad_arguments(node)
        if any(pads[i] for i in (0, 1, 4, 5)) or pads[2] != pads[6] or pads[3] != pads[7]:
            raise ConversionError(f"Pad {node.output[0]!r}: daBNN pads H and W symmetrically "
                                  f"only, got pads {pads}")
        source = node.input[0]
        if source in self.binarized:
            if value != -1:
                raise ConversionError(
                    f"Pad {node.output[0]!r} pads a binarized tensor with {value:g}; daBNN pads "
                    "binary convs with -1 only (pad with -1 before the conv)")
            marked = self.binarized[source]
            self.binarized[node.output[0]] = _Binarized(
                marked.source, marked.pad_h + pads[2], marked.pad_w + pads[3])
        elif value == 0 and source not in self.zero_padded:
            self.zero_padded[node.output[0]] = _Binarized(
                self._float_input(source, node), pads[2], pads[3])
        else:
            raise ConversionError(f"Pad {node.output[0]!r}: a float tensor can only be padded "
                                  "with 0, into a following Conv")

    def _pad_arguments(self, node) -> tuple[list[int], float]:
        if attribute(node, "mode", "constant") != "constant":
            raise ConversionError(f"Pad {node.output[0]!r}: only constant padding is supported")
        if self.graph.opset < 11:
            return list(attribute(node, "pads")), float(attribute(node, "value", 0.0))
        pads = self.graph.constants[node.input[1]].tolist()
        has_value = len(node.input) > 2 and node.input[2]
        return pads, float(self.graph.constants[node.input[2]]) if has_value else 0.0

    # ---- convolutions and the classifier

    def _conv_geometry(self, node) -> tuple[list[int], list[int]]:
        pads = list(attribute(node, "pads", [0, 0, 0, 0]))
        strides = list(attribute(node, "strides", [1, 1]))
        if attribute(node, "auto_pad", "NOTSET") != "NOTSET":
            raise ConversionError(f"Conv {node.output[0]!r}: auto_pad is not supported")
        if any(d != 1 for d in attribute(node, "dilations", [1, 1])):
            raise ConversionError(f"Conv {node.output[0]!r}: daBNN ignores dilations")
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise ConversionError(f"Conv {node.output[0]!r}: asymmetric pads {pads}")
        return pads[:2], strides

    def _op_Conv(self, node) -> None:
        pads, strides = self._conv_geometry(node)
        if node.input[1] not in self.graph.constants:
            raise ConversionError(f"Conv {node.output[0]!r}: weights must be constant")
        weights = self.graph.constants[node.input[1]].astype(np.float64)
        bias = self.graph.constants[node.input[2]] if len(node.input) > 2 and node.input[2] \
            else np.zeros(weights.shape[0])
        if node.input[0] in self.binarized:
            self._binary_conv(node, pads, strides, weights, bias)
        else:
            marked = self.zero_padded.get(node.input[0])
            source = marked.source if marked else self._float_input(node.input[0], node)
            if marked:
                pads = [pads[0] + marked.pad_h, pads[1] + marked.pad_w]
            self._float_conv(node, source, pads, strides, weights, bias)

    def _binary_conv(self, node, pads, strides, weights, bias) -> None:
        marked = self.binarized[node.input[0]]
        if any(pads):
            raise ConversionError(
                f"Conv {node.output[0]!r} pads its binarized input with 0; daBNN pads with -1 "
                "(put a Pad with value -1 between Sign and Conv)")
        alpha = _channel_magnitudes(weights)
        if alpha is None:
            raise ConversionError(f"Conv {node.output[0]!r} has a binarized input but weights "
                                  "that are not +/-alpha per output channel (binarize them "
                                  "with Sign, optionally times one scale per output channel)")
        weights = np.sign(weights)
        weights_ohwi = weights.transpose(0, 2, 3, 1)
        weight_name = self._new_name(f"{node.input[1]}_bin")
        self.model.add_tensor(DabTensor(weight_name, weights_ohwi.shape,
                                        bits=pack_weights(weights_ohwi),
                                        align_hwc_to_128=weights_ohwi.shape[3] != 64))
        out_channels = weights.shape[0]
        shape = self._conv_output_shape(marked.source, weights_ohwi.shape,
                                        [marked.pad_h, marked.pad_w], strides)
        mismatches = self._output(node.output[0] + "_mismatches", shape)
        self.model.add_layer("BinConv2D", input=marked.source, weight=weight_name,
                             pads=[marked.pad_h, marked.pad_w] * 2, strides=strides,
                             dilations=[1, 1], output=mismatches)
        chain = affine_chain.follow(self.graph, node.output[0], out_channels, 4,
                                    set(self.graph.output_names))
        self._skip(chain.node_indices)
        # conv(x, alpha * sign(W)) = alpha * conv(x, sign(W)), per output channel
        scale, shift = chain.scale * alpha, chain.shift + chain.scale * bias
        taps = int(np.prod(weights_ohwi.shape[1:]))
        self._affine(mismatches, chain.output, -2 * scale, shift + scale * taps)

    def _float_conv(self, node, source, pads, strides, weights, bias, rank=None) -> None:
        rank = rank or (4 if weights.ndim == 4 else 2)
        chain = affine_chain.follow(self.graph, node.output[0], weights.shape[0], rank,
                                    set(self.graph.output_names))
        self._skip(chain.node_indices)
        weights = weights * chain.scale.reshape(-1, *[1] * (weights.ndim - 1))
        bias = chain.scale * bias + chain.shift
        weights_ohwi = weights.transpose(0, 2, 3, 1) if weights.ndim == 4 \
            else weights[:, None, None, :]
        weight_name = self._constant(f"{node.input[1]}_ohwi", weights_ohwi)
        bias_name = self._constant(f"{node.input[1]}_bias", bias)
        shape = self._conv_output_shape(source, weights_ohwi.shape, pads, strides)
        output = self._output(chain.output, shape, rank)
        self.model.add_layer("FpConv2D", input=source, weight=weight_name, bias=bias_name,
                             pads=pads * 2, strides=strides, dilations=[1, 1], output=output)

    def _conv_output_shape(self, source, weight_shape, pads, strides):
        height, width, channels = self.shapes[source]
        if channels != weight_shape[3]:
            raise ConversionError(f"conv on {source!r}: {channels} channels, weights expect "
                                  f"{weight_shape[3]}")
        return ((height + 2 * pads[0] - weight_shape[1]) // strides[0] + 1,
                (width + 2 * pads[1] - weight_shape[2]) // strides[1] + 1, weight_shape[0])

    def _classifier(self, node, weights_out_in: np.ndarray, bias: np.ndarray) -> None:
        if node.input[0] in self.flattened:
            # a dense layer over a flattened H x W x C map is a conv with an H x W kernel; ONNX
            # flattens NCHW, so input feature c * H * W + h * W + w is weight [o, c, h, w]
            source = self.flattened[node.input[0]]
            height, width, channels = self.shapes[source]
            if weights_out_in.shape[1] != height * width * channels:
                raise ConversionError(f"{node.op_type} {node.output[0]!r}: "
                                      f"{weights_out_in.shape[1]} inputs, the flattened map has "
                                      f"{height * width * channels}")
            weights = weights_out_in.reshape(-1, channels, height, width)
            self._float_conv(node, source, [0, 0], [1, 1], weights, bias, rank=2)
            return
        source = self._float_input(node.input[0], node)
        if self.rank.get(node.input[0]) != 2 or self.shapes[source][:2] != (1, 1):
            raise ConversionError(f"{node.op_type} {node.output[0]!r}: daBNN has no FC layer; a "
                                  "classifier must follow global pooling and a flatten")
        self._float_conv(node, source, [0, 0], [1, 1], weights_out_in, bias)

    def _op_Gemm(self, node) -> None:
        if attribute(node, "transA", 0) or node.input[1] not in self.graph.constants:
            raise ConversionError(f"Gemm {node.output[0]!r}: needs constant weights, no transA")
        weights = self.graph.constants[node.input[1]].astype(np.float64)
        weights = weights if attribute(node, "transB", 0) else weights.T
        bias = self.graph.constants.get(node.input[2]) if len(node.input) > 2 else None
        bias = np.zeros(weights.shape[0]) if bias is None else np.broadcast_to(
            bias.reshape(-1), (weights.shape[0],))
        self._classifier(node, attribute(node, "alpha", 1.0) * weights,
                         attribute(node, "beta", 1.0) * bias)

    def _op_MatMul(self, node) -> None:
        if node.input[1] not in self.graph.constants:
            raise ConversionError(f"MatMul {node.output[0]!r}: needs constant weights")
        weights = self.graph.constants[node.input[1]].astype(np.float64).T
        self._classifier(node, weights, np.zeros(weights.shape[0]))

    # ---- pooling and reshapes

    def _pool(self, node, layer_type, kernel, pads, strides) -> None:
        source = self._float_input(node.input[0], node)
        height, width, channels = self.shapes[source]
        shape = ((height + 2 * pads[0] - kernel[0]) // strides[0] + 1,
                 (width + 2 * pads[1] - kernel[1]) // strides[1] + 1, channels)
        output = self._output(node.output[0], shape)
        self.model.add_layer(layer_type, input=source, kernel_shape=list(kernel),
                             pads=list(pads) * 2, strides=list(strides), output=output)

    def _local_pool(self, node, layer_type) -> None:
        pads = list(attribute(node, "pads", [0, 0, 0, 0]))
        if attribute(node, "ceil_mode", 0) or attribute(node, "auto_pad", "NOTSET") != "NOTSET" \
                or pads[0] != pads[2] or pads[1] != pads[3]:
            raise ConversionError(f"{node.op_type} {node.output[0]!r}: daBNN pools with floor "
                                  "rounding and symmetric explicit pads only")
        if layer_type == "AvePool" and any(pads):
            raise ConversionError(f"AveragePool {node.output[0]!r}: padded average pooling "
                                  "counts the padding differently per kernel in daBNN")
        self._pool(node, layer_type, attribute(node, "kernel_shape"), pads[:2],
                   attribute(node, "strides", [1, 1]))

    def _op_MaxPool(self, node) -> None:
        self._local_pool(node, "MaxPool")

    def _op_AveragePool(self, node) -> None:
        self._local_pool(node, "AvePool")

    def _op_GlobalAveragePool(self, node) -> None:
        height, width, _ = self.shapes[self._float_input(node.input[0], node)]
        self._pool(node, "AvePool", [height, width], [0, 0], [1, 1])

    def _op_ReduceMean(self, node) -> None:
        """x.mean((2, 3)) as PyTorch exports a global average: a fixed-kernel AvePool."""
        axes = attribute(node, "axes")
        if axes is None and len(node.input) > 1 and node.input[1] in self.graph.constants:
            axes = self.graph.constants[node.input[1]].tolist()  # opset >= 18
        if axes is None or sorted(axis % 4 for axis in axes) != [2, 3]:
            raise ConversionError(f"ReduceMean {node.output[0]!r}: daBNN averages over height "
                                  f"and width only (axes 2, 3), got axes {axes}")
        self._op_GlobalAveragePool(node)
        if not attribute(node, "keepdims", 1):
            self.rank[node.output[0]] = 2

    def _op_GlobalMaxPool(self, node) -> None:
        height, width, _ = self.shapes[self._float_input(node.input[0], node)]
        self._pool(node, "MaxPool", [height, width], [0, 0], [1, 1])

    def _op_Flatten(self, node) -> None:
        source = self._float_input(node.input[0], node)
        if self.shapes[source][:2] != (1, 1):
            self.flattened[node.output[0]] = source  # only a classifier may read it
            return
        self.alias[node.output[0]], self.rank[node.output[0]] = source, 2

    _op_Reshape = _op_Squeeze = _op_Flatten

    def _op_Identity(self, node) -> None:
        source = node.input[0]
        for marks in (self.binarized, self.zero_padded, self.flattened):
            if source in marks:
                marks[node.output[0]] = marks[source]
                return
        self.alias[node.output[0]] = self._float_input(source, node)
        self.rank[node.output[0]] = self.rank.get(source, 4)

    _op_Dropout = _op_Identity

    def _op_Softmax(self, node) -> None:
        if node.output[0] not in self.graph.output_names:
            raise ConversionError(f"Softmax {node.output[0]!r}: daBNN cannot run Softmax")
        self._op_Identity(node)
        self.notes.append("the final Softmax was dropped (daBNN cannot run it; top-1 is unchanged)")

    # ---- element-wise layers

    def _op_Relu(self, node) -> None:
        source = self._writable(self._float_input(node.input[0], node))
        self._in_place("Relu", source, node.output[0])

    def _op_LeakyRelu(self, node) -> None:
        self._prelu(node, np.array([attribute(node, "alpha", 0.01)]))

    def _op_PRelu(self, node) -> None:
        slope = self.graph.constants.get(node.input[1])
        channels = self.shapes[self._float_input(node.input[0], node)][2]
        per_channel = None if slope is None else affine_chain.per_channel(slope, channels, 4)
        if per_channel is None:
            raise ConversionError(f"PRelu {node.output[0]!r}: slope must be a constant scalar "
                                  "or per channel")
        self._prelu(node, per_channel if slope.size > 1 else slope.reshape(1))

    def _prelu(self, node, slope: np.ndarray) -> None:
        source = self._writable(self._float_input(node.input[0], node))
        self._in_place("PRelu", source, node.output[0],
                       slope=self._constant(f"{node.output[0]}_slope", slope))

    def _op_Clip(self, node) -> None:
        low, high = self._clip_bounds(node)
        source = self._float_input(node.input[0], node)
        consumers = self.graph.consumer_nodes(node.output[0])
        if low < 0 < high and consumers and node.output[0] not in self.graph.output_names and all(
                c.op_type == "Sign" for c in consumers):
            self.alias[node.output[0]] = source  # sign(clip(x)) == sign(x)
            return
        if low == 0 and high == np.inf:
            self._in_place("Relu", self._writable(source), node.output[0])
            return
        if not np.isfinite([low, high]).all():
            raise ConversionError(f"Clip {node.output[0]!r}: one-sided bounds other than "
                                  "[0, inf) are not expressible with daBNN layers")
        # clip(x, lo, hi) = hi - relu(hi - lo - relu(x - lo)), every step in place
        steps = [("Affine", 1.0, -low), ("Relu",), ("Affine", -1.0, high - low), ("Relu",),
                 ("Affine", -1.0, high)]
        current = self._writable(source)
        for number, step in enumerate(steps):
            onnx_name = node.output[0] if number == len(steps) - 1 else f"{node.output[0]}_step{number}"
            current = self._affine(current, onnx_name, step[1], step[2]) if step[0] == "Affine" \
                else self._in_place("Relu", current, onnx_name)

    def _clip_bounds(self, node) -> tuple[float, float]:
        if self.graph.opset < 11:
            return attribute(node, "min", -np.inf), attribute(node, "max", np.inf)
        bounds = [self.graph.constants.get(name) if name else None for name in node.input[1:3]]
        bounds += [None] * (2 - len(bounds))
        return (-np.inf if bounds[0] is None else float(bounds[0]),
                np.inf if bounds[1] is None else float(bounds[1]))

    def _op_BatchNormalization(self, node) -> None:
        scale, shift = affine_chain.batchnorm_affine(self.graph, node)
        self._affine(self._writable(self._float_input(node.input[0], node)), node.output[0],
                     scale, shift)

    def _op_Add(self, node) -> None:
        if any(name in self.graph.constants for name in node.input):
            self._constant_affine(node)
            return
        first, second = (self._float_input(name, node) for name in node.input)
        if self.shapes[first] != self.shapes[second]:
            raise ConversionError(f"Add {node.output[0]!r}: daBNN adds equal shapes only, got "
                                  f"{self.shapes[first]} and {self.shapes[second]}")
        if self._read_later(first) and not self._read_later(second):
            first, second = second, first
        first = self._writable(first)
        output = self._output(node.output[0], self.shapes[first])
        self.model.add_layer("Add", input1=first, input2=second, output=output)

    def _op_Neg(self, node) -> None:
        source = self._writable(self._float_input(node.input[0], node))
        self._affine(source, node.output[0], -1.0, 0.0)
        self.rank[node.output[0]] = self.rank.get(node.input[0], 4)

    def _op_Mul(self, node) -> None:
        self._constant_affine(node)

    _op_Sub = _op_Div = _op_Mul

    def _constant_affine(self, node) -> None:
        source_name = next((n for n in node.input if n not in self.graph.constants), None)
        if source_name is None:
            raise ConversionError(f"{node.op_type} {node.output[0]!r}: no activation input")
        source = self._float_input(source_name, node)
        rank = self.rank.get(source_name, 4)
        step = affine_chain.affine_step(self.graph, node, source_name, self.shapes[source][2], rank)
        if step is None:
            raise ConversionError(f"{node.op_type} {node.output[0]!r}: only per-channel "
                                  "constants can be applied (as an Affine layer)")
        self._affine(self._writable(source), node.output[0], *step)
        self.rank[node.output[0]] = rank

    def _op_Concat(self, node) -> None:
        if len(node.input) != 2 or attribute(node, "axis") != 1:
            raise ConversionError(f"Concat {node.output[0]!r}: daBNN concatenates exactly 2 "
                                  "inputs on the channel axis")
        first, second = (self._float_input(name, node) for name in node.input)
        (height, width, c1), (h2, w2, c2) = self.shapes[first], self.shapes[second]
        if (height, width) != (h2, w2):
            raise ConversionError(f"Concat {node.output[0]!r}: spatial shapes differ")
        output = self._output(node.output[0], (height, width, c1 + c2))
        self.model.add_layer("Concat", inputs=[first, second], axis=3, output=output)
