"""The whole `run --fleet` path against real sshd servers, with real faults injected."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from bibench_deploy.fleet.run import RunSettings, run_fleet
from tests.fleet.conftest import ODD_MODEL, PYTHON, FleetLab
from tests.fleet.helpers import MEASURED, QUICK, by_device, read_rows
from tests.fleet.sshd import keygen

HANG_MARK = "4242.5"  # a sleep length no other process on the machine uses


def _hanging_python(root: Path) -> Path:
    """A device "python" that answers the version check but hangs when asked to measure."""
    script = root / "hanging python"
    script.write_text(f'#!/bin/sh\ncase "$*" in *--version*) exec {PYTHON} "$@";; esac\n'
                      f"exec sleep {HANG_MARK}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _fake_aarch64_binary(root: Path) -> Path:
    """The first bytes of an aarch64 ELF executable: what a binary built for a Pi starts with."""
    path = root / "lce_benchmark_model-aarch64"
    header = bytearray(64)
    header[:4], header[4], header[5] = b"\x7fELF", 2, 1
    header[18:20] = (0xB7).to_bytes(2, "little")
    path.write_bytes(bytes(header))
    return path


def _benchmark_model_stand_in(root: Path) -> Path:
    """An executable that prints what lce_benchmark_model prints (the samples of test_parsers),
    so the engine's argv, push, parse and op-profile paths run over SSH without an ARM board."""
    data = Path(__file__).with_name("data")
    script = root / "lce_benchmark_model"
    script.write_text(f'#!/bin/sh\ncase "$*" in *enable_op_profiling=true*) '
                      f'exec cat "{data}/benchmark_model_profile.txt";; esac\n'
                      f'exec cat "{data}/benchmark_model_delta.txt"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _hostile_benchmark_model(root: Path) -> Path:
    """lce_benchmark_model's output with impossible numbers on its first launches (a negative
    median, then NaN, then a zero count), the captured good output after them."""
    good = Path(__file__).with_name("data") / "benchmark_model_delta.txt"
    counter = root / "hostile-launches"
    return _script(root, "hostile_benchmark_model",
                   f'case "$*" in *--graph=*) ;; *) exec cat "{good}";; esac\n'
                   f'echo x >> "{counter}"; n=$(wc -l < "{counter}")\n'
                   'case $n in\n'
                   '  1) echo "INFO: count=50 min=-2000 max=-1000 avg=-1500 median=-1500";;\n'
                   '  2) echo "INFO: count=50 min=nan max=nan avg=nan median=nan";;\n'
                   '  3) echo "INFO: count=0 avg=1500";;\n'
                   f'  *) exec cat "{good}";;\n'
                   'esac\n')


def _script(root: Path, name: str, body: str) -> Path:
    path = root / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def _crashing_python(root: Path) -> Path:
    """Answers the version check, then dies of a segmentation fault when asked to measure."""
    return _script(root, "crashing-python", f'case "$*" in *--version*) exec {PYTHON} "$@";; esac\n'
                                            'echo "Fatal: bad kernel" >&2; kill -SEGV $$\n')


def _throttle_flags(root: Path) -> Path:
    """`vcgencmd get_throttled` of a board that starts throttling during the first model."""
    flag = root / "throttle-flag"
    return _script(root, "get_throttled", f'if [ -f "{flag}" ]; then echo throttled=0x50005; '
                                          f'else touch "{flag}"; echo throttled=0x0; fi\n')


def _sleepers() -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if HANG_MARK in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def fault_run(client_key, models_dir, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("faults")
    lab = FleetLab(tmp_path, client_key)
    try:
        yield _run_with_faults(lab, models_dir, tmp_path)
    finally:
        lab.close()


def _run_with_faults(lab, models_dir, tmp_path):
    good = lab.server("good")
    down = lab.server("down")
    changed = lab.server("changed", known=False)
    corrupt = lab.server("corrupt", sftp=f"{sys.executable} {Path(__file__).with_name('corrupt_sftp.py')}")
    with open(lab.known_hosts, "a") as f:  # a key that is not the server's: it "changed"
        f.write(good.known_hosts_line().replace(str(good.port), str(changed.port), 1))
    odd_dir = tmp_path / f"work dir; touch {tmp_path}/PWNED $(touch {tmp_path}/PWNED2)"
    devices = [
        lab.device(good, "good", engine={}),
        lab.device(good, "odd-workdir", work_dir=odd_dir),
        lab.device(good, "no-lce", work_dir=tmp_path / "w-nolce", engine={"python": "/usr/bin/python3"}),
        lab.device(good, "bm-engine", work_dir=tmp_path / "w-bm", max_start_load=1.0,  # a stand-in
                   engine={"use_xnnpack": [False, True]}),
        lab.device(good, "hangs", work_dir=tmp_path / "w-hang", timeout_s=1,
                   engine={"python": str(_hanging_python(tmp_path))}),
        lab.device(down, "down"),
        lab.device(good, "crashes", work_dir=tmp_path / "w-crash",
                   engine={"python": str(_crashing_python(tmp_path))}),
        lab.device(good, "throttles", work_dir=tmp_path / "w-throttle",
                   state_commands={"throttled": [str(_throttle_flags(tmp_path))]}),
        {**lab.device(good, "wrong-key"), "identity_file": str(keygen(tmp_path / "stranger"))},
        lab.device(good, "not-arm", arch="aarch64"),
        lab.device(changed, "changed-key"),
        lab.device(corrupt, "corrupt-link"),
        lab.device(good, "hostile-output", work_dir=tmp_path / "w-hostile", max_start_load=1.0),
    ]
    devices[0]["engines"]["lce_benchmark_model"] = {"binary": str(_fake_aarch64_binary(tmp_path)),
                                                    "use_indirect_bgemm": True, "use_xnnpack": False}
    devices[3]["engines"] = {"lce_benchmark_model": {"binary": str(_benchmark_model_stand_in(tmp_path)),
                                                     "use_indirect_bgemm": True, "use_xnnpack": [False, True],
                                                     "op_profiling": True}}
    devices[-1]["engines"] = {"lce_benchmark_model": {
        "binary": str(_hostile_benchmark_model(tmp_path)), "use_indirect_bgemm": True,
        "use_xnnpack": False}}
    fleet = lab.fleet(devices)
    down.kill()
    result = run_fleet(RunSettings(fleet=str(fleet), models_dir=str(models_dir), measure=QUICK),
                       tmp_path / "reports")
    return result, by_device(read_rows(result.run_dir)), tmp_path


def test_healthy_devices_measure_every_cell(fault_run):
    result, rows, _ = fault_run
    good = [r for r in rows["good"] if r["engine"] == "lce_interpreter"]
    assert len(good) == 4  # 2 models x binary/fp32
    for row in good + rows["odd-workdir"]:
        assert row["status"] in MEASURED, row["error"]
        assert float(row["latency_median_ms"]) > 0
        assert float(row["latency_ci95_low_ms"]) <= float(row["latency_median_ms"]) \
            <= float(row["latency_ci95_high_ms"])
        assert len(row["repeat_medians_ms"].split(";")) == 3
        assert row["device_arch"] == os.uname().machine
    assert {r["model"] for r in good} == {"tiny-bnn", ODD_MODEL}


def test_metacharacters_in_names_and_paths_inject_nothing(fault_run):
    _, rows, root = fault_run
    for folder in (root, Path.cwd(), Path.home()):
        assert not (folder / "PWNED").exists() and not (folder / "PWNED2").exists()
    odd_blobs = next(root.glob("work dir; touch *")).rglob("blobs")
    assert len(list(next(odd_blobs).glob("*.tflite"))) == 2  # the literal path was used
    assert all(r["status"] in MEASURED for r in rows["odd-workdir"])


def test_down_device_is_unreachable_after_retries(fault_run):
    _, rows, _ = fault_run
    assert {r["status"] for r in rows["down"]} == {"unreachable"}
    assert all(r["attempt"] == "3" and "refused" in r["error"] for r in rows["down"])


def test_changed_host_key_stops_the_device(fault_run):
    _, rows, _ = fault_run
    assert {r["status"] for r in rows["changed-key"]} == {"unreachable"}
    assert "host key" in rows["changed-key"][0]["error"] and "changed" in rows["changed-key"][0]["error"]
    assert rows["changed-key"][0]["attempt"] == "1"  # never retried


def test_corrupted_upload_is_a_transfer_failure(fault_run):
    _, rows, _ = fault_run
    assert {r["status"] for r in rows["corrupt-link"]} == {"transfer_failed"}
    assert "did not verify" in rows["corrupt-link"][0]["error"]


def test_hanging_benchmark_is_killed_on_the_device(fault_run):
    result, rows, _ = fault_run
    assert {r["status"] for r in rows["hangs"]} == {"timeout"}
    assert not _sleepers(), "the hanging benchmark outlived its deadline"
    launch = json.loads(next((result.run_dir / "raw" / "hangs").rglob("launch-1.json")).read_text())
    assert launch["argv"][0].endswith("hanging python") and launch["elapsed_s"] < 5


def test_missing_engine_and_wrong_architecture_are_unsupported(fault_run):
    _, rows, _ = fault_run
    assert {r["status"] for r in rows["no-lce"]} == {"unsupported"}
    wrong_arch = [r for r in rows["good"] if r["engine"] == "lce_benchmark_model"]
    assert len(wrong_arch) == 4 and {r["status"] for r in wrong_arch} == {"unsupported"}
    assert "built for aarch64" in wrong_arch[0]["error"]


def test_every_planned_cell_has_exactly_one_row_and_a_run_manifest(fault_run):
    result, rows, _ = fault_run
    all_rows = [r for device_rows in rows.values() for r in device_rows]
    manifest = json.loads((result.run_dir / "run.json").read_text())
    cells = 56 + 4  # the hostile-output device's four cells
    assert len(all_rows) == manifest["cells"] == cells
    assert len({(r["device"], r["model"], r["variant"], r["engine"], r["use_xnnpack"])
                for r in all_rows}) == cells
    assert len(manifest["fleet_sha256"]) == 64 and manifest["tool_version"]
    assert {m["variant"] for m in manifest["models"]} == {"binary", "fp32"}


def test_benchmark_model_engine_end_to_end(fault_run):
    result, rows, _ = fault_run
    cells = rows["bm-engine"]
    assert len(cells) == 8 and {r["use_xnnpack"] for r in cells} == {"true", "false"}
    for row in cells:
        assert row["status"] == "ok" and row["engine"] == "lce_benchmark_model"
        assert float(row["latency_median_ms"]) == pytest.approx(20.741)
        assert float(row["peak_memory_mb"]) == pytest.approx(14.8633) and row["iterations"] == "150"
    argv = json.loads(next((result.run_dir / "raw" / "bm-engine").rglob("launch-1.json")).read_text())["argv"]
    assert "--use_xnnpack=true" in argv or "--use_xnnpack=false" in argv
    assert any(a.startswith("--graph=") and a.endswith(".tflite") for a in argv)
    op_files = list((result.run_dir / "ops").glob("bm-engine*.csv"))
    assert len(op_files) == 8
    assert "LceBconv2d" in op_files[0].read_text()


def test_crashing_benchmark_is_run_failed(fault_run):
    _, rows, _ = fault_run
    assert {r["status"] for r in rows["crashes"]} == {"run_failed"}
    assert rows["crashes"][0]["error"] == "exit code 139: Segmentation fault"


def test_throttling_during_a_cell_is_flagged(fault_run):
    result, rows, _ = fault_run
    statuses = [r["status"] for r in rows["throttles"]]
    assert statuses.count("throttled") >= 2  # at least the first model's pair
    flagged = next(r for r in rows["throttles"] if r["status"] == "throttled")
    assert (flagged["throttled_start"], flagged["throttled_end"]) == ("throttled=0x0", "throttled=0x50005")
    assert flagged["latency_median_ms"]  # measured, kept, but marked
    logged = [json.loads(p.read_text()) for p in (result.run_dir / "raw" / "throttles").rglob("state-commands.json")]
    assert len(logged) == 4 and {"throttled": "throttled=0x0"} in [entry["before"] for entry in logged]


def test_auth_failure_and_wrong_device_are_rows_not_crashes(fault_run):
    _, rows, _ = fault_run
    assert {r["status"] for r in rows["wrong-key"]} == {"unreachable"}
    assert "authentication" in rows["wrong-key"][0]["error"] and rows["wrong-key"][0]["attempt"] == "1"
    assert {r["status"] for r in rows["not-arm"]} == {"unsupported"}
    assert "declares arch aarch64" in rows["not-arm"][0]["error"]


def test_impossible_engine_numbers_fail_their_launch_alone_and_the_device_goes_on(fault_run):
    _, rows, _ = fault_run
    hostile = rows["hostile-output"]
    errors = " | ".join(r["error"] for r in hostile if r["status"] == "run_failed")
    assert "median_ms is not positive (-1.5)" in errors, errors
    assert "median_ms is not a finite number (None)" in errors, errors  # "nan" is no number
    assert "the launch timed no inference (count 0)" in errors, errors
    assert any(r["status"] in MEASURED for r in hostile), hostile
