"""`bibench-deploy import` refusals: one line naming the problem, exit 1, no traceback."""

from __future__ import annotations

import pytest
import torch

from tests.importer.conftest import HARDTANH_CONFIG, save_checkpoint
from tests.importer.bibench_torch import bibench_resnet

pytestmark = pytest.mark.long


def refused(cli, tmp_path, checkpoint, *args):
    result = cli("import", str(checkpoint), "--out", str(tmp_path / "models"), *args)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr and len(errors) == 1, result.stderr
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
    return errors[0]


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    torch.manual_seed(0)
    return bibench_resnet("resnet20_bibench", "bnn")


def test_relu_in_front_of_binarized_convs_is_refused(cli, tmp_path, untrained):
    path = tmp_path / "relu.pth"
    config = HARDTANH_CONFIG.format(conv="BNNConv").replace("act_cfg=dict(type='Hardtanh'",
                                                             "act_cfg=dict(type='ReLU'")
    torch.save({"state_dict": untrained.state_dict(), "meta": {"config": config}}, path)
    error = refused(cli, tmp_path, path, "--algo", "bnn", "--arch", "resnet20_bibench")
    assert "ReLU" in error and "{0, 1}" in error


def test_fda_with_noise_weight_is_refused(cli, tmp_path):
    torch.manual_seed(0)
    model = bibench_resnet("resnet20_bibench", "fda")   # noise weight 0.1 until the last epoch
    path = save_checkpoint(model, tmp_path / "fda.pth", "fda")
    error = refused(cli, tmp_path, path, "--algo", "fda", "--arch", "resnet20_bibench")
    assert "noise weight" in error and "last epoch" in error


def test_unknown_tensor_is_refused_by_name(cli, tmp_path, untrained):
    state = {"arch." + k: v for k, v in untrained.state_dict().items()}
    state["arch.backbone.extra.weight"] = torch.zeros(3)
    path = tmp_path / "extra.pth"
    torch.save({"state_dict": state}, path)
    error = refused(cli, tmp_path, path, "--algo", "bnn", "--arch", "resnet20_bibench")
    assert "backbone.extra.weight" in error


def test_wrong_arch_is_refused_with_the_tensor_name(cli, tmp_path, untrained):
    path = save_checkpoint(untrained, tmp_path / "bnn.pth", "bnn", prefix="module.")
    error = refused(cli, tmp_path, path, "--algo", "bnn", "--arch", "resnet18")
    assert "backbone.conv1.weight" not in error or "shape" in error
    assert "wrong --arch" in error


def test_wrong_algorithm_per_config_is_refused(cli, tmp_path, untrained):
    path = save_checkpoint(untrained, tmp_path / "bnn.pth", "bnn")
    error = refused(cli, tmp_path, path, "--algo", "xnor", "--arch", "resnet20_bibench")
    assert "BNNConv" in error


def test_textbook_resnet20_is_not_bibench_s(cli, tmp_path, untrained):
    path = save_checkpoint(untrained, tmp_path / "bnn.pth", "bnn")
    error = refused(cli, tmp_path, path, "--algo", "bnn", "--arch", "resnet20")
    assert "resnet20_bibench" in error


def test_a_file_that_is_not_a_checkpoint_is_refused(cli, tmp_path):
    path = tmp_path / "junk.pth"
    path.write_text("not a checkpoint")
    error = refused(cli, tmp_path, path, "--algo", "bnn", "--arch", "resnet20_bibench")
    assert "not a PyTorch checkpoint" in error
