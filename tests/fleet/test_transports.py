"""SSH and local transports against real servers: quoting, deadlines, draining, pushes, host keys."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bibench_deploy.fleet.inventory import load_fleet
from bibench_deploy.fleet.transports import open_transport
from bibench_deploy.fleet.transports.base import Blob, HostKeyError
from bibench_deploy.manifest import sha256_file

pytestmark = pytest.mark.sshd

NASTY = ["a b", "$(touch PWNED)", "`id`", "; rm -rf /nonexistent", "'q'", '"dq"', "\\", "*", "\n", ""]


def _connect(lab, device: dict, trust: bool = False):
    transport = open_transport(load_fleet(lab.fleet([device])).devices[0], trust)
    transport.connect()
    return transport


@pytest.fixture
def ssh(lab):
    server = lab.server("s")
    transport = _connect(lab, lab.device(server, "s"))
    yield transport
    transport.close()


@pytest.fixture
def local(tmp_path):
    from bibench_deploy.fleet.inventory import DeviceConfig
    device = DeviceConfig(name="host", transport="local", work_dir=str(tmp_path / "work"),
                          engines={"lce_interpreter": {}})
    transport = open_transport(device)
    transport.connect()
    return transport


@pytest.mark.parametrize("kind", ["ssh", "local"])
def test_arguments_arrive_verbatim(kind, request, tmp_path):
    transport = request.getfixturevalue(kind)
    result = transport.run(["printf", "%s\\0", *NASTY], 10)
    assert result.rc == 0 and result.stdout.split("\0")[:-1] == NASTY
    assert not Path("PWNED").exists() and not Path.home().joinpath("PWNED").exists()


@pytest.mark.parametrize("kind", ["ssh", "local"])
def test_deadline_kills_the_command_on_the_device(kind, request):
    transport = request.getfixturevalue(kind)
    start = time.monotonic()
    result = transport.run(["sh", "-c", "echo started; exec sleep 3131.5"], 1)
    assert result.timed_out and "started" in result.stdout
    assert time.monotonic() - start < 4
    leftovers = [p for p in filter(str.isdigit, os.listdir("/proc"))
                 if b"3131.5" in _cmdline(p)]
    assert not leftovers


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_large_stdout_and_stderr_are_drained(ssh):
    script = "head -c 4000000 /dev/zero | tr '\\0' o; head -c 4000000 /dev/zero | tr '\\0' e >&2; exit 7"
    result = ssh.run(["sh", "-c", script], 30)
    assert (result.rc, len(result.stdout), len(result.stderr)) == (7, 4_000_000, 4_000_000)


@pytest.mark.parametrize("kind", ["ssh", "local"])
def test_push_is_content_addressed_and_repairs_corruption(kind, request, tmp_path):
    transport = request.getfixturevalue(kind)
    local = tmp_path / "model file.tflite"
    local.write_bytes(os.urandom(200_000))
    blob = Blob(local, sha256_file(local), ".tflite")
    paths = transport.ensure([blob])
    assert transport.bytes_pushed == 200_000
    transport.ensure([blob])
    assert transport.bytes_pushed == 200_000  # already there: nothing sent
    remote = Path(paths[blob.sha256])
    remote = remote if remote.is_absolute() else Path.home() / remote
    remote.write_bytes(b"garbage")                # the stored copy gets damaged
    transport.ensure([blob])
    assert transport.bytes_pushed == 400_000 and sha256_file(remote) == blob.sha256


def test_unknown_host_key_is_refused_unless_trusted(lab):
    server = lab.server("new", known=False)
    with pytest.raises(HostKeyError, match="--trust-new-hosts"):
        _connect(lab, lab.device(server, "new"))
    _connect(lab, lab.device(server, "new"), trust=True).close()
    assert server.known_hosts_line() in lab.known_hosts.read_text()
    _connect(lab, lab.device(server, "new")).close()  # recorded: now known


def test_ssh_config_alias_and_proxy_jump(lab, tmp_path):
    jump, target = lab.server("jump"), lab.server("target")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host gateway\n  HostName 127.0.0.1\n  Port {jump.port}\n  User root\n"
                      f"  IdentityFile {lab.client_key}\n\n"
                      f"Host board\n  HostName 127.0.0.1\n  Port {target.port}\n  User root\n"
                      f"  IdentityFile {lab.client_key}\n  ProxyJump gateway\n")
    device = {"name": "board", "transport": "ssh", "host": "board", "ssh_config": str(config),
              "known_hosts": str(lab.known_hosts), "engines": {"lce_interpreter": {}}}
    transport = _connect(lab, device)
    try:
        result = transport.run(["sh", "-c", "echo $SSH_CONNECTION"], 10)
        assert result.stdout.split()[-1] == str(target.port)
        assert len(transport._clients) == 2  # the jump host and the board
    finally:
        transport.close()
