"""Threshold centring: every bit kept, thresholds moved half a level step away from any level."""

from __future__ import annotations

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.architectures import get_architecture
from bibench_deploy.lce.convert import convert, interpret
from bibench_deploy.deploy_graph.deploy import transfer_weights
from bibench_deploy.deploy_graph.thresholds import centre_thresholds
from tests.algorithms.conftest import TINY, images, perturb

LEVEL = 2  # conv1 sums 3 * 3 * 16 = 144 terms of +-1: the levels are even


def float64_deploy(algo):
    """TINY's deploy form in float64 with trained-like weights and two planted ties in conv1_bn:
    channel 0 exactly on level 2 (value 0, bit +1), channel 1 a hair above it."""
    previous = tf.keras.backend.floatx()
    tf.keras.backend.set_floatx("float64")
    try:
        tf.keras.utils.set_random_seed(0)
        trained = TINY.build(algo, 10)
        perturb(trained)
        deploy = TINY.build(algo, 10, deploy=True)
        transfer_weights(trained, deploy)
    finally:
        tf.keras.backend.set_floatx(previous)
    has_alpha = "conv1_alpha" in {layer.name for layer in deploy.layers}
    scale = np.asarray(deploy.get_layer("conv1_alpha").alpha) if has_alpha else np.ones(16)
    bn = deploy.get_layer("conv1_bn")
    mean = np.asarray(bn.moving_mean).copy()
    mean[0] = scale[0] * LEVEL
    mean[1] = scale[1] * LEVEL * (1 - 1e-12)
    bn.moving_mean.assign(mean)
    beta = np.asarray(bn.beta).copy()
    beta[:2] = 0.0
    bn.beta.assign(beta)
    return deploy


def conv1_bits_and_output(model, x):
    probe = tf.keras.Model(model.inputs, [model.get_layer("conv1_act").output, model.output])
    act, out = probe(x.astype(model.dtype), training=False)
    return np.asarray(act) >= 0, np.asarray(out)


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_centring_keeps_every_bit_and_output(name):
    algo = ALGORITHMS.get(name)
    model = float64_deploy(algo)
    x = images(16)
    bits, out = conv1_bits_and_output(model, x)
    summary = centre_thresholds(model)
    bits_after, out_after = conv1_bits_and_output(model, x)
    assert np.array_equal(bits, bits_after)
    np.testing.assert_allclose(out_after, out, rtol=1e-9, atol=1e-9)
    if summary["batchnorms"]:
        assert summary["near_ties_before"] >= 2 and summary["nearest_level_before"] < 1e-9
        # now every level is half a step (1 unit) away, as the summary says
        assert summary["near_ties_after"] == 0
        assert summary["nearest_level_after"] == pytest.approx(0.5, rel=1e-9)
        again = centre_thresholds(model)
        assert again["near_ties_before"] == 0
        assert again["nearest_level_before"] == pytest.approx(0.5, rel=1e-9)


def test_only_batchnorms_that_feed_nothing_but_signs_are_centred():
    """conv1_bn -> Hardtanh -> binary conv qualifies; conv2_bn (a model output here) does not;
    XNOR-Net reads the activation's magnitude (beta) and ReActNet shifts it before the sign, so
    their values matter and nothing is touched."""
    centred = {name: centre_thresholds(float64_deploy(ALGORITHMS.get(name)))["batchnorms"]
               for name in ALGORITHMS.names()}
    assert centred == {"bnn": 1, "dorefa": 1, "bireal": 1, "recu": 1, "fda": 1,
                       "xnor": 0, "xnorpp": 0, "reactnet": 0}


def test_resnet18_centres_the_first_conv_of_each_block_not_the_residual_ones():
    model = get_architecture("resnet18").build(ALGORITHMS.get("bnn"), 10, deploy=True)
    assert centre_thresholds(model)["batchnorms"] == 8  # conv2_bn feeds the residual add


@pytest.mark.converts
def test_lce_computes_the_centred_graph_bit_exactly():
    """With a threshold planted exactly on a level, the float64 graph and LCE agree after
    centring: nothing is left for float32 rounding to decide."""
    model64 = float64_deploy(ALGORITHMS.get("bnn"))
    centre_thresholds(model64)
    model32 = TINY.build(ALGORITHMS.get("bnn"), 10, deploy=True)
    model32.set_weights([w.astype("float32") for w in model64.get_weights()])
    x = images(32)
    lce = interpret(convert(model32), x)
    reference = np.asarray(model64(x.astype("float64"), training=False))
    np.testing.assert_allclose(lce, reference, atol=1e-4 * np.abs(reference).max())
