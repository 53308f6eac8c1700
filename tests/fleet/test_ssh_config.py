"""SSH host aliases resolve as OpenSSH resolves them; host keys read as OpenSSH prints them."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bibench_deploy.fleet.inventory import load_fleet
from bibench_deploy.fleet.transports import open_transport, ssh_config
from bibench_deploy.fleet.transports.base import HostKeyError

needs_openssh = pytest.mark.skipif(shutil.which("ssh") is None, reason="no OpenSSH client")


def _included_config(tmp_path, port: int, key) -> str:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "boards.conf").write_text(
        f"Host board\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {key}\n")
    main = tmp_path / "config"
    main.write_text(f"Include {tmp_path}/conf.d/*.conf\n\nHost *\n  ServerAliveInterval 30\n")
    return str(main)


@needs_openssh
def test_include_is_honoured_through_ssh_G(lab, tmp_path):
    server = lab.server("included")
    config = _included_config(tmp_path, server.port, lab.client_key)
    target = ssh_config.resolve("board", config)
    assert (target["hostname"], target["port"], target["user"]) == ("127.0.0.1", server.port, "root")
    assert target["identity"] == str(lab.client_key) and target["proxyjump"] is None
    device = {"name": "board", "transport": "ssh", "host": "board", "ssh_config": config,
              "known_hosts": str(lab.known_hosts), "engines": {"lce_interpreter": {}}}
    transport = open_transport(load_fleet(lab.fleet([device])).devices[0])
    transport.connect()
    try:
        assert transport.run(["echo", "hi"], 10).stdout == "hi\n"
    finally:
        transport.close()


def test_paramiko_parser_is_the_fallback(tmp_path, monkeypatch):
    config = _included_config(tmp_path, 2222, tmp_path / "key")
    (tmp_path / "plain").write_text("Host pi\n  HostName 10.0.0.7\n  Port 2200\n  User pi\n")
    monkeypatch.setattr(ssh_config.shutil, "which", lambda name: None)
    plain = ssh_config.resolve("pi", str(tmp_path / "plain"))
    assert (plain["hostname"], plain["port"], plain["user"]) == ("10.0.0.7", 2200, "pi")
    assert ssh_config.resolve("board", config)["hostname"] == "board"  # no Include there


@needs_openssh
def test_a_hop_spec_keeps_its_user_and_port(tmp_path):
    empty = tmp_path / "none"
    target = ssh_config.resolve("admin@gateway.lan:2022", str(empty))
    assert (target["user"], target["hostname"], target["port"]) == ("admin", "gateway.lan", 2022)
    assert target["identity"] is None and target["known_hosts"] is None  # OpenSSH defaults


def test_fingerprint_is_openssh_sha256(lab):
    import paramiko
    server = lab.server("fp")
    key = paramiko.PKey.from_path(str(server.host_key))
    printed = subprocess.run(["ssh-keygen", "-lf", f"{server.host_key}.pub"], capture_output=True,
                             text=True, check=True).stdout.split()[1]
    assert ssh_config.fingerprint(key) == printed and printed.startswith("SHA256:")


def test_unknown_host_names_its_key_and_the_whole_known_hosts_path(lab, tmp_path):
    server = lab.server("unknown", known=False)
    deep = tmp_path / "a very long directory name that a table would cut" / "known_hosts"
    device = {**lab.device(server, "unknown"), "known_hosts": str(deep)}
    transport = open_transport(load_fleet(lab.fleet([device])).devices[0])
    with pytest.raises(HostKeyError) as raised:
        transport.connect()
    fingerprint = subprocess.run(["ssh-keygen", "-lf", f"{server.host_key}.pub"],
                                 capture_output=True, text=True).stdout.split()[1]
    assert f"({server.known_hosts_line().split()[1]} {fingerprint}) is not in {deep};" in str(raised.value)
