"""Bad input to `build`: one clear line, non-zero exit, nothing written."""

import pytest

from tests.data.test_datasets import write_cifar


def one_error_line(result, code=1):
    """Exit codes: 2 for a wrong command line, 1 for a failure (README, conventions)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert result.returncode == code, result.stderr
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


@pytest.mark.parametrize("args,expected", [
    (["--algo", "xnro"], "unknown algorithm 'xnro'"),
    (["--algo", "bnn", "--arch", "resnet81"], "did you mean 'resnet18'"),
    (["--algo", "bnn", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["--algo", "bnn", "--dataset", "cifar10"], "--data-dir"),
    (["--algo", "bnn", "--optimizer", "lamb"], "unknown optimizer 'lamb'"),
])
def test_bad_names(cli, tmp_path, args, expected):
    line = one_error_line(cli("build", *args, "--models-dir", str(tmp_path / "models")), code=2)
    assert expected in line


def test_missing_cifar_directory(cli, tmp_path):
    line = one_error_line(cli("build", "--algo", "bnn", "--dataset", "cifar10", "--data-dir",
                              str(tmp_path / "absent"), "--models-dir", str(tmp_path / "models")))
    assert "is not a directory" in line


def test_malformed_cifar_directory(cli, tmp_path):
    data = write_cifar(tmp_path / "cifar")
    (data / "data_batch_4").write_text("not a pickle")
    out = tmp_path / "models"
    line = one_error_line(cli("build", "--algo", "bnn", "--dataset", "cifar10", "--data-dir",
                              str(data), "--models-dir", str(out)))
    assert "data_batch_4 is not a CIFAR-10 python batch" in line
    assert not out.exists() or list(out.iterdir()) == []


def test_unwritable_output_directory(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_error_line(cli("build", "--algo", "bnn", "--models-dir", str(blocker / "models")))
    assert "cannot create output directory" in line and "--models-dir" in line


def test_existing_output_is_refused_without_force(cli, tmp_path):
    (tmp_path / "resnet20-bnn").mkdir()
    (tmp_path / "resnet20-bnn" / "keep.txt").write_text("mine")
    line = one_error_line(cli("build", "--algo", "bnn", "--models-dir", str(tmp_path)))
    assert "already exists; pass --force" in line
    assert (tmp_path / "resnet20-bnn" / "keep.txt").read_text() == "mine"


def test_negative_epochs_is_a_usage_error(cli, tmp_path):
    result = cli("build", "--algo", "bnn", "--epochs", "-1", "--models-dir", str(tmp_path))
    assert result.returncode == 2 and "--epochs" in result.stderr
