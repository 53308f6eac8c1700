"""BiBench's zero padding (`with_padding("zero")`): deploy form, LCE conversion, audit."""

from __future__ import annotations

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.deploy_graph.deploy import build_deploy_model, predict
from tests.algorithms.conftest import TINY, images, perturb
from tests.algorithms.test_lce import fp32_graph, lce_audit  # noqa: F401  (fixture)


def zero(name):
    return ALGORITHMS.get(name).with_padding("zero")


def test_padding_policy_is_a_copy_of_the_registered_algorithm():
    algo = zero("bnn")
    assert algo.padding == "zero" and algo.pad_value == 0.0
    assert ALGORITHMS.get("bnn").padding == "one"
    assert not algo.dabnn.supported and "-1 only" in algo.dabnn.reason
    assert algo.with_padding("one").dabnn.supported
    assert zero("xnor").dabnn.reason == ALGORITHMS.get("xnor").dabnn.reason


def test_zero_padding_changes_the_border_outputs():
    tf.keras.utils.set_random_seed(0)
    one = TINY.build(ALGORITHMS.get("bnn"), 10)
    perturb(one)
    other = TINY.build(zero("bnn"), 10)
    other.set_weights(one.get_weights())
    assert np.abs(predict(one, images()) - predict(other, images())).max() > 1e-2


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_zero_padded_deploy_form_equals_training_form(name):
    algo = zero(name)
    tf.keras.utils.set_random_seed(0)
    model = TINY.build(algo, 10)
    perturb(model)
    deploy, _, _ = build_deploy_model(TINY, algo, model, 10)
    assert deploy.get_layer("conv2_padding").correction.numpy().any()
    x = images()
    np.testing.assert_allclose(predict(deploy, x), predict(model, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_zero_padded_convs_run_in_lce_bconv_and_match_keras(name, fp32_graph):  # noqa: F811
    audit = lce_audit(zero(name), fp32_graph)
    assert audit["op_histogram"]["LceBconv2d"] == 2
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    assert audit["extra_float_ops"]["SUB"]["count"] == 1  # the stride-2 conv's correction
    assert audit["extra_float_ops"]["SUB"]["flops"] == 8 * 8 * 32
    assert audit["top1_agreement"] >= 0.99 and audit["max_abs_diff"] < 1e-3


@pytest.mark.parametrize("name", ["bnn", "recu", "dorefa"])
def test_centring_keeps_every_bit_of_a_zero_padded_conv(name):
    from bibench_deploy.deploy_graph.thresholds import centre_thresholds
    from tests.deploy_graph.test_thresholds import conv1_bits_and_output, float64_deploy
    model = float64_deploy(zero(name))
    x = images(16)
    bits, out = conv1_bits_and_output(model, x)
    summary = centre_thresholds(model)
    bits_after, out_after = conv1_bits_and_output(model, x)
    assert summary["batchnorms"] >= 1 and summary["near_ties_before"] >= 2 and summary["near_ties_after"] == 0
    np.testing.assert_array_equal(bits, bits_after)
    np.testing.assert_allclose(out, out_after, rtol=1e-9, atol=1e-9)
