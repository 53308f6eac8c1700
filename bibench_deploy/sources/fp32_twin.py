"""The FP32 twin of a Larq model: the same architecture with every quantizer removed.

Every Larq quantized layer keeps its class and weights; its quantizer arguments become None, so
it computes in float (a `QuantConv2D` without quantizers is a `Conv2D`). `pad_values` goes back
to 0 (a float conv pads with zeros). Weights are carried over one to one, in order: a quantizer
that owned weights (which would change the weight list) is refused rather than guessed around.
"""

from __future__ import annotations

from typing import Any

from bibench_deploy.errors import ConversionError

QUANTIZER_KEYS = ("input_quantizer", "kernel_quantizer", "depthwise_quantizer",
                  "pointwise_quantizer")


def quantizer_name(value: Any) -> str:
    """'ste_sign', {'class_name': 'SteSign', ...} or a function's {'class_name': 'function',
    'config': 'xnor_weight_scale'} -> a readable quantizer name."""
    if isinstance(value, dict):
        if value.get("class_name") == "function":
            return str(value.get("config"))
        return str(value.get("class_name", value))
    return str(value)


def _strip_layers(layers: list[dict[str, Any]], removed: list[dict[str, str]]) -> None:
    for layer in layers:
        config = layer.get("config", {})
        if "layers" in config:  # a nested model
            _strip_layers(config["layers"], removed)
        for key in QUANTIZER_KEYS:
            if config.get(key) is not None:
                removed.append({"layer": config.get("name", "?"), "argument": key,
                                "quantizer": quantizer_name(config[key])})
                config[key] = None
        if "pad_values" in config:
            config["pad_values"] = 0.0


def removed_summary(removed: list[dict[str, str]]) -> str:
    """'26 quantizers removed from 13 layers: input_quantizer SteSign x13, ...'."""
    if not removed:
        return "no quantizers to remove: the model is already full precision"
    counts: dict[str, int] = {}
    for entry in removed:
        key = f"{entry['argument']} {entry['quantizer']}"
        counts[key] = counts.get(key, 0) + 1
    layers = len({entry["layer"] for entry in removed})
    return (f"{len(removed)} quantizers removed from {layers} layers: "
            + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))


def fp32_twin(model: Any) -> tuple[Any, list[dict[str, str]]]:
    """(twin model with the source's weights, the quantizers removed)."""
    import tensorflow as tf
    config = model.get_config()
    removed: list[dict[str, str]] = []
    _strip_layers(config["layers"], removed)
    rebuild = (tf.keras.Sequential.from_config if isinstance(model, tf.keras.Sequential)
               else tf.keras.Model.from_config)
    twin = rebuild(config)
    weights = model.get_weights()
    shapes = [tuple(w.shape) for w in twin.get_weights()]
    if shapes != [tuple(w.shape) for w in weights]:
        raise ConversionError(
            f"{model.name}: removing the quantizers changes the model's weights (quantizers "
            "with weights of their own); give the FP32 baseline with --fp32 FILE or --fp32 none")
    twin.set_weights(weights)
    return twin, removed
