import subprocess
import sys

from tests.conftest import ROOT


def test_help_lists_commands(cli):
    result = cli("--help")
    assert result.returncode == 0
    assert "build" in result.stdout


def test_startup_does_not_import_tensorflow():
    code = ("import sys; import bibench_deploy.cli as c; c._register(); "
            "heavy = [m for m in ('tensorflow', 'larq', 'larq_compute_engine', 'torch') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("bibench-deploy ")
