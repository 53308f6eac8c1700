"""Threshold centring: binary conv -> BatchNorm -> sign decisions made immune to float rounding.

In `bconv -> [per-channel scale] -> BatchNorm -> Hardtanh -> sign -> bconv` (the first conv of
every basic block) the sign only ever sees the integer levels of the binary conv: with +-1
inputs and weights the sum is one of K, K - 2, ..., -K (K = kh * kw * C_in), and per channel
the pre-sign value is the affine function a_c * level + d_c. The decision is therefore a
per-channel integer threshold. Training leaves some of these thresholds within 1e-6 of a level
(a value like 3e-6 that is "+1" in float64); TF, TFLite (which turns the sign into an integer
threshold computed in float32) and daBNN then disagree about that level's bit in every image
where it occurs, and the flips compound with depth. That is a rounding artefact of the trained
weights, not a conversion error, but it moved top-1 on 4 % of the audit batch for resnet18-fda.

Centring moves each such threshold, through the BatchNorm's beta, to the midpoint between the
two levels it separates (one level step outside the reachable range when every level falls on one
side). Every level keeps its bit, so in exact arithmetic the network computes the same function;
the nearest level now sits a full |a_c| (half a level step) away from zero, far beyond float32
rounding. The deploy graph is checked against the unmodified training graph in float64 after
centring, as before.

Only chains where the BatchNorm output reaches nothing but sign quantizers are touched: where a
value also feeds a residual add or a runtime scale (XNOR-Net's beta), the value matters, not only
its sign, and the graph is left as it is.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

# Larq quantizers whose forward pass is sign(x) with sign(0) = +1.
SIGN_QUANTIZERS = ("SteSign", "ApproxSign")
# Layers that multiply a conv output by a per-channel constant (`alpha`).
CHANNEL_SCALES = ("KernelScale", "ChannelScale")
# The exact constant that turns a +1-padded binary conv into a zero-padded one.
PADDING_CORRECTION = "PaddingCorrection"
# A threshold closer than this to a level (in level steps of 2) counts as a near tie in the summary.
NEAR_TIE = 1e-3


def centre_thresholds(model: Any) -> dict[str, Any]:
    """Centre every eligible threshold of `model` in place; return what was done."""
    import tensorflow as tf
    per_batchnorm = []
    for layer in model.layers:
        if not isinstance(layer, tf.keras.layers.BatchNormalization) or not layer.center:
            continue  # without beta there is nothing to move
        chain = _producer_chain(layer)
        if chain is None or not _feeds_only_signs(layer):
            continue
        per_batchnorm.append(_centre(layer, *chain))
    before = np.concatenate([b for b, _ in per_batchnorm]) if per_batchnorm else np.empty(0)
    after = np.concatenate([a for _, a in per_batchnorm]) if per_batchnorm else np.empty(0)
    return {"batchnorms": len(per_batchnorm), "channels": len(before),
            "near_ties_before": int(np.sum(before < NEAR_TIE)),
            "near_ties_after": int(np.sum(after < NEAR_TIE)),
            "nearest_level_before": float(before.min()) if len(before) else None,
            "nearest_level_after": float(after.min()) if len(after) else None}


def _single_inbound(layer: Any) -> Optional[Any]:
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        return None
    inbound = nodes[0].inbound_layers
    return inbound if not isinstance(inbound, list) else None


def _consumers(layer: Any) -> list[Any]:
    return [node.outbound_layer for node in layer._outbound_nodes]


def _producer_chain(batchnorm: Any) -> Optional[tuple[Any, list[Any]]]:
    """(binary conv, per-channel scale layers between it and the BatchNorm), or None.

    Zero padding (native, or +1 padding and a `PaddingCorrection`) leaves border sums of fewer
    terms; with an even C_in they have the parity of K, so the levels stay K, K - 2, ...
    """
    import larq as lq
    import tensorflow as tf
    scales, zero_padded = [], False
    layer = _single_inbound(batchnorm)
    while layer is not None and type(layer).__name__ in (*CHANNEL_SCALES, PADDING_CORRECTION):
        if len(_consumers(layer)) != 1:
            return None
        if type(layer).__name__ == PADDING_CORRECTION:
            zero_padded = True
        else:
            scales.append(layer)
        layer = _single_inbound(layer)
    if not isinstance(layer, lq.layers.QuantConv2D) or len(_consumers(layer)) != 1:
        return None
    if not _is_sign(layer.input_quantizer) or layer.groups != 1:
        return None
    zero_padded = zero_padded or (layer.padding == "same" and layer.pad_values == 0.0)
    if layer.padding == "same" and layer.pad_values not in (0.0, 1.0):
        return None
    if zero_padded and int(layer.kernel.shape[2]) % 2:
        return None  # odd C_in: border sums of fewer terms have the other parity
    if layer.kernel_quantizer is None:
        return None
    latent = getattr(layer.kernel, "latent_variable", layer.kernel)
    weights = np.asarray(layer.kernel_quantizer(tf.constant(np.asarray(latent))))
    if not np.all(np.abs(weights) == 1.0):
        return None
    return layer, scales


def _feeds_only_signs(batchnorm: Any) -> bool:
    consumers = _consumers(batchnorm)
    if len(consumers) != 1 or type(consumers[0]).__name__ != "Hardtanh":
        return False  # Hardtanh keeps the sign (and maps 0 to 0, whose sign is +1)
    return _all_sign_inputs(consumers[0])


def _all_sign_inputs(layer: Any) -> bool:
    import larq as lq
    import tensorflow as tf
    consumers = _consumers(layer)
    if not consumers:
        return False  # a model output: the value itself is observed
    for consumer in consumers:
        if isinstance(consumer, tf.keras.layers.ZeroPadding2D):
            if not _all_sign_inputs(consumer):  # padded zeros binarize to +1 either way
                return False
        elif not (isinstance(consumer, lq.layers.QuantConv2D)
                  and _is_sign(consumer.input_quantizer)):
            return False
    return True


def _is_sign(quantizer: Any) -> bool:
    return type(quantizer).__name__ in SIGN_QUANTIZERS


def _level_affine(batchnorm: Any, conv: Any, scales: list[Any]) -> tuple[np.ndarray, ...]:
    """(a, d, g, mean): per channel the pre-sign value is a * level + d, in float64."""
    scale = np.ones(conv.filters)
    for layer in scales:
        scale = scale * np.asarray(layer.alpha, dtype=np.float64)
    gamma = (np.asarray(batchnorm.gamma, dtype=np.float64) if batchnorm.scale
             else np.ones(conv.filters))
    beta = np.asarray(batchnorm.beta, dtype=np.float64)
    mean = np.asarray(batchnorm.moving_mean, dtype=np.float64)
    var = np.asarray(batchnorm.moving_variance, dtype=np.float64)
    g = gamma / np.sqrt(var + batchnorm.epsilon)
    return scale * g, beta - mean * g, g, mean


def _nearest_level(a: np.ndarray, d: np.ndarray, reachable: np.ndarray) -> np.ndarray:
    """Per channel with a threshold: min over levels of |a * level + d| / (2 |a|)."""
    live = a != 0.0
    values = np.abs(a[live, None] * reachable[None, :] + d[live, None]).min(axis=1)
    return values / (2 * np.abs(a[live]))


def _centre(batchnorm: Any, conv: Any, scales: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Move beta so each channel's threshold sits halfway between two levels.

    Returns, per centred channel, how close its threshold is to a level before and after
    (`_nearest_level`, in level steps of 2; after centring 0.5, up to the float32 rounding of
    the stored beta).
    """
    kh, kw, c_in, _ = conv.kernel.shape
    levels = int(kh) * int(kw) * int(c_in)           # K; the sums are K - 2j, j = 0..K
    reachable = np.arange(-levels, levels + 1, 2)
    a, d, g, mean = _level_affine(batchnorm, conv, scales)
    new_beta = np.asarray(batchnorm.beta, dtype=np.float64).copy()
    for c in range(len(a)):
        if a[c] == 0.0:
            continue  # a constant bit: no threshold
        threshold = -d[c] / a[c]
        if a[c] > 0:   # bit = level >= threshold: the lowest level that is +1
            first_on = levels - 2 * np.floor((levels - threshold) / 2)
            centred = min(max(first_on, -levels), levels + 2) - 1
        else:          # bit = level <= threshold: the highest level that is +1
            last_on = levels - 2 * np.ceil((levels - threshold) / 2)
            centred = max(min(last_on, levels), -levels - 2) + 1
        new_beta[c] = -a[c] * centred + mean[c] * g[c]
    before = _nearest_level(a, d, reachable)
    batchnorm.beta.assign(new_beta.astype(batchnorm.beta.dtype.as_numpy_dtype))
    a, d, _, _ = _level_affine(batchnorm, conv, scales)
    return before, _nearest_level(a, d, reachable)
