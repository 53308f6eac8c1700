"""Whole-network builds with their daBNN artefacts (slow: 32x32 and 224x224 networks)."""

import pytest

from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.training.train import TrainConfig


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
@pytest.mark.parametrize("algo", ["bireal", "bnn"])
def test_resnet18_imagenet_has_a_dab_with_symmetric_stem_pads(algo, tmp_path):
    """PyTorch's stem (conv pads 3, pool pads 1): ONNX and .dab agree with Keras, every .dab
    disagreement explained (seed 0: one each, a near-tie bit; bnn's sits behind a residual sum
    of about 207, explained only by a bound relative to the sum's operands)."""
    manifest = build(BuildRequest(algo, "resnet18_imagenet", train=TrainConfig(epochs=0),
                                  out=tmp_path))
    dabnn = manifest["audit"]["dabnn"]
    assert manifest["deploy"]["dabnn"] == {"supported": True, "reason": ""}
    assert "dabnn" in manifest["artefacts"]
    assert dabnn["onnx"]["top1_agreement"] >= 0.99  # untrained: rounding flips move logits
    assert dabnn["dabnn"]["verdict"]["unexplained"] == 0
    assert "numerics_warning" not in dabnn["dabnn"]
    assert dabnn["layer_histogram"]["BinConv2D"] == 16
    assert dabnn["layer_histogram"]["MaxPool"] == 1
    from bibench_deploy.dabnn.model import DabModel
    model = DabModel.from_bytes((tmp_path / f"resnet18_imagenet-{algo}" /
                                 f"resnet18_imagenet-{algo}.dab").read_bytes())
    stem, pool = (next(layer for layer in model.layers if layer.type == kind)
                  for kind in ("FpConv2D", "MaxPool"))
    assert list(stem.params["pads"]) == [3, 3, 3, 3] and list(pool.params["pads"]) == [1] * 4
