"""Small Keras layers shared by algorithms and architectures, serialisable by registered name."""

from __future__ import annotations

from typing import Any


def hardtanh(x: Any, name: str) -> Any:
    """clip(x, -1, 1), BiBench's activation."""
    return _layer_classes()["Hardtanh"](name=name)(x)


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
