"""Untrained builds (`--epochs 0`): every parameter gets a non-identity value drawn from the seed.

At initialisation an algorithm's learnable parts are identities: XNOR-Net++'s Gamma is all ones,
ReActNet's thresholds and every BatchNorm shift are zero, BatchNorm sits at mean 0, variance 1.
The LCE converter folds identities away (a multiply by one, an add of zero), so an untrained
flatbuffer would be another algorithm's graph (an untrained XNOR-Net++ is BNN's) and its latency
would not measure the algorithm. Training moves every such value; an untrained build draws them:

- BatchNorm: gamma ~ U(0.5, 1.5), beta ~ N(0, 0.5), moving mean ~ N(0, 2), moving variance
  ~ U(0.5, 4) (this also moves the sign thresholds off the integer levels of the binary convs,
  where float rounding would decide bits);
- every other trainable weight whose initial value is one constant c (scales, thresholds,
  biases): c * U(0.5, 1.5) when c != 0, N(0, 0.5) when c = 0.

Weights that start random (conv and dense kernels, ReCU's alpha) keep their seeded initial
values; non-trainable state (schedules, derived scales) is left alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SHIFT_STD = 0.5          # zero-initialised shifts, thresholds, biases
SCALE_RANGE = (0.5, 1.5)  # factor on constant non-zero scales (ones)


def randomize_untrained(model: Any, seed: int) -> dict[str, Any]:
    """Draw non-identity values for `model` in place (reproducible from `seed`); say what moved."""
    rng = np.random.default_rng(seed)
    batchnorms = randomize_batchnorm(model, rng)
    weights = randomize_constant_weights(model, rng)
    return {"seed": seed, "batchnorms": batchnorms, "constant_weights": weights}


_BATCHNORM_DRAWS = {"gamma": lambda rng, shape: rng.uniform(*SCALE_RANGE, shape),
                    "beta": lambda rng, shape: rng.normal(0, SHIFT_STD, shape),
                    "moving_mean": lambda rng, shape: rng.normal(0, 2.0, shape),
                    "moving_variance": lambda rng, shape: rng.uniform(0.5, 4.0, shape)}


def randomize_batchnorm(model: Any, rng: np.random.Generator) -> int:
    """Random gamma, beta and statistics for every BatchNormalization (also those without gamma
    or beta, e.g. QuickNet's); return how many."""
    import tensorflow as tf
    count = 0
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            layer.set_weights([_BATCHNORM_DRAWS[w.name.split("/")[-1].split(":")[0]](rng, w.shape)
                               for w in layer.weights])
            count += 1
    return count


def randomize_constant_weights(model: Any, rng: np.random.Generator) -> list[str]:
    """Every trainable non-BatchNorm weight holding one constant gets a random value around it."""
    import tensorflow as tf
    moved = []
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            continue
        for weight in layer.trainable_weights:
            value = np.asarray(weight)
            if value.size == 0 or not np.all(value == value.flat[0]):
                continue
            weight.assign(_around(float(value.flat[0]), value.shape, rng).astype(value.dtype))
            moved.append(weight.name)
    return moved


def _around(constant: float, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if constant == 0.0:
        return rng.normal(0.0, SHIFT_STD, shape)
    return constant * rng.uniform(*SCALE_RANGE, shape)


def twin_with_random_batchnorm(model: Any) -> Any:
    """`model`'s twin: same weights, BatchNorm statistics drawn once more (seed 0)."""
    import tensorflow as tf
    twin = tf.keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    randomize_batchnorm(twin, np.random.default_rng(0))
    return twin
