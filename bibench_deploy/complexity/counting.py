"""Per-layer MAC and parameter counting (see the package docstring for the convention)."""

from __future__ import annotations

from math import prod
from typing import Any

# Layer classes that cost nothing by the convention.
FREE_LAYERS = frozenset({
    "InputLayer", "Activation", "ReLU", "Add", "GlobalAveragePooling2D",
    "MaxPooling2D", "AveragePooling2D", "ZeroPadding2D", "Flatten", "Reshape", "Dropout", "QuantizerLayer",
    "MaxPoolPadding2D",  # -inf padding in front of a max pool (ResNet's ImageNet stem)
    "Hardtanh", "KernelScale",  # KernelScale: per-channel, folds into the binary conv
})
CONV_LAYERS = frozenset({"Conv2D", "QuantConv2D"})
DENSE_LAYERS = frozenset({"Dense", "QuantDense"})
BATCHNORM = "BatchNormalization"
# Producers a BatchNorm folds into (its per-channel affine becomes their output multiplier and
# bias; a per-channel constant scale folds on into the conv before it). After anything else
# (XNOR-Net's runtime beta, XNOR-Net++'s [H, W, C] Gamma, a max pool) it stays a MUL and an ADD.
BATCHNORM_FOLDS_INTO = CONV_LAYERS | DENSE_LAYERS | {"KernelScale", "ChannelScale"}
# Weights the convention leaves out (they are in larq's `lq.models.summary`): statistics-based
# scales, i.e. KernelScale's alpha = mean|W| (derived from the binary weights).
DERIVED_SCALES = frozenset({"KernelScale"})
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


def _producer_type(layer: Any) -> str:
    nodes = layer._inbound_nodes
    inbound = nodes[0].inbound_layers if len(nodes) == 1 else None
    return type(inbound).__name__ if inbound is not None and not isinstance(inbound, list) else ""


def _weight_count(layer: Any) -> int:
    return int(sum(prod(w.shape) for w in layer.weights))


def count_layer(layer: Any) -> dict[str, Any]:
    cls = type(layer).__name__
    entry = {"name": layer.name, "type": cls, "kind": "free", "macs": 0, "bops": 0,
             "flops": 0, "binary_params": 0, "fp_params": 0, "batchnorm_params": 0,
             "derived_scale_params": 0}
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
        entry.update(kind="extra", flops=int(layer.extra_flops()), fp_params=_weight_count(layer))
    elif cls == BATCHNORM:
        entry["batchnorm_params"] = 2 * int(layer.moving_mean.shape[0])  # folded scale, shift
        if _producer_type(layer) not in BATCHNORM_FOLDS_INTO:
            entry.update(kind="unfolded_batchnorm", flops=2 * prod(_shape(layer.output_shape)))
    elif cls in DERIVED_SCALES:
        entry["derived_scale_params"] = _weight_count(layer)
    elif not _is_free(layer):
        entry["kind"] = "uncounted"
    return entry


def count_model(model: Any) -> dict[str, Any]:
    layers = [count_layer(layer) for layer in model.layers]
    totals = {k: sum(e[k] for e in layers) for k in ("bops", "flops", "binary_params", "fp_params",
                                                      "batchnorm_params", "derived_scale_params")}
    totals["binary_macs"] = totals["bops"]
    for kind in ("float", "extra", "unfolded_batchnorm"):
        key = "mac_flops" if kind == "float" else f"{kind}_flops"
        totals[key] = sum(e["flops"] for e in layers if e["kind"] == kind)
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
    totals["fp32_batchnorm_params"] = fp32["totals"]["batchnorm_params"]
    all_fp32 = totals["fp32_params"] + totals["fp32_batchnorm_params"]
    all_binary = (totals["params_equiv"] + totals["batchnorm_params"]
                  + totals["derived_scale_params"])
    totals["r_c_all_params"] = all_fp32 / all_binary if all_binary else None
    return {**binary, "totals": totals,
            "uncounted": sorted(set(binary["uncounted"]) | set(fp32["uncounted"]))}
