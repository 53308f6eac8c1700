"""Per-layer MAC and parameter counting (see the package docstring for the convention)."""

from __future__ import annotations

from math import prod
from typing import Any

# Layer classes that cost nothing by the convention.
FREE_LAYERS = frozenset({
    "InputLayer", "BatchNormalization", "Activation", "ReLU", "Add", "GlobalAveragePooling2D",
    "MaxPooling2D", "AveragePooling2D", "ZeroPadding2D", "Flatten", "Reshape", "Dropout", "QuantizerLayer",
    "Hardtanh", "KernelScale",  # KernelScale: per-channel, folds into the binary conv
})
CONV_LAYERS = frozenset({"Conv2D", "QuantConv2D"})
DENSE_LAYERS = frozenset({"Dense", "QuantDense"})
DEPTHWISE_LAYERS = frozenset({"DepthwiseConv2D", "QuantDepthwiseConv2D"})
# TensorFlow ops a functional model records as TFOpLambda layers (`x + y`) that count zero.
FREE_TF_OPS = frozenset({"__operators__.add", "math.add", "nn.relu"})


def _precision(quantizer: Any) -> int:
    return getattr(quantizer, "precision", 32) if quantizer is not None else 32


def is_binarized(layer: Any) -> bool:
    """Both operands are binary: the MACs are BOPs."""
    kernel = getattr(layer, "kernel_quantizer", getattr(layer, "depthwise_quantizer", None))
    return _precision(getattr(layer, "input_quantizer", None)) == 1 and _precision(kernel) == 1


def _is_free(layer: Any) -> bool:
    cls = type(layer).__name__
    return cls in FREE_LAYERS or (cls == "TFOpLambda"
                                  and getattr(layer, "symbol", None) in FREE_TF_OPS)


def _shape(shape: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in shape[1:])


def count_layer(layer: Any) -> dict[str, Any]:
    cls = type(layer).__name__
    entry = {"name": layer.name, "type": cls, "kind": "free", "macs": 0, "bops": 0,
             "flops": 0, "binary_params": 0, "fp_params": 0}
    if cls in CONV_LAYERS or cls in DENSE_LAYERS or cls in DEPTHWISE_LAYERS:
        kernel = (layer.depthwise_kernel if cls in DEPTHWISE_LAYERS else layer.kernel).shape
        out = _shape(layer.output_shape)
        macs = prod(out[:-1]) * prod(kernel)  # out positions * (kh*kw*cin*cout or cin*cout)
        bias = int(layer.bias.shape[0]) if getattr(layer, "bias", None) is not None else 0
        binary = is_binarized(layer)
        entry.update(kind="binary" if binary else "float", macs=macs,
                     bops=macs if binary else 0, flops=0 if binary else macs,
                     binary_params=prod(kernel) if binary else 0,
                     fp_params=bias + (0 if binary else prod(kernel)))
    elif hasattr(layer, "extra_flops"):
        entry.update(kind="extra", flops=int(layer.extra_flops()),
                     fp_params=int(sum(prod(w.shape) for w in layer.weights)))
    elif not _is_free(layer):
        entry["kind"] = "uncounted"
    return entry


def count_model(model: Any) -> dict[str, Any]:
    layers = [count_layer(layer) for layer in model.layers]
    totals = {k: sum(e[k] for e in layers) for k in ("bops", "flops", "binary_params", "fp_params")}
    totals["binary_macs"] = totals["bops"]
    totals["mac_flops"] = sum(e["flops"] for e in layers if e["kind"] == "float")
    totals["extra_flops"] = sum(e["flops"] for e in layers if e["kind"] == "extra")
    totals["ops"] = totals["bops"] / 64 + totals["flops"]
    totals["params_equiv"] = totals["binary_params"] / 32 + totals["fp_params"]
    uncounted = [f"{e['name']} ({e['type']})" for e in layers if e["kind"] == "uncounted"]
    return {"layers": layers, "totals": totals, "uncounted": uncounted}


def compare_to_fp32(binary: dict[str, Any], fp32: dict[str, Any]) -> dict[str, Any]:
    """Add the FP32 model's totals and r_s, r_c to the binarized model's counts."""
    totals = dict(binary["totals"])
    totals["fp32_flops"] = fp32["totals"]["flops"]
    totals["fp32_params"] = fp32["totals"]["fp_params"]
    totals["r_s"] = totals["fp32_flops"] / totals["ops"] if totals["ops"] else None
    totals["r_c"] = (totals["fp32_params"] / totals["params_equiv"]
                     if totals["params_equiv"] else None)
    return {**binary, "totals": totals,
            "uncounted": sorted(set(binary["uncounted"]) | set(fp32["uncounted"]))}
