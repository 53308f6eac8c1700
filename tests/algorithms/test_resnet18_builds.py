"""Whole builds: every algorithm on resnet18 (32x32), one epoch on the default dataset."""

from __future__ import annotations

import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.pipeline.build import BuildRequest, build
from bibench_deploy.pipeline.train import TrainConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    cache = {}

    def get(algo: str) -> dict:
        if algo not in cache:
            cache[algo] = build(BuildRequest(algo, "resnet18", train=TrainConfig(epochs=1),
                                             out=out))
        return cache[algo]
    return get


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_resnet18_build_runs_every_binarized_conv_in_lce_bconv(name, built):
    manifest, bnn = built(name), built("bnn")
    audit = manifest["audit"]["lce"]
    assert audit["op_histogram"]["LceBconv2d"] == 16
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    # rounding flips are allowed, conversion errors are not (docs/algorithms.md, verdict)
    assert audit["unexplained"] == 0 and audit["disagreements"] == audit["explained_flips"]
    added = set(audit["extra_float_ops"]) - set(bnn["audit"]["lce"]["extra_float_ops"])
    assert sorted(added) == sorted(set(ALGORITHMS.get(name).inference_float_ops))
    assert manifest["training"]["test_accuracy"] > 0.1   # ten classes: above chance
