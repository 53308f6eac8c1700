"""Whole-network builds with their daBNN artefacts (slow: 32x32 and 224x224 networks)."""

import pytest

from bibench_deploy.pipeline.build import BuildRequest, build
from bibench_deploy.pipeline.train import TrainConfig


@pytest.mark.slow
def test_vgg_small_bnn_has_a_verified_dab(tmp_path):
    manifest = build(BuildRequest("bnn", "vgg_small", train=TrainConfig(epochs=0), out=tmp_path))
    dabnn = manifest["audit"]["dabnn"]
    assert manifest["deploy"]["dabnn"] == {"supported": True, "reason": ""}
    assert "dabnn" in manifest["artefacts"]
    assert dabnn["dabnn"]["verdict"]["unexplained"] == 0
    assert not dabnn["dabnn"]["numerics_enforced"]  # untrained: the verdict warns, not fails
    assert dabnn["layer_histogram"]["BinConv2D"] == 5
    assert dabnn["layer_histogram"]["FpConv2D"] == 2  # stem, classifier as a 4x4 conv


@pytest.mark.slow
def test_resnet18_imagenet_is_refused_for_its_asymmetric_stem_padding(tmp_path):
    manifest = build(BuildRequest("bnn", "resnet18_imagenet", train=TrainConfig(epochs=0),
                                  out=tmp_path))
    reason = manifest["deploy"]["dabnn"]["reason"]
    assert not manifest["deploy"]["dabnn"]["supported"] and "dabnn" not in manifest["artefacts"]
    assert "stem" in reason and "pads 2 before and 3 after" in reason
