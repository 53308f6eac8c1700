"""Export a Keras/Larq functional model's deploy graph to ONNX (opset 10) in daBNN's strict form.

Binary convs become `Sign -> Pad(-1) -> Conv(Sign(weights)) -> BatchNormalization`, exactly the
pattern daBNN's own converter recognises, so the file also works with the original toolchain.
Larq pads binary convs with +1 (pad_values=1.0) where daBNN pads with -1: such convs read a
negated tensor with negated weights, which is exact (see `polarity`); the negation is folded into
the layers that produce the tensors, so the graph has no extra nodes. The layers are walked in
the model's order and dispatched by class: InputLayer, Conv2D, QuantConv2D, BatchNormalization,
Activation / ReLU / Hardtanh, Add, GlobalAveragePooling2D, MaxPooling2D, Flatten, Dense, Dropout,
ZeroPadding2D before 'valid' convs (symmetric padding; Larq binarizes its zeros to +1, so
before a binary conv it is +1 padding) and MaxPoolPadding2D (-inf) before 'valid' max pools.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bibench_deploy.dabnn import keras_layers
from bibench_deploy.dabnn.onnx_builder import OnnxBuilder
from bibench_deploy.dabnn.polarity import NEGATED, POSITIVE, Polarity
from bibench_deploy.errors import ConversionError

OPSET = 10
# Negation commutes with these, a per-channel constant scale included: -(a x) = a (-x).
# MaxPool does not; its output can be negated after it, max(x) = -min(-x) having no min pool.
_CHANNEL_SCALES = ("KernelScale", "ChannelScale")
_COMMUTING = ("Add", "GlobalAveragePooling2D", "Dropout", "Flatten", "ZeroPadding2D",
              *_CHANNEL_SCALES)
_POSITIVE_ONLY = ("MaxPooling2D",)
# Explicit padding that daBNN's convs (zeros) and max pools (-FLT_MAX) add themselves. -inf
# padding is the pool's own tensor (no node): it has the pool's input convention, positive.
_EXPLICIT_PADDING = ("ZeroPadding2D", "MaxPoolPadding2D")


def export_onnx(model, path: Path | None = None):
    """The `onnx.ModelProto` of `model` (a Keras functional model); written to `path` if given."""
    exporter = _KerasExporter(model)
    onnx_model = exporter.run()
    if path is not None:
        Path(path).write_bytes(onnx_model.SerializeToString())
    return onnx_model


class _KerasExporter:
    def __init__(self, model):
        self.model = model
        self.configs = model.get_config()["layers"]
        self.inbound = {c["name"]: [n[0] for node in c["inbound_nodes"] for n in node]
                        for c in self.configs}
        self.consumers = {c["name"]: [] for c in self.configs}
        for name, sources in self.inbound.items():
            for source in sources:
                self.consumers[source].append(name)
        self.polarity = Polarity()
        self.onnx = OnnxBuilder()
        self.folded_scale: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # tensor -> alpha, bias

    def layer(self, name: str):
        return self.model.get_layer(name)

    def kind(self, name: str) -> str:
        layer = self.layer(name)
        class_name = type(layer).__name__
        if class_name in ("Activation", "ReLU") or "tanh" in class_name.lower():
            return keras_layers.activation_kind(layer)
        return class_name

    def run(self):
        self._assign_polarity()
        for config in self.configs:
            handler = getattr(self, f"_emit_{type(self.layer(config['name'])).__name__}", None)
            kind = self.kind(config["name"])
            if kind in ("linear", "relu", "hardtanh"):
                handler = self._emit_activation
            if handler is None:
                raise ConversionError(f"layer {config['name']!r} ({config['class_name']}) has no "
                                      "daBNN export")
            handler(config["name"])
        return self.onnx.finish(list(self.model.output_names), OPSET)

    # ---- sign conventions

    def _assign_polarity(self) -> None:
        for config in self.configs:
            name, sources = config["name"], self.inbound[config["name"]]
            kind = self.kind(name)
            if kind in _COMMUTING or kind in ("linear", "hardtanh"):
                for source in sources:
                    self.polarity.join(name, source)
            if kind == "MaxPoolPadding2D":  # -(-inf) would be +inf: not commuting
                self.polarity.join(name, sources[0])
                self.polarity.require(name, POSITIVE, f"{kind} {name!r}")
            if kind in _POSITIVE_ONLY:  # its output is negated after it where need be
                self.polarity.require(sources[0], POSITIVE, f"{kind} {name!r}")
            if kind == "relu":  # exact zeros: ONNX's Sign(0) = 0 is no binarization, so the
                # output keeps the input's (positive) convention instead of a Neg after it
                self.polarity.join(name, sources[0])
                self.polarity.require(name, POSITIVE, f"{kind} {name!r}")
            if kind == "InputLayer":
                self.polarity.require(name, POSITIVE, "the model input")
            if kind == "QuantConv2D" and self._binary_input(name):
                pad_value = self._binary_pad_value(name)
                if pad_value is not None:
                    wanted = NEGATED if pad_value == 1 else POSITIVE
                    self.polarity.require(sources[0], wanted, f"{pad_value:+g}-padded {name!r}")
        for output in self.model.output_names:
            self.polarity.require(output, POSITIVE, "the model output")

    def _binary_input(self, name: str) -> bool:
        quantizer = self.layer(name).input_quantizer
        if quantizer is None:
            return False
        if not keras_layers.is_sign_quantizer(quantizer):
            raise ConversionError(f"{name!r}: input quantizer {quantizer!r} is not sign(x) at "
                                  "threshold 0 (daBNN binarizes at 0 without scaling)")
        return True

    def _binary_pad_value(self, name: str) -> float | None:
        """The value binary conv `name` pads its binarized input with; None without padding."""
        layer = self.layer(name)
        if layer.padding == "valid" and self._explicit_pads(name) == [0, 0]:
            return None
        if layer.padding == "valid":  # explicit zeros, binarized by the input quantizer
            value = float(np.asarray(layer.input_quantizer(np.zeros(1, np.float32)))[0])
        else:
            value = float(layer.pad_values)
        if value not in (1.0, -1.0):
            raise ConversionError(f"{name!r} pads its binarized input with {value:g}; "
                                  "daBNN can express padding with +1 or -1 only")
        return value

    # ---- layers

    def _input_shape(self, name: str) -> tuple:
        return tuple(self.layer(name).input_shape[1:])

    def _emit_InputLayer(self, name: str) -> None:
        height, width, channels = self.layer(name).output_shape[0][1:]
        self.onnx.add_input(name, [channels, height, width])

    def _explicit_pads(self, name: str) -> list[int]:
        """Symmetric pads of the ZeroPadding2D (before a conv) or MaxPoolPadding2D (before a
        max pool) that `name` reads, else [0, 0]."""
        source = self.layer(self.inbound[name][0])
        if type(source).__name__ not in _EXPLICIT_PADDING:
            return [0, 0]
        layer = self.layer(name)
        window = getattr(layer, "kernel_size", getattr(layer, "pool_size", None))
        return [keras_layers.explicit_pads(size, before, after, k, s, source.name)
                for size, (before, after), k, s in zip(
                    self._input_shape(source.name)[:2], source.padding, window, layer.strides)]

    def _emit_ZeroPadding2D(self, name: str) -> None:
        self._explicit_padding(name, ("Conv2D", "QuantConv2D"), "convs")

    def _emit_MaxPoolPadding2D(self, name: str) -> None:
        self._explicit_padding(name, ("MaxPooling2D",), "max pools")

    def _explicit_padding(self, name: str, readers: tuple[str, ...], what: str) -> None:
        """Padding that daBNN's conv or pool adds itself: no node, its consumers read the pads."""
        consumers = [type(self.layer(c)).__name__ for c in self.consumers[name]]
        if any(c not in readers or self.layer(n).padding != "valid"
               for c, n in zip(consumers, self.consumers[name])):
            raise ConversionError(f"{name!r}: explicit padding is exported only before 'valid' "
                                  f"{what}")
        self.onnx.rename(self.inbound[name][0], name)

    def _conv_pads(self, name: str) -> list[int]:
        layer = self.layer(name)
        if tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
            raise ConversionError(f"{name!r}: dilated or grouped convolution")
        if layer.padding == "valid":
            return self._explicit_pads(name)
        height, width = self._input_shape(name)[:2]
        return [keras_layers.same_pads(size, k, s, name) for size, k, s in
                zip((height, width), layer.kernel_size, layer.strides)]

    def _emit_Conv2D(self, name: str, kernel=None, alpha=None) -> None:
        layer, source = self.layer(name), self.inbound[name][0]
        if keras_layers.activation_kind(layer.activation) != "linear":
            raise ConversionError(f"{name!r}: fused activations are not exported")
        sign = self.polarity.of(name) * self.polarity.of(source)
        kernel = layer.kernel.numpy() if kernel is None else kernel
        bias = layer.bias.numpy() if layer.use_bias else np.zeros(kernel.shape[-1])
        weights = sign * kernel.transpose(3, 2, 0, 1)
        self.onnx.conv(source, weights, self.polarity.of(name) * bias, name,
                       self._conv_pads(name), list(layer.strides))

    def _emit_QuantConv2D(self, name: str) -> None:
        layer = self.layer(name)
        kernel = layer.kernel.numpy()
        if layer.kernel_quantizer is not None:
            signs, alpha = keras_layers.binary_kernel(layer.kernel_quantizer, kernel)
        if not self._binary_input(name):
            if layer.padding != "valid" and layer.pad_values != 0:
                raise ConversionError(f"{name!r}: a float input padded with {layer.pad_values:g}")
            quantized = kernel if layer.kernel_quantizer is None else signs * alpha
            return self._emit_Conv2D(name, kernel=quantized)
        if layer.kernel_quantizer is None:
            raise ConversionError(f"{name!r}: binarized input with real-valued weights")
        if keras_layers.activation_kind(layer.activation) != "linear":
            raise ConversionError(f"{name!r}: fused activations are not exported")
        source = self.inbound[name][0]
        out_polarity, in_polarity = self.polarity.of(name), self.polarity.of(source)
        pads = self._conv_pads(name) if self._binary_pad_value(name) is not None else [0, 0]
        weights = (in_polarity * out_polarity * signs).transpose(3, 2, 0, 1)
        conv = self.onnx.binary_conv(source, weights, f"{name}/binary", pads, list(layer.strides))
        bias = layer.bias.numpy() if layer.use_bias else np.zeros(len(alpha))
        output = name
        scale = self._kernel_scale_after(name)
        if scale is not None:  # a per-channel alpha after the conv joins the same Affine
            output, alpha = scale.name, alpha * scale.alpha.numpy()
        # stored output = polarity * (alpha * dot + bias) = alpha * conv + polarity * bias
        self._per_channel(conv, output, alpha, out_polarity * bias)

    def _kernel_scale_after(self, name: str):
        consumers = self.consumers[name]
        if len(consumers) == 1 and type(self.layer(consumers[0])).__name__ in _CHANNEL_SCALES:
            return self.layer(consumers[0])
        return None

    def _emit_KernelScale(self, name: str) -> None:
        """Emitted with the binary conv it follows (see `_emit_QuantConv2D`)."""
        if self._kernel_scale_after(self.inbound[name][0]) is None:
            raise ConversionError(f"{name!r}: a per-channel scale must follow a binary conv")

    _emit_ChannelScale = _emit_KernelScale

    def _per_channel(self, source: str, name: str, scale, shift) -> None:
        consumers = self.consumers[name]
        if len(consumers) == 1 and type(self.layer(consumers[0])).__name__ == "BatchNormalization":
            self.folded_scale[name] = (np.asarray(scale), np.asarray(shift))
            self.onnx.rename(source, name)
            return
        self.onnx.affine(source, np.asarray(scale), np.asarray(shift), name)

    def _emit_BatchNormalization(self, name: str) -> None:
        layer, source = self.layer(name), self.inbound[name][0]
        if list(np.atleast_1d(layer.axis)) not in ([3], [-1]):
            raise ConversionError(f"{name!r}: BatchNormalization must be over channels")
        channels = layer.moving_mean.shape[0]
        gamma = layer.gamma.numpy() if layer.scale else np.ones(channels)
        beta = layer.beta.numpy() if layer.center else np.zeros(channels)
        p_in, p_out = self.polarity.of(source), self.polarity.of(name)
        gamma, mean, beta = p_out * p_in * gamma, p_in * layer.moving_mean.numpy(), p_out * beta
        scale, shift = self.folded_scale.pop(source, (np.ones(channels), np.zeros(channels)))
        # BN(scale * c + shift) == BN'(c) with gamma * scale, (mean - shift) / scale
        self.onnx.batchnorm(source, gamma * scale, beta, (mean - shift) / scale,
                            layer.moving_variance.numpy(), float(layer.epsilon), name)

    def _emit_activation(self, name: str) -> None:
        kind, source = self.kind(name), self.inbound[name][0]
        if kind == "linear":
            self.onnx.rename(source, name)
        elif kind == "relu":
            self.onnx.node("Relu", [source], name)
        else:
            self.onnx.node("Clip", [source], name, min=-1.0, max=1.0)

    def _emit_Add(self, name: str) -> None:
        sources = self.inbound[name]
        current = sources[0]
        for index, source in enumerate(sources[1:], 1):
            output = name if index == len(sources) - 1 else f"{name}/{index}"
            current = self.onnx.node("Add", [current, source], output)

    def _emit_GlobalAveragePooling2D(self, name: str) -> None:
        if getattr(self.layer(name), "keepdims", False):
            raise ConversionError(f"{name!r}: keepdims is not exported")
        pooled = self.onnx.node("GlobalAveragePool", self.inbound[name], f"{name}/pool")
        self.onnx.node("Flatten", [pooled], name, axis=1)

    def _emit_MaxPooling2D(self, name: str) -> None:
        layer = self.layer(name)
        pads = self._explicit_pads(name) if layer.padding == "valid" else [
            keras_layers.same_pads(size, k, s, name) for size, k, s in
            zip(self._input_shape(name)[:2], layer.pool_size, layer.strides)]
        self._positive_only("MaxPool", self.inbound[name], name,
                            kernel_shape=list(layer.pool_size), strides=list(layer.strides),
                            pads=pads * 2)

    def _positive_only(self, op_type: str, inputs: list[str], name: str, **attributes) -> None:
        """An op that does not commute with negation, on its positive input; where its output
        is wanted negated (a +1-padded binary conv reads it), a Neg follows: max(x) = -min(-x)
        has no min pool in daBNN, so the sign is flipped once, after the op."""
        if self.polarity.of(name) == POSITIVE:
            self.onnx.node(op_type, inputs, name, **attributes)
            return
        positive = self.onnx.node(op_type, inputs, f"{name}/positive", **attributes)
        self.onnx.node("Neg", [positive], name)

    def _emit_Dense(self, name: str) -> None:
        layer, source = self.layer(name), self.inbound[name][0]
        activation = getattr(layer.activation, "__name__", "")
        if activation not in ("linear", "softmax"):
            raise ConversionError(f"{name!r}: Dense activation {activation!r} is not exported")
        sign = self.polarity.of(name) * self.polarity.of(source)
        kernel = layer.kernel.numpy()
        map_shape = self._input_shape(source) if type(self.layer(source)).__name__ == "Flatten" \
            else ()
        if len(map_shape) == 3:  # Keras flattens (h, w, c), ONNX's Flatten of NCHW (c, h, w)
            kernel = kernel.reshape(*map_shape, -1).transpose(2, 0, 1, 3).reshape(kernel.shape)
        weights = sign * kernel.T
        bias = self.polarity.of(name) * (layer.bias.numpy() if layer.use_bias
                                         else np.zeros(weights.shape[0]))
        logits = self.onnx.gemm(source, weights, bias,
                                name if activation == "linear" else f"{name}/logits")
        if activation == "softmax":
            self.onnx.node("Softmax", [logits], name, axis=1)

    def _emit_Dropout(self, name: str) -> None:
        self.onnx.rename(self.inbound[name][0], name)

    def _emit_Flatten(self, name: str) -> None:
        if len(self._input_shape(name)) == 1:
            self.onnx.rename(self.inbound[name][0], name)
            return
        consumers = [type(self.layer(c)).__name__ for c in self.consumers[name]]
        if consumers != ["Dense"]:
            raise ConversionError(f"{name!r}: a flattened spatial map is exported only into one "
                                  "Dense classifier (daBNN runs it as a conv over the map)")
        self.onnx.node("Flatten", self.inbound[name], name, axis=1)
