"""`import` of BiBench checkpoints: operators, mapping, float64 reference, LCE, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bibench_deploy.manifest import load_manifest
from bibench_deploy.pipeline.build import BuildRequest
from bibench_deploy.pipeline.importer import import_checkpoint
from bibench_deploy.pipeline.train import TrainConfig
from tests.importer.bibench_torch import CONVS, bibench_resnet
from tests.importer.conftest import save_checkpoint, trained_model

REFERENCE = np.load(Path(__file__).parents[1] / "algorithms" / "fixtures" / "bibench_stride2.npz")
EXTRAS = {"reactnet": {"threshold": "channel_threshold"},
          "xnorpp": {"o_scale": "o_scale", "h_scale": "h_scale", "w_scale": "w_scale"},
          "recu": {"alpha": "alpha"}, "fda": {"w_fc1": "weight_noise.fc1.weight",
                                              "w_fc2": "weight_noise.fc2.weight"}}


@pytest.mark.parametrize("algo", sorted(CONVS))
def test_reimplemented_operators_match_bibench_s_own(algo):
    """The test models' operators against tensors generated from BiBench's code (float64)."""
    conv = CONVS[algo](16, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(REFERENCE["w"].astype(np.float64)))
        if algo == "reactnet":
            conv.channel_threshold.copy_(torch.from_numpy(REFERENCE["react_threshold"] * 1.0))
        if algo == "xnorpp":
            for name in ("o_scale", "h_scale", "w_scale"):
                getattr(conv, name).copy_(torch.from_numpy(REFERENCE[f"xnorpp_{name}"] * 1.0))
        if algo == "recu":
            conv.alpha.copy_(torch.from_numpy(REFERENCE["recu_alpha"] * 1.0))
            conv.set_epoch(5, 10)
        if algo == "fda":
            conv.set_epoch(5, 10)
            conv.weight_noise.fc1.weight.copy_(torch.from_numpy(REFERENCE["fda_w_fc1"] * 1.0))
            conv.weight_noise.fc2.weight.copy_(torch.from_numpy(REFERENCE["fda_w_fc2"] * 1.0))
    conv.train()
    x = torch.from_numpy(REFERENCE["x"].astype(np.float64)).requires_grad_(True)
    y = conv(x)
    (y * torch.from_numpy(REFERENCE["g"].astype(np.float64))).sum().backward()
    params = dict(conv.named_parameters())
    got = {"y": y.detach(), "dx": x.grad, "dw": conv.weight.grad,
           **{f"d{k}": params[v].grad for k, v in EXTRAS.get(algo, {}).items()}}
    for name, value in got.items():
        expected = REFERENCE[f"{algo}/full/{name}"]
        np.testing.assert_allclose(value.numpy(), expected, rtol=1e-5,
                                   atol=1e-5 * np.abs(expected).max(), err_msg=name)


def import_request(tmp_path, algo="bnn", padding="zero", arch="resnet20_bibench"):
    return BuildRequest(algo, arch, train=TrainConfig(epochs=0), out=tmp_path / "models",
                        padding=padding)


def test_bnn_checkpoint_imports_exactly_with_zero_padding(bnn_checkpoint, tmp_path):
    checkpoint, reference, _ = bnn_checkpoint
    manifest = import_checkpoint(checkpoint, import_request(tmp_path), reference)
    audit, imported = manifest["audit"]["lce"], manifest["import"]
    assert manifest["padding"] == "zero" and manifest["training"]["imported"]
    assert audit["binary_mac_share"] == 1.0 and audit["numerics_enforced"]
    assert audit["extra_float_ops"]["SUB"]["count"] == 2   # the two stride-2 corrections
    exact = imported["keras_float64_vs_bibench_float64"]
    assert exact["top1_agreement"] == 1.0 and exact["max_abs_diff"] < 1e-9
    pytorch = imported["pytorch_reference"]
    assert pytorch["samples"] == 100
    assert pytorch["lce_vs_pytorch_float32"]["top1_agreement"] >= 0.99
    assert pytorch["bibench_float64_vs_pytorch_float64"]["max_abs_diff"] < 1e-9
    assert manifest["deploy"]["dabnn"]["supported"] is False
    assert "-1 only" in manifest["deploy"]["dabnn"]["reason"]
    assert load_manifest(tmp_path / "models" / "resnet20_bibench-bnn")["name"] == manifest["name"]


def test_plus_one_padding_records_its_agreement_and_exports_dabnn(bnn_checkpoint, tmp_path):
    checkpoint, reference, _ = bnn_checkpoint
    manifest = import_checkpoint(checkpoint, import_request(tmp_path, padding="one"), reference)
    numerics = manifest["import"]["keras_float64_vs_bibench_float64"]
    assert numerics["enforced"] is False and numerics["max_abs_diff"] > 1e-3
    assert manifest["deploy"]["dabnn"]["supported"] is True
