"""The commands as a user runs them: the default local fleet, and `devices check` over SSH."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from bibench_deploy.fleet.remote import LCE_RUNNER
from tests.fleet.helpers import MEASURED, read_rows

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bibench_deploy", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=300)


def test_main_job_on_the_default_local_fleet(models_dir, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}  # the local device's work dir lives under ~
    result = _cli("run", "--models-dir", str(models_dir), "--models", "tiny-bnn", "--reports-dir",
                  str(tmp_path / "reports"), "--min-secs", "0.05", "--max-repeats", "4", env=env)
    assert result.returncode == 0, result.stderr  # contended or unstable cells still exit 0
    # without a terminal: one progress line per finished cell, then the results table
    assert re.search(r"host: tiny-bnn binary t1: \w+ \d+\.\d{3} ms \(1/4 cells, elapsed \d\d:\d\d",
                     result.stderr), result.stderr
    run_dir = next((tmp_path / "reports").iterdir())
    rows = read_rows(run_dir)
    # Each side over XNNPACK off and on, binary and FP32 alternating; FP32 has no BGEMM switch.
    assert [(r["variant"], r["use_indirect_bgemm"], r["use_xnnpack"]) for r in rows] == [
        ("binary", "true", "false"), ("fp32", "false", "false"),
        ("binary", "true", "true"), ("fp32", "false", "true")]
    assert all(r["status"] in MEASURED and r["device"] == "host" for r in rows)
    assert {r["repeats"] for r in rows} <= {"3", "4"} and len({r["repeats"] for r in rows}) == 1
    assert all(r["stop_reason"] in ("target", "launch_budget") for r in rows)
    # the results table: the fastest cell of each side and their ratio
    line = next(line for line in result.stdout.splitlines() if "tiny-bnn" in line)
    binary_ms, fp32_ms, speedup = re.search(r"(\d+\.\d{3})\s+(\d+\.\d{3})\s+(\d+\.\d\d)x",
                                            line).groups()
    fastest = {v: min(float(r["latency_median_ms"]) for r in rows if r["variant"] == v)
               for v in ("binary", "fp32")}
    assert float(binary_ms) == pytest.approx(fastest["binary"], abs=6e-4)
    assert float(fp32_ms) == pytest.approx(fastest["fp32"], abs=6e-4)
    # the speedup is the ratio of the unrounded medians, printed with 2 decimals
    assert float(speedup) == pytest.approx(fastest["fp32"] / fastest["binary"], abs=0.0051)
    # two cells per side share one model file: each file is pushed once, with the runner
    pushed = json.loads((run_dir / "raw" / "host" / "transfer.json").read_text())["bytes_pushed"]
    files = [models_dir / "tiny-bnn" / f"tiny-bnn{s}.tflite" for s in ("", "-fp32")] + [LCE_RUNNER]
    assert pushed == sum(f.stat().st_size for f in files)
    assert list((run_dir / "raw" / "host").rglob("launch-3.stdout"))
    assert (tmp_path / ".cache" / "bibench-deploy" / "device" / "blobs").is_dir()


def test_devices_check_reports_each_device(lab):
    up, down = lab.server("up"), lab.server("down")
    fleet = lab.fleet([lab.device(up, "up"), lab.device(down, "down")])
    down.kill()
    result = _cli("devices", "check", "--fleet", str(fleet), env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 1  # a device is unreachable
    up_line = next(line for line in result.stdout.splitlines() if line.startswith("up "))
    assert os.uname().machine in up_line and "lce_interpreter: ok 0.16.0" in up_line
    assert "refused" in next(line for line in result.stdout.splitlines() if line.startswith("down"))


def test_bad_option_values_are_one_line_errors(models_dir, tmp_path):
    result = _cli("run", "--threads", "1,x", "--models-dir", str(models_dir))
    assert result.returncode == 2 and "--threads expects comma-separated integers" in result.stderr
    result = _cli("run", "--models-dir", str(tmp_path), "--reports-dir", str(tmp_path / "r"))
    assert result.returncode == 1 and "no built models match" in result.stderr
    result = _cli("run", "--resume", "nope", "--reports-dir", str(tmp_path))
    assert result.returncode == 1 and "no run to resume" in result.stderr


def _local_fleet(tmp_path, name="fleet.yaml", **device) -> Path:
    entry = {"name": "host", "transport": "local", "work_dir": str(tmp_path / "device"),
             "engines": {"lce_interpreter": {}}, **device}
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"devices": [entry]}))
    return path


def test_a_runner_without_a_version_line_is_unsupported(models_dir, tmp_path):
    """An interpreter that prints something else than the runner's JSON: `devices check` names
    the device and says why; `run` marks its cells unsupported with that reason."""
    fake = tmp_path / "python-wrapper"
    fake.write_text(f"#!/bin/sh\n{sys.executable} \"$@\" >/dev/null\necho 'sitecustomize: hello'\n")
    fake.chmod(0o755)
    fleet = _local_fleet(tmp_path, engines={"lce_interpreter": {"python": str(fake)}})
    result = _cli("devices", "check", "--fleet", str(fleet), env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "lce_interpreter: unsupported: the runner's --version printed no JSON version line " \
           "(last line: 'sitecustomize: hello')" in result.stdout
    result = _cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--models",
                  "tiny-bnn", "--reports-dir", str(tmp_path / "r"))
    rows = read_rows(next((tmp_path / "r").iterdir()))
    assert {r["status"] for r in rows} == {"unsupported"}
    assert all("printed no JSON version line" in r["error"] for r in rows)


def _garbage_banner_server() -> tuple[int, threading.Event]:
    """A TCP port that answers like a web server, not like SSH."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    done = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()
        server.close()
    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], done


