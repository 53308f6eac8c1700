"""The .dab verdict: near-tie rounding flips are explained, conversion errors never hidden."""

import numpy as np
import pytest

from bibench_deploy.dabnn.convert import convert_onnx
from bibench_deploy.dabnn.export import export_onnx
from bibench_deploy.dabnn.verdict import dab_verdict, verdict_pass
from tests.dabnn import keras_models

pytestmark = pytest.mark.converts

BATCH = 16


@pytest.fixture(scope="module")
def tied_model():
    """resnet_like with stem channel 0 held at -1e-9 before the Hardtanh: Larq binarizes it to
    -1; daBNN's in-place Hardtanh, 1 - relu(2 - relu(x + 1)), rounds x + 1 to 1 in float32 and
    gives exactly 0, which the negated conv reads as Larq's +1. Every pixel of that channel
    flips: a true rounding effect, not a conversion error."""
    import tensorflow as tf
    model = keras_models.resnet_like()
    conv, batchnorm = (next(layer for layer in model.layers if isinstance(layer, kind))
                       for kind in (tf.keras.layers.Conv2D, tf.keras.layers.BatchNormalization))
    kernel, bias = conv.get_weights()
    kernel[..., 0], bias[0] = 0.0, 0.0
    conv.set_weights([kernel, bias])
    gamma, beta, mean, variance = batchnorm.get_weights()
    gamma[0], beta[0], mean[0] = 1.0, -1e-9, 0.0
    batchnorm.set_weights([gamma, beta, mean, variance])
    return model


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(7).normal(size=(BATCH, 8, 8, 3)).astype(np.float32)


def verdict_of(model, images, conversion=None):
    conversion = conversion or convert_onnx(export_onnx(model))
    reference = model.predict(images, verbose=0)
    return dab_verdict(conversion.model, conversion.output_name, images, reference, model)[0]


def test_near_tie_flips_are_explained(tied_model, images):
    verdict = verdict_of(tied_model, images)
    assert verdict["disagreements"] > 0  # the flips do move the logits
    assert verdict["explained"] == verdict["disagreements"] and verdict_pass(verdict)
    assert all(entry["flipped_bits"] >= 64 for entry in verdict["explained_samples"])


def test_a_changed_classifier_bias_is_unexplained(tied_model, images):
    conversion = convert_onnx(export_onnx(tied_model))
    bias = conversion.model.tensors[conversion.model.layers[-1].params["bias"]]
    bias.floats[3] += 0.5
    verdict = verdict_of(tied_model, images, conversion)
    assert verdict["unexplained"] == BATCH and not verdict_pass(verdict)


def test_a_clear_bit_that_differs_is_unexplained(tied_model, images):
    """Stem channel 1 shifted by 0.5 before the Hardtanh: its bits differ far from any tie."""
    conversion = convert_onnx(export_onnx(tied_model))
    stem = conversion.model.layers[0]
    assert stem.type == "FpConv2D"
    conversion.model.tensors[stem.params["bias"]].floats[1] += 0.5
    verdict = verdict_of(tied_model, images, conversion)
    assert verdict["unexplained"] > 0 and not verdict_pass(verdict)


def test_an_exact_conversion_has_no_disagreement(images):
    model = keras_models.resnet_like()
    verdict = verdict_of(model, images)
    assert verdict["disagreements"] == 0 and verdict_pass(verdict)
