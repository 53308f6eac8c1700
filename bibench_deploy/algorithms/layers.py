"""Small Keras layers shared by algorithms and architectures, serialisable by registered name."""

from __future__ import annotations

from typing import Any


def hardtanh(x: Any, name: str) -> Any:
    """clip(x, -1, 1), BiBench's activation."""
    return _layer_classes()["Hardtanh"](name=name)(x)


def symmetric_padding(x: Any, kernel_size: int, strides: int, name: str) -> tuple[Any, str]:
    """Pad like PyTorch's `padding=k//2` (BiBench) where TF's "same" would pad asymmetrically.

    With stride 2 on an even input TF pads 0 before and 1 after, which shifts the sampling grid
    by one pixel against the 1x1 shortcut and cannot be expressed in daBNN. Zeros become +1 after
    binarisation, the same value as LCE's same-one padding. Returns (tensor, conv padding).
    Only for binary convs: LCE 0.16 converts ZeroPadding2D -> QuantConv2D(valid) correctly
    (PAD + LceBconv2d) but fuses ZeroPadding2D -> float Conv2D(valid, stride 2) into a SAME
    CONV_2D, which computes something else.
    """
    if strides == 1:
        return x, "same"
    import tensorflow as tf
    return tf.keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x), "valid"


_CLASSES: dict[str, Any] = {}


def _layer_classes() -> dict[str, Any]:
    """Define the layer classes on first use, so importing this module does not import TF."""
    if _CLASSES:
        return _CLASSES
    import tensorflow as tf

    @tf.keras.utils.register_keras_serializable(package="bibench")
    class Hardtanh(tf.keras.layers.Layer):
        def call(self, inputs):
            return tf.clip_by_value(inputs, -1.0, 1.0)

    _CLASSES["Hardtanh"] = Hardtanh
    return _CLASSES


def custom_objects() -> dict[str, Any]:
    """Everything needed to reload a saved model (registered objects load by name anyway)."""
    return dict(_layer_classes())