def test_ssh_library_tracebacks_go_to_the_log_file(tmp_path):
    port, done = _garbage_banner_server()
    try:
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(yaml.safe_dump({"devices": [
            {"name": f"web{i}", "transport": "ssh", "host": "127.0.0.1", "port": port,
             "known_hosts": str(tmp_path / "kh"), "ssh_config": str(tmp_path / "none"),
             "engines": {"lce_interpreter": {}}} for i in range(2)]}))
        env = {**os.environ, "HOME": str(tmp_path), "COLUMNS": "250"}
        result = _cli("devices", "check", "--fleet", str(fleet), env=env)
    finally:
        done.set()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert len([line for line in result.stderr.splitlines() if "error:" in line]) == 2
    log = tmp_path / ".cache" / "bibench-deploy" / "logs" / "libraries.log"
    assert "Traceback" in log.read_text() and "banner" in log.read_text()


def test_a_work_dir_like_an_option_is_refused(models_dir, tmp_path):
    fleet = _local_fleet(tmp_path, work_dir="-c__import__('os').system('touch PWNED')")
    result = _cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir),
                  "--reports-dir", str(tmp_path / "r"))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "field work_dir: work_dir \"-c__import__" in result.stderr
    assert "starts with '-' and would be read as an option" in result.stderr
    assert not (tmp_path / "r").exists()  # validation failed: no empty run directory


def test_failed_validation_leaves_no_run_directory(models_dir, tmp_path):
    reports = tmp_path / "r"
    reports.mkdir()
    for args in (["--devices", "nope"], ["--models", "nothing-*"]):
        result = _cli("run", "--fleet", str(_local_fleet(tmp_path)), "--models-dir",
                      str(models_dir), "--reports-dir", str(reports), *args)
        assert result.returncode == 1, result.stderr
        assert list(reports.iterdir()) == []


