"""Which float values set the rounding error of a binarized input: shared by the LCE verdict
(`lce.verdict`) and the `.dab` verdict (`dabnn.verdict`).

A float32 engine rounds each operation relative to the size of the values it combines, not of
its result. A binarized input x is often clip(s, -1, 1) of a residual sum s = a + b: at a
position where s is near 0, a and b may be ~200 each (an untrained network's random BatchNorm
statistics, a deep network's residual stream), and x then carries their rounding, one ulp of
200 = 1.5e-5, while max |x| is 1. A near-tie bound taken relative to the clipped tensor alone is
then narrower than the rounding it must cover.

`operand_tensors(layer)` walks from the input of a layer whose input is binarized back through
layers that only clip, pad or select values (they round nothing) to the operation that formed
them, and returns that operation's output and, for an addition, its operands. The verdicts take
their bound relative to the largest magnitude among these and the binarized input itself.
"""

from __future__ import annotations

from typing import Any

# layers whose outputs are some of their inputs' values, clipped, or padding constants
EXACT_LAYERS = ("Hardtanh", "ZeroPadding2D", "MaxPoolPadding2D", "MaxPooling2D", "MaxPool2D",
                "Dropout")
SUM_LAYERS = ("Add",)


def _producer(tensor: Any) -> Any:
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history.layer


def operand_tensors(layer: Any) -> list[Any]:
    """Symbolic tensors whose magnitudes set the rounding of `layer`'s input (see module doc);
    empty when the graph cannot be followed (a shared layer, a model input)."""
    try:
        tensor = layer.input
        producer = _producer(tensor)
        while producer is not None and type(producer).__name__ in EXACT_LAYERS:
            tensor = producer.input
            producer = _producer(tensor)
    except (AttributeError, ValueError):  # a layer called more than once has no single input
        return []
    if (producer is None or isinstance(tensor, (list, tuple))
            or type(producer).__name__ == "InputLayer"):  # a model input is rounded by nothing
        return []
    if type(producer).__name__ in SUM_LAYERS:
        return [tensor, *producer.input]
    return [tensor]


class OperandScales:
    """Per layer of `layers` (of `model`), per sample: the largest |value| among its
    `operand_tensors` (0 where there are none). Builds its probe model once."""

    def __init__(self, model: Any, layers: list[Any]):
        import tensorflow as tf
        self.groups = [operand_tensors(layer) for layer in layers]
        flat = [t for group in self.groups for t in group]
        self.probe = tf.keras.Model(model.inputs, flat) if flat else None

    def __call__(self, x: Any) -> list[Any]:
        """numpy arrays of shape (batch,), one per layer."""
        import numpy as np
        batch = int(np.shape(x)[0])
        if self.probe is None:
            return [np.zeros(batch) for _ in self.groups]
        values = self.probe(x, training=False)
        values = values if isinstance(values, (list, tuple)) else [values]
        maxima = [np.abs(np.asarray(v)).reshape(batch, -1).max(axis=1) for v in values]
        scales, start = [], 0
        for group in self.groups:
            part = maxima[start:start + len(group)]
            scales.append(np.max(part, axis=0) if part else np.zeros(batch))
            start += len(group)
        return scales


def operand_scales(model: Any, layers: list[Any], x: Any) -> list[Any]:
    """`OperandScales(model, layers)(x)`."""
    return OperandScales(model, layers)(x)
