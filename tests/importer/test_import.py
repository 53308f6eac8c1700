"""`import` of BiBench checkpoints: operators, mapping, float64 reference, LCE, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bibench_deploy.manifest import load_manifest
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.sources.importer import import_checkpoint
from bibench_deploy.training.train import TrainConfig
from tests.importer.bibench_torch import CONVS, bibench_resnet
from tests.importer.conftest import save_checkpoint, trained_model
from tests.fleet.helpers import MEASURED

RESNET18_VERIFIED = ("bnn", "bireal", "dorefa", "recu", "xnor", "reactnet")
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


def assert_pytorch_float32_recorded_not_enforced(pytorch):
    """LCE against PyTorch's float32 logits is two float32 engines with their own rounding: it
    is recorded, never enforced (its agreement depends on the toy network's margins and on
    PyTorch's thread count). What is enforced is the float64 chain: PyTorch float64 == BiBench's
    forward == the Keras deploy form, and every LCE disagreement with it explained."""
    record = pytorch["lce_vs_pytorch_float32"]
    assert record["enforced"] is False and record["samples"] == pytorch["samples"]


def import_request(tmp_path, algo="bnn", padding="zero", arch="resnet20_bibench"):
    return BuildRequest(algo, arch, train=TrainConfig(epochs=0), out=tmp_path / "models",
                        padding=padding)


@pytest.fixture(scope="module")
def imported_bnn(bnn_checkpoint, tmp_path_factory):
    checkpoint, reference, _ = bnn_checkpoint
    tmp_path = tmp_path_factory.mktemp("imported")
    return import_checkpoint(checkpoint, import_request(tmp_path), reference), tmp_path


def test_bnn_checkpoint_imports_exactly_with_zero_padding(imported_bnn):
    manifest, tmp_path = imported_bnn
    audit, imported = manifest["audit"]["lce"], manifest["import"]
    assert manifest["padding"] == "zero" and manifest["training"]["imported"]
    assert audit["binary_mac_share"] == 1.0 and audit["numerics_enforced"]
    assert audit["extra_float_ops"]["SUB"]["count"] == 2   # the two stride-2 corrections
    exact = imported["keras_float64_vs_bibench_float64"]
    assert exact["top1_agreement"] == 1.0 and exact["max_abs_diff"] < 1e-9
    pytorch = imported["pytorch_reference"]
    assert pytorch["samples"] == 100
    assert_pytorch_float32_recorded_not_enforced(pytorch)
    assert pytorch["bibench_float64_vs_pytorch_float64"]["max_abs_diff"] < 1e-9
    verdict = pytorch["lce_verdict"]  # on the reference inputs, against float64
    assert verdict["enforced"] and verdict["unexplained"] == 0
    assert verdict["attribution"] == "LCE's sign inputs replayed"
    assert verdict["explained_flips"] == verdict["disagreements"]
    assert manifest["deploy"]["dabnn"]["supported"] is False
    assert "-1 only" in manifest["deploy"]["dabnn"]["reason"]
    assert load_manifest(tmp_path / "models" / "resnet20_bibench-bnn")["name"] == manifest["name"]


def test_an_imported_model_does_not_claim_the_audit_dataset_s_preprocessing(imported_bnn):
    manifest, _ = imported_bnn
    preprocessing = manifest["preprocessing"]
    assert "mean" not in preprocessing and "user's own" in preprocessing["training"]
    probe = preprocessing["probe_inputs"]
    assert probe["inputs"].startswith("first 100 test images of ") and "mean" in probe
    assert "ref.npz" in preprocessing["reference_inputs"]


def test_an_imported_model_runs_and_reports_like_a_built_one(imported_bnn):
    from bibench_deploy.fleet.engines.base import Measure
    from bibench_deploy.fleet.run import RunSettings, run_fleet
    from bibench_deploy.reports.report import build_report
    _, tmp_path = imported_bnn
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("devices:\n  - name: host\n    transport: local\n"
                     f"    work_dir: {tmp_path / 'work'}\n    threads: [1]\n"
                     "    max_start_load: 1.0\n"  # the guard has its own tests
                     "    engines:\n      lce_interpreter: {}\n")
    settings = RunSettings(fleet=str(fleet), models_dir=str(tmp_path / "models"),
                           measure=Measure(warmup_runs=1, min_iters=5, min_secs=0.01,
                                           max_secs=30, repeats=1), max_parallel=1)
    run_dir = run_fleet(settings, tmp_path / "reports").run_dir
    report = build_report(run_dir, tmp_path / "models")
    rows = report.summary  # one row per engine option (XNNPACK off and on)
    assert rows and {row["model"] for row in rows} == {"resnet20_bibench-bnn"}
    assert all(row["status"] in MEASURED and row["binary_mac_coverage_pct"] == 100.0
               for row in rows)


def test_a_reference_written_by_another_model_is_refused(bnn_checkpoint, tmp_path):
    checkpoint, reference, _ = bnn_checkpoint
    with np.load(reference) as data:
        values = dict(data)
    values["logits_float64"] = values["logits_float64"][::-1].copy()  # another model's logits
    values["logits"] = values["logits"][::-1].copy()
    other = tmp_path / "other.npz"
    np.savez(other, **values)
    from bibench_deploy.sources.bibench_checkpoint import CheckpointError
    with pytest.raises(CheckpointError, match="not the model that wrote them"):
        import_checkpoint(checkpoint, import_request(tmp_path), other)


def test_plus_one_padding_records_its_agreement_and_exports_dabnn(bnn_checkpoint, tmp_path):
    checkpoint, reference, _ = bnn_checkpoint
    manifest = import_checkpoint(checkpoint, import_request(tmp_path, padding="one"), reference)
    numerics = manifest["import"]["keras_float64_vs_bibench_float64"]
    assert numerics["enforced"] is False and numerics["max_abs_diff"] > 1e-3
    assert manifest["deploy"]["dabnn"]["supported"] is True


@pytest.mark.slow
# One worker trains them all, one after the other: PyTorch's OpenMP threads spin while they wait,
# and two of these trainings side by side ran 4x slower each than one alone.
@pytest.mark.xdist_group("pytorch_training")
@pytest.mark.parametrize("arch, algo", [("resnet18", algo) for algo in RESNET18_VERIFIED])
def test_resnet_imports_exactly_on_lce(arch, algo, tmp_path):
    """ResNet-18 of the toy task (about 1 minute each here, alone): toy-trained (5 Adam steps
    per epoch give margins enough: the verdict of every algorithm here explains every
    disagreement), imported with zero padding and a PyTorch reference, judged by the verdict
    and by the float64 chain to PyTorch's own logits."""
    model = trained_model(arch, algo, steps=5)
    checkpoint = save_checkpoint(model, tmp_path / "c.pth", algo, prefix="arch.")
    from tests.importer.conftest import reference_file
    reference = reference_file(model, tmp_path / "ref.npz")
    manifest = import_checkpoint(checkpoint, import_request(tmp_path, algo, arch=arch),
                                 reference)
    audit = manifest["audit"]["lce"]
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    assert audit["numerics_enforced"] and audit["unexplained"] == 0
    imported = manifest["import"]
    assert imported["keras_float64_vs_bibench_float64"]["top1_agreement"] == 1.0
    pytorch = imported["pytorch_reference"]
    assert pytorch["bibench_float64_vs_pytorch_float64"]["max_abs_diff"] < 1e-9
    assert_pytorch_float32_recorded_not_enforced(pytorch)
    verdict = pytorch["lce_verdict"]
    assert verdict["enforced"] and verdict["unexplained"] == 0
    assert verdict["explained_flips"] == verdict["disagreements"]
