"""VGG-Small (LQ-Nets / BiBench CIFAR form): FP first conv, five binarized 3x3 convs."""

from __future__ import annotations

from typing import Any

from bibench_deploy.algorithms.base import Algorithm
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.architectures.base import Architecture, batch_norm, conv_bn

# (filters, max-pool after the conv)
_BINARY_CONVS = ((128, True), (256, False), (256, True), (512, False), (512, True))


def vgg_small_body(x: Any, algo: Algorithm, deploy: bool) -> Any:
    import tensorflow as tf
    x = algo.activation(conv_bn(x, 128, 3, 1, "stem"), "stem_act")
    for i, (filters, pool) in enumerate(_BINARY_CONVS, start=1):
        x = algo.binary_conv(x, filters, 3, 1, f"conv{i}", deploy)
        if pool:
            x = tf.keras.layers.MaxPool2D(2, name=f"conv{i}_pool")(x)
        x = algo.activation(batch_norm(x, f"conv{i}_bn"), f"conv{i}_act")
    return tf.keras.layers.Flatten(name="flatten")(x)


ARCHITECTURES.register("vgg_small", Architecture(
    "vgg_small", "VGG-Small (128-128-256-256-512-512), 32x32", 32, vgg_small_body))
