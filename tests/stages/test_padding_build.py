"""`build --padding zero`: BiBench's padding trained and deployed with the same checks."""

from __future__ import annotations

import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.training.train import TrainConfig


def zero_padded_build(algo, tmp_path):
    return build(BuildRequest(algo, "resnet20", train=TrainConfig(epochs=1), out=tmp_path,
                              padding="zero"))


def check(manifest):
    audit = manifest["audit"]["lce"]
    assert manifest["padding"] == "zero" and audit["numerics_enforced"]
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    assert audit["extra_float_ops"]["SUB"]["count"] == 2   # one per stride-2 binary conv
    assert audit["unexplained"] == 0  # every disagreement a float32 rounding flip
    assert not manifest["deploy"]["dabnn"]["supported"]
    assert "dabnn" not in manifest["artefacts"]


@pytest.mark.trains
def test_zero_padded_bnn_build(tmp_path):
    check(zero_padded_build("bnn", tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("algo", ALGORITHMS.names())
def test_every_algorithm_builds_with_zero_padding(algo, tmp_path):
    check(zero_padded_build(algo, tmp_path))


def test_unknown_padding_is_one_line(cli, tmp_path):
    result = cli("build", "--algo", "bnn", "--padding", "two", "--out", str(tmp_path))
    assert result.returncode == 2  # a wrong command-line value
    assert "Traceback" not in result.stderr
    assert "unknown padding 'two': use --padding one or zero" in result.stderr
