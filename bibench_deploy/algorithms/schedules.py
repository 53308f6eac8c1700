"""Per-epoch schedules, run as Keras callbacks before each epoch (epoch e = 0 .. E-1 of E)."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator

RECU_TAU_MIN, RECU_TAU_MAX = 0.85, 0.99


def recu_tau(epoch: int, epochs: int) -> float:
    """tau(e) = A exp(e / E) + B, A = (0.99 - 0.85) / (e - 1), B = 0.85 - A: 0.85 -> 0.99."""
    a = (RECU_TAU_MAX - RECU_TAU_MIN) / (math.e - 1.0)
    return a * math.exp(epoch / epochs) + RECU_TAU_MIN - a


def fda_terms(epoch: int, epochs: int) -> int:
    """n(e) = 9 + floor(e / E * 9): the Fourier estimator sums terms i = 0 .. n."""
    return 9 + int(epoch / epochs * 9)


def fda_noise_weight(epoch: int, epochs: int) -> float:
    """lambda(e) = 0.05 (1 + cos(pi (e + 1) / E)): 0 in the last epoch."""
    return 0.05 * (1.0 + math.cos(math.pi * (epoch + 1) / epochs))


def quantizers(model: Any, cls: type) -> Iterator[Any]:
    """Every input or kernel quantizer of `model`'s layers that is an instance of `cls`."""
    for layer in model.layers:
        for attr in ("input_quantizer", "kernel_quantizer"):
            quantizer = getattr(layer, attr, None)
            quantizer = getattr(quantizer, "quantizer", quantizer)  # inside a PaddedInput
            if isinstance(quantizer, cls):
                yield quantizer


def epoch_callback(apply: Callable[[Any, int], None]) -> Any:
    """A Keras callback calling `apply(model, epoch)` at the beginning of every epoch."""
    import tensorflow as tf

    class EpochSchedule(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            apply(self.model, epoch)

    return EpochSchedule()
