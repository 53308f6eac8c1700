"""The deploy graph: the algorithm's inference operator, carrying the trained weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from bibench_deploy.algorithms.base import Algorithm
from bibench_deploy.architectures.base import Architecture
from bibench_deploy.errors import ConversionError


def transfer_weights(source: Any, target: Any) -> list[str]:
    """Copy weights layer by layer, matched by layer and weight name; return dropped layers.

    Layers that exist only in the training form (e.g. noise-adaptation modules) are dropped;
    a deploy layer or weight without a trained counterpart is an error. Dtypes may differ (the
    float64 reference model takes the float32 trained weights).
    """
    import tensorflow as tf
    source_layers = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        if not layer.weights:
            continue
        if layer.name not in source_layers:
            raise ConversionError(f"deploy layer {layer.name!r} has no trained counterpart")
        trained = {_short(w.name): w for w in source_layers[layer.name].weights}
        for weight in layer.weights:
            match = trained.get(_short(weight.name))
            if match is None or tuple(match.shape) != tuple(weight.shape):
                raise ConversionError(f"deploy weight {weight.name!r} has no trained "
                                      f"counterpart of shape {tuple(weight.shape)}")
            weight.assign(tf.cast(match, weight.dtype))
    target_names = {layer.name for layer in target.layers}
    return sorted(n for n, l in source_layers.items() if l.weights and n not in target_names)


def _short(weight_name: str) -> str:
    """'stage1_block1_conv1/kernel:0' -> 'kernel'."""
    return weight_name.split("/")[-1].split(":")[0]


def build_deploy_model(arch: Architecture, algo: Algorithm, trained: Any,
                       num_classes: int) -> tuple[Any, list[str]]:
    deploy = arch.build(algo, num_classes, deploy=True)
    dropped = transfer_weights(trained, deploy)
    return deploy, dropped


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False), dtype=np.float32)
