"""The adb transport's contract, with an `adb` stand-in on PATH that behaves as adb does for a
phone: `shell` hands one command string to the device's sh, `push` copies a file. (No phone or
adb server is available here; this checks quoting and the push/verify flow, not adb itself.)"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bibench_deploy.fleet.inventory import DeviceConfig
from bibench_deploy.fleet.transports import open_transport
from bibench_deploy.fleet.transports.base import Blob, ConnectError
from bibench_deploy.manifest import sha256_file

ADB = """#!/bin/sh
[ "$1" = "-s" ] && shift 2
case "$1" in
  get-state) echo device ;;
  shell) shift; exec sh -c "$*" ;;
  push) cp -- "$2" "$3" && echo "1 file pushed" ;;
  *) echo "adb stand-in: unsupported $1" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def adb(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "adb").write_text(ADB)
    (bin_dir / "adb").chmod(0o755 | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    device = DeviceConfig(name="phone", transport="adb", serial="emulator-5554",
                          work_dir=str(tmp_path / "data local tmp"), engines={"lce_benchmark_model": {}})
    transport = open_transport(device)
    transport.connect()
    return transport


def test_adb_shell_arguments_arrive_verbatim(adb):
    nasty = ["a b", "$(touch PWNED)", "`id`", "; exit 3", "'q'", '"dq"', "*"]
    result = adb.run(["printf", "%s\\n", *nasty], 10)
    assert result.rc == 0 and result.stdout.splitlines() == nasty


def test_adb_push_is_content_addressed(adb, tmp_path):
    local = tmp_path / "m.tflite"
    local.write_bytes(os.urandom(5000))
    blob = Blob(local, sha256_file(local), ".tflite")
    path = adb.ensure([blob])[blob.sha256]
    adb.ensure([blob])
    assert adb.bytes_pushed == 5000 and sha256_file(Path(path)) == blob.sha256


def test_missing_adb_is_a_connect_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    device = DeviceConfig(name="phone", transport="adb", engines={"lce_benchmark_model": {}})
    with pytest.raises(ConnectError, match="adb command is not installed"):
        open_transport(device).connect()
