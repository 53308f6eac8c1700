"""SSH and local transports against real servers: quoting, deadlines, draining, pushes, host keys."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bibench_deploy.fleet.inventory import load_fleet
from bibench_deploy.fleet.transports import open_transport
from bibench_deploy.fleet.transports.base import Blob, HostKeyError, TransferError
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


def _key_fields(server) -> tuple[str, str]:
    key_type, key = server.known_hosts_line().split()[1:3]
    return key_type, key


def test_known_hosts_markers_hashed_names_and_patterns_read_as_openssh_does(lab):
    server = lab.server("marked", known=False)
    key_type, key = _key_fields(server)
    other_type, other = _key_fields(lab.server("other", known=False))
    device = lab.device(server, "marked")
    lines = {
        # a CA line and a revoked other key beside the plain entry: OpenSSH connects with these
        "markers": f"@cert-authority *.example.org {other_type} {other}\n"
                   f"@revoked * {other_type} {other}\n[127.0.0.1]:{server.port} {key_type} {key}\n",
        "pattern": f"!10.*,[127.0.0.?]:{server.port} {key_type} {key}\n",
    }
    for name, text in lines.items():
        lab.known_hosts.write_text(text)
        _connect(lab, device).close()
    lab.known_hosts.write_text(f"[127.0.0.1]:{server.port} {key_type} {key}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(lab.known_hosts)], check=True,
                   capture_output=True)
    assert lab.known_hosts.read_text().startswith("|1|")
    _connect(lab, device).close()
    lab.known_hosts.write_text(f"![127.0.0.1]:{server.port},[127.0.0.?]:{server.port} {key_type} {key}\n")
    with pytest.raises(HostKeyError, match="is not in"):  # the negated pattern excludes it
        _connect(lab, device)


@pytest.mark.parametrize("trust", [False, True])
def test_a_revoked_host_key_is_refused_even_when_listed_or_trusted(lab, trust):
    server = lab.server("revoked", known=False)
    key_type, key = _key_fields(server)
    listed = "" if trust else f"[127.0.0.1]:{server.port} {key_type} {key}\n"
    written = f"@revoked [127.0.0.1]:{server.port} {key_type} {key}\n{listed}"
    lab.known_hosts.write_text(written)
    with pytest.raises(HostKeyError, match="@revoked"):
        _connect(lab, lab.device(server, "revoked"), trust=trust)
    assert lab.known_hosts.read_text() == written  # a trusted run records no revoked key


def _blob(tmp_path: Path, size: int = 50_000) -> Blob:
    local = tmp_path / "model.tflite"
    local.write_bytes(os.urandom(size))
    return Blob(local, sha256_file(local), ".tflite")


@pytest.mark.parametrize("kind", ["ssh", "local"])
def test_a_link_planted_where_a_blob_belongs_is_refused_not_written_through(kind, lab, tmp_path):
    work = tmp_path / f"work-{kind}"
    device = (lab.device(lab.server(f"planted-{kind}"), "planted", work_dir=str(work))
              if kind == "ssh" else {"name": "host", "transport": "local", "work_dir": str(work),
                                     "engines": {"lce_interpreter": {}}})
    transport = _connect(lab, device)
    try:
        blob = _blob(tmp_path)
        victim = tmp_path / "victim"
        victim.write_bytes(b"precious")
        (work / "blobs").mkdir(parents=True)
        (work / "blobs" / blob.name).symlink_to(victim)
        with pytest.raises(TransferError, match="is a link, not a file; remove it on the device"):
            transport.ensure([blob])
        assert victim.read_bytes() == b"precious"
        assert not [p for p in (work / "blobs").iterdir() if p.name.endswith(".part")]
    finally:
        transport.close()


@pytest.mark.parametrize("allowed", [False, True])
def test_a_linked_work_dir_is_refused_unless_the_fleet_file_allows_it(lab, tmp_path, allowed):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "work").symlink_to(real)
    device = lab.device(lab.server("linked"), "linked", work_dir=str(tmp_path / "work"),
                        work_dir_may_be_link=allowed)
    transport = _connect(lab, device)
    try:
        blob = _blob(tmp_path)
        if not allowed:
            with pytest.raises(TransferError, match="is a link; .*work_dir_may_be_link: true"):
                transport.ensure([blob])
            assert not (real / "blobs").exists()
        else:
            transport.ensure([blob])
            assert sha256_file(real / "blobs" / blob.name) == blob.sha256
    finally:
        transport.close()


def test_pushes_of_one_blob_racing_on_one_device_both_succeed(lab, tmp_path):
    """Each upload has a name of its own and the seal keeps a blob already sealed: two workers
    (or a retry beside an abandoned seal) pushing the same file do not fail each other."""
    server = lab.server("race")
    blob = _blob(tmp_path, 2_000_000)
    (tmp_path / "w" / "blobs").mkdir(parents=True)  # as the listing before a push makes it
    transports = [_connect(lab, lab.device(server, f"race{i}", work_dir=str(tmp_path / "w")))
                  for i in range(2)]
    try:
        errors = []

        def push(transport):
            try:
                for _ in range(3):
                    transport._push(blob)
            except TransferError as exc:
                errors.append(exc)
        threads = [threading.Thread(target=push, args=(t,)) for t in transports]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sha256_file(tmp_path / "w" / "blobs" / blob.name) == blob.sha256
        assert not [p for p in (tmp_path / "w" / "blobs").iterdir() if p.name.endswith(".part")]
    finally:
        for transport in transports:
            transport.close()