def test_a_missing_model_file_is_named(models_dir, tmp_path):
    import shutil
    copy = Path(shutil.copytree(models_dir, tmp_path / "models"))
    (copy / "tiny-bnn" / "tiny-bnn-fp32.tflite").unlink()
    result = _cli("run", "--models-dir", str(copy), "--models", "tiny-bnn",
                  "--fleet", str(_local_fleet(tmp_path)), "--reports-dir", str(tmp_path / "r"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: {copy / 'tiny-bnn' / 'tiny-bnn-fp32.tflite'} is "
                                      "missing (its manifest lists it); rebuild the model with "
                                      "`bibench-deploy build --force`")


def test_a_directory_in_place_of_a_blob_is_refused(models_dir, tmp_path):
    import json
    manifest = json.loads((models_dir / "tiny-bnn" / "manifest.json").read_text())
    blob = tmp_path / "device" / "blobs" / f"{manifest['artefacts']['lce']['sha256']}.tflite"
    blob.mkdir(parents=True)
    result = _cli("run", "--fleet", str(_local_fleet(tmp_path)), "--models-dir", str(models_dir),
                  "--models", "tiny-bnn", "--reports-dir", str(tmp_path / "r"),
                  "--min-secs", "0.02", "--repeats", "1")
    assert result.returncode == 1, result.stderr  # a failed cell: exit 1
    rows = {r["variant"]: r for r in read_rows(next((tmp_path / "r").iterdir()))}
    assert rows["binary"]["status"] == "transfer_failed"
    assert "is a directory, not a file; remove it on the device" in rows["binary"]["error"]
    assert blob.is_dir() and list(blob.iterdir()) == []  # nothing was moved into it


def test_unreachable_cells_print_the_exact_resume_command(models_dir, lab, tmp_path):
    down = lab.server("down")
    fleet = lab.fleet([lab.device(down, "down")])
    down.kill()
    reports = tmp_path / "somewhere else"
    result = _cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--models",
                  "tiny-bnn", "--reports-dir", str(reports))
    assert result.returncode == 1, result.stderr  # unreachable cells failed: exit 1
    assert "unreachable: cannot connect to root@127.0.0.1" in " ".join(result.stdout.split())
    command = result.stderr.split("retry them with: ", 1)[1].splitlines()[0]
    run_id = next(reports.iterdir()).name
    assert command == f"bibench-deploy run --resume {run_id} --reports-dir '{reports}'"
    again = _cli(*shlex.split(command)[1:])  # run from another directory, as a user would
    assert again.returncode == 1, again.stderr
    assert f"run {run_id}: 2 unreachable" in " ".join(again.stderr.split())


def test_devices_check_shows_each_device_as_it_answers(lab):
    up = lab.server("up")
    fleet = lab.fleet([lab.device(up, "up")])
    result = _cli("devices", "check", "--fleet", str(fleet), env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 0
    assert re.search(r"^\[\d\d:\d\d\] up: \S+, \d+ cores, .*lce_interpreter: ok", result.stderr, re.M)


def _in_a_pty(*args: str, env=None, columns: int = 120) -> str:
    """Run the CLI with a terminal as stdout and stderr; returns what the terminal received,
    escape sequences removed."""
    import pty
    import select
    import struct
    import fcntl
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**(env or os.environ), "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    process = subprocess.Popen([sys.executable, "-m", "bibench_deploy", *args], cwd=REPO, env=env,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    received = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            received += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=300)
    os.close(master)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", received.decode(errors="replace"))


def test_live_display_on_a_terminal(models_dir, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    screen = _in_a_pty("run", "--models-dir", str(models_dir), "--models", "tiny-bnn",
                       "--reports-dir", str(tmp_path / "r"), "--min-secs", "0.3", env=env)
    assert re.search(r"host\s+measuring\s+tiny-bnn (binary|fp32) t1 #\d", screen), screen
    assert re.search(r"\d/4 cells, elapsed \d\d:\d\d", screen)
    assert "latency, median of the launches' medians" in screen  # the results table at the end
    assert "host: tiny-bnn binary t1:" not in screen  # log lines only without a terminal
