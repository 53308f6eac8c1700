"""Whole builds: every algorithm on resnet18 (32x32), one epoch on the default dataset."""

from __future__ import annotations

import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.training.train import TrainConfig

pytestmark = pytest.mark.slow

# BNN's float operators beyond its FP32 twin: Hardtanh clips (RELU_N1_TO_1) the twin does not
# need as separate operators, and the explicit symmetric PAD in front of the three stride-2
# binary convs. Every other algorithm adds exactly the operator types it declares to these (XNOR-Net's
# float ops absorb the clips).
BNN_EXTRA_FLOAT_OPS = {"RELU_N1_TO_1": 8, "PAD": 3}


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_resnet18_build_runs_every_binarized_conv_in_lce_bconv(name, tmp_path):
    manifest = build(BuildRequest(name, "resnet18", train=TrainConfig(epochs=1), out=tmp_path))
    audit = manifest["audit"]["lce"]
    assert audit["op_histogram"]["LceBconv2d"] == 16
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    # rounding flips are allowed, conversion errors are not (docs/algorithms.md, verdict)
    assert audit["unexplained"] == 0 and audit["disagreements"] == audit["explained_flips"]
    extra = audit["extra_float_ops"]
    if name == "bnn":
        assert {op: entry["count"] for op, entry in extra.items()} == BNN_EXTRA_FLOAT_OPS
    added = set(extra) - set(BNN_EXTRA_FLOAT_OPS)
    assert sorted(added) == sorted(set(ALGORITHMS.get(name).inference_float_ops))
    assert manifest["training"]["test_accuracy"] > 0.1   # ten classes: above chance
