"""Every deploy form through the LCE converter: binary kernels, extra float ops, numerics."""

from __future__ import annotations

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS, FP32
from bibench_deploy.algorithms.xnor import XNOR
from bibench_deploy.lce.audit import audit_graph, compare_outputs
from bibench_deploy.lce.convert import convert, interpret
from bibench_deploy.deploy_graph.deploy import build_deploy_model, predict
from bibench_deploy.lce.flatbuffer import read_graph
from bibench_deploy.complexity import count_model
from tests.algorithms.conftest import TINY, images, perturb


@pytest.fixture(scope="module")
def fp32_graph(converts):
    return read_graph(convert(TINY.build(FP32, 10)))


def lce_audit(algo, fp32_graph, seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = TINY.build(algo, 10)
    perturb(model, seed)
    deploy, _, _ = build_deploy_model(TINY, algo, model, 10)
    flatbuffer = convert(deploy)
    audit = audit_graph(read_graph(flatbuffer), count_model(deploy)["totals"], fp32_graph)
    x = images(100)
    audit.update(compare_outputs(predict(model, x), interpret(flatbuffer, x)))
    return audit


@pytest.fixture(scope="module")
def bnn_extra(fp32_graph):
    """Float ops of the plain binary network beyond FP32: the architecture's, not an algorithm's
    (here the stem's Hardtanh, which FP32 fuses into its conv)."""
    return lce_audit(ALGORITHMS.get("bnn"), fp32_graph)["extra_float_ops"]


def test_every_binarized_conv_runs_in_lce_bconv_with_only_the_stated_float_ops(
        algo, fp32_graph, bnn_extra):
    audit = lce_audit(algo, fp32_graph)
    assert audit["op_histogram"]["LceBconv2d"] == 2
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    added = {k for k, v in audit["extra_float_ops"].items() if v != bnn_extra.get(k)}
    assert sorted(added) == sorted(algo.inference_float_ops)
    assert audit["top1_agreement"] >= 0.99


def test_xnor_runtime_scale_costs_abs_mean_mul_per_conv(fp32_graph):
    extra = lce_audit(XNOR(), fp32_graph)["extra_float_ops"]
    assert extra["ABS"]["count"] == 2 and extra["MEAN"]["count"] == 4   # over C, then (H, W)
    assert extra["ABS"]["flops"] == 2 * 16 * 16 * 16
    assert extra["MEAN"]["flops"] == 2 * (16 * 16 * 16 + 16 * 16)


def test_naive_xnor_falls_back_to_a_float_conv(fp32_graph):
    """beta * sign(a) fed into the conv: LCE keeps the values binary but runs a float CONV_2D."""
    audit = lce_audit(XNOR(naive=True), fp32_graph)
    assert audit["binary_mac_share"] == 0.0
    assert audit["float_fallback_macs"] == audit["binary_macs_expected"] > 0
    assert audit["op_histogram"].get("LceBconv2d", 0) == 0
    assert audit["op_histogram"]["LceDequantize"] == 2
    assert audit["top1_agreement"] >= 0.99
