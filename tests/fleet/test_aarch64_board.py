"""The loopback aarch64 board (tests/fleet/aarch64_board.py) through the ordinary ssh transport:
real sshd, real qemu-user. `devices check` sees an aarch64 device; a TFLite float model and its
runner, pushed by the transport's own push, run on the board's aarch64 Python and give the host
interpreter's outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bibench_deploy.emulation import litert
from bibench_deploy.emulation.litert import GUEST_PYTHON, RUNNER
from bibench_deploy.fleet.check import check_device
from bibench_deploy.fleet.inventory import load_fleet
from bibench_deploy.fleet.transports import open_transport
from bibench_deploy.fleet.transports.base import Blob
from bibench_deploy.manifest import sha256_file
from tests.emulation.float_model import assert_outputs_match, build_float_model

SEED = 7


def board_device(lab, board) -> dict:
    return lab.device(board, "pi-like", python=GUEST_PYTHON, arch="aarch64")


@pytest.fixture
def transport(lab, aarch64_board):
    opened = open_transport(load_fleet(lab.fleet([board_device(lab, aarch64_board)])).devices[0])
    opened.connect()
    yield opened
    opened.close()


def test_devices_check_reports_an_aarch64_device(lab, aarch64_board, cli):
    fleet = lab.fleet([board_device(lab, aarch64_board)])
    result = cli("devices", "check", "--fleet", str(fleet))
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\[.*\] pi-like: aarch64, \d+ cores, ", result.stderr, re.M), result.stderr
    report = check_device(load_fleet(fleet).devices[0])
    assert report.ok and report.info.arch == "aarch64" and report.info.cores >= 1
    assert report.info.os.startswith("Linux ")
    assert report.info.disk_free_kb > 0        # the work dir, in the board's writable layer


def test_sessions_see_the_described_cpu(transport):
    """The userland's /proc/cpuinfo (one Cortex-A72, part 0xd08), never the host's x86 one."""
    result = transport.run(["cat", "/proc/cpuinfo"], 30)
    assert result.rc == 0 and re.search(r"^CPU part\s*: 0xd08$", result.stdout, re.M)
    assert "model name" not in result.stdout


def test_unknown_board_key_is_refused(lab, aarch64_board, cli):
    stranger = lab.board("unknown-board", aarch64_board.userland, known=False)
    result = cli("devices", "check", "--fleet", str(lab.fleet([board_device(lab, stranger)])))
    assert result.returncode != 0 and "is not in" in result.stdout


def test_pushes_land_in_the_board_not_the_shared_userland(transport, aarch64_board):
    blob = Blob(RUNNER, sha256_file(RUNNER), ".py")
    (path,) = transport.ensure([blob]).values()
    listed = transport.run(["sha256sum", path], 30)
    assert listed.rc == 0 and listed.stdout.split()[0] == blob.sha256
    assert not (aarch64_board.userland / path.lstrip("/")).exists()


@pytest.mark.converts  # a Keras model to .tflite (11 s in all with the emulated inference)
def test_pushed_tflite_model_runs_on_the_board_as_on_the_host(transport, tmp_path):
    model = build_float_model(tmp_path)
    blobs = [Blob(RUNNER, sha256_file(RUNNER), ".py"), Blob(model, sha256_file(model), ".tflite")]
    paths = transport.ensure(blobs)
    assert transport.bytes_pushed == sum(Path(b.local).stat().st_size for b in blobs)
    result = transport.run([GUEST_PYTHON, paths[blobs[0].sha256], paths[blobs[1].sha256],
                            "--iterations", "1", "--seed", str(SEED)], 300)
    assert result.rc == 0, result.stderr
    assert "XNNPACK delegate" in result.stderr     # the kernels a board runs by default
    assert_outputs_match(litert.parse(result.stdout)["outputs"], model, SEED)


@pytest.mark.converts
@pytest.mark.measures
def test_run_measures_an_fp32_model_on_the_board_with_the_litert_engine(lab, aarch64_board,
                                                                       tmp_path):
    """The whole `run` path over ssh to an aarch64 device: the litert engine's runner and the
    model are pushed, run by the board's aarch64 Python and parsed. (Under emulation the timings
    say nothing about a board: this checks the path, not a latency.)"""
    from bibench_deploy.fleet.run import RunSettings, run_fleet
    from tests.fleet.helpers import MEASURED, QUICK, read_rows
    from tests.fleet.tiny_models import build_model_dir
    build_model_dir(tmp_path / "models", "tiny-bnn", size=8, filters=4)
    device = lab.device(aarch64_board, "pi-like", arch="aarch64", max_start_load=1.0,
                        engines={"litert": {"python": GUEST_PYTHON}})
    result = run_fleet(RunSettings(fleet=str(lab.fleet([device])),
                                   models_dir=str(tmp_path / "models"), measure=QUICK),
                       tmp_path / "reports")
    [row] = read_rows(result.run_dir)
    assert (row["engine"], row["variant"], row["device_arch"]) == ("litert", "fp32", "aarch64")
    assert row["status"] in MEASURED, row["error"]
    assert float(row["latency_median_ms"]) > 0 and row["engine_version"]
