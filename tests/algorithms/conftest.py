"""A tiny network around any algorithm's binary conv, and helpers to give it non-trivial state."""

from __future__ import annotations

import numpy as np
import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.architectures.base import Architecture, batch_norm, conv_bn

TINY_SIZE = 16


def tiny_body(x, algo, deploy):
    """FP stem, two binarized convs (the second strided), BatchNorm after each."""
    import tensorflow as tf
    x = algo.activation(conv_bn(x, 16, 3, 1, "stem"), "stem_act")
    x = algo.binary_conv(x, 16, 3, 1, "conv1", deploy)
    x = algo.activation(batch_norm(x, "conv1_bn"), "conv1_act")
    x = algo.binary_conv(x, 32, 3, 2, "conv2", deploy)
    x = batch_norm(x, "conv2_bn")
    return tf.keras.layers.GlobalAveragePooling2D(name="pool")(x)


TINY = Architecture("tiny", "test network", TINY_SIZE, tiny_body)


def perturb(model, seed: int = 0) -> None:
    """Random BatchNorm statistics and learnable scales/thresholds, as after training.

    Untrained, every pre-activation count of 0 sits exactly on the sign's threshold, where float
    rounding (alpha * count summed in any order) decides the bit; trained models never do.
    """
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        short = weight.name.split("/")[-1].split(":")[0]
        shape = tuple(weight.shape)
        if short in ("moving_mean", "beta", "threshold"):
            weight.assign(0.3 * rng.normal(size=shape).astype("float32"))
        elif short in ("moving_variance", "gamma", "alpha", "h_scale", "w_scale", "o_scale"):
            weight.assign(rng.uniform(0.5, 1.5, size=shape).astype("float32"))


def images(n: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, TINY_SIZE, TINY_SIZE, 3)).astype("float32")


@pytest.fixture(params=ALGORITHMS.names())
def algo(request):
    return ALGORITHMS.get(request.param)
