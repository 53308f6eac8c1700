"""The deploy graph: the algorithm's inference operator, carrying the trained weights."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from bibench_deploy.algorithms.base import Algorithm
from bibench_deploy.architectures.base import Architecture
from bibench_deploy.deploy_graph.thresholds import centre_thresholds
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
        if hasattr(layer, "derive"):  # a constant computed from a trained layer
            if layer.source not in source_layers:
                raise ConversionError(f"deploy layer {layer.name!r} derives from missing "
                                      f"layer {layer.source!r}")
            layer.derive(source_layers[layer.source])
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
                       num_classes: int) -> tuple[Any, list[str], dict[str, Any]]:
    """(deploy model, training-only layers dropped, threshold centring summary)."""
    deploy = arch.build(algo, num_classes, deploy=True)
    dropped = transfer_weights(trained, deploy)
    return deploy, dropped, centre_thresholds(deploy)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False), dtype=np.float32)


@contextlib.contextmanager
def float64_keras() -> Iterator[None]:
    """Models built inside compute in float64."""
    import tensorflow as tf
    previous = tf.keras.backend.floatx()
    tf.keras.backend.set_floatx("float64")
    try:
        yield
    finally:
        tf.keras.backend.set_floatx(previous)


def float64_deploy(arch: Architecture, algo: Algorithm, deploy: Any, num_classes: int) -> Any:
    """The deploy graph `deploy` (thresholds already centred) in float64, same weights."""
    with float64_keras():
        deploy64 = arch.build(algo, num_classes, deploy=True)
    deploy64.set_weights(deploy.get_weights())  # same graph: positional
    return deploy64


def deploy_form_numerics(arch: Architecture, algo: Algorithm, trained: Any, num_classes: int,
                         x: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """Training form vs deploy form (thresholds centred), both in float64, trained weights:
    the comparison, and the float64 deploy form's logits on `x` (the import's check against
    BiBench's own forward reuses them).

    float64 makes float summation order irrelevant, so this checks the forms' mathematical
    equality, threshold centring included. An untrained model arrives with randomised
    parameters and BatchNorm statistics (`training.untrained`), so no threshold ties with the
    integer levels of a binary conv here either.
    """
    from bibench_deploy.lce.audit import compare_outputs
    with float64_keras():
        train64 = arch.build(algo, num_classes)
        train64.set_weights(trained.get_weights())  # same graph: positional, quantizer MLPs too
        deploy64, _, _ = build_deploy_model(arch, algo, train64, num_classes)
        x64 = x.astype(np.float64)
        deploy_logits = np.asarray(deploy64(x64, training=False))
        return (compare_outputs(np.asarray(train64(x64, training=False)), deploy_logits),
                deploy_logits)

