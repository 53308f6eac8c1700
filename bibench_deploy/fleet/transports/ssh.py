"""Linux boards over SSH (paramiko): one client and one SFTP session per device worker.

Host keys are checked against known_hosts and an unknown key is refused unless the user asked to
trust and record new keys. `~/.ssh/config` aliases (HostName, User, Port, IdentityFile, ProxyJump)
are honoured. Every command is an argument list, quoted with shlex.join for the remote shell.
"""

from __future__ import annotations

import os
import select
import shlex
import socket
import threading
import time
from pathlib import Path
from typing import Optional

import paramiko

from bibench_deploy.fleet.transports.base import (AuthError, CommandResult, ConnectError,
                                                  ConnectionLost, HostKeyError, TransferError,
                                                  Transport)

CONNECT_TIMEOUT_S = 10.0
_known_hosts_lock = threading.Lock()


class TrustAndRecord(paramiko.MissingHostKeyPolicy):
    """Accept an unknown (never a changed) host key and append it to the known_hosts file."""

    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        with _known_hosts_lock:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with open(self.known_hosts, "a") as f:
                f.write(line)
        client.get_host_keys().add(hostname, key.get_name(), key)


def _ssh_config(path: Optional[str]) -> paramiko.SSHConfig:
    config_path = Path(os.path.expanduser(path or "~/.ssh/config"))
    if config_path.is_file():
        return paramiko.SSHConfig.from_path(str(config_path))
    return paramiko.SSHConfig()


def _endpoint(spec: str, config: paramiko.SSHConfig) -> dict:
    """Resolve 'alias' or 'user@host:port' (a ProxyJump hop) through the ssh config."""
    user, _, hostport = spec.rpartition("@")
    host, _, port = hostport.partition(":")
    entry = config.lookup(host)
    return {"hostname": entry.get("hostname", host), "port": int(port or entry.get("port", 22)),
            "user": user or entry.get("user"), "identity": (entry.get("identityfile") or [None])[0],
            "proxyjump": entry.get("proxyjump"), "known_hosts": entry.get("userknownhostsfile")}


class SshTransport(Transport):
    def __init__(self, device, trust_new_hosts: bool = False):
        super().__init__(device)
        self.trust_new_hosts = trust_new_hosts
        self._clients: list[paramiko.SSHClient] = []
        self._sftp: Optional[paramiko.SFTPClient] = None

    def _target(self, config: paramiko.SSHConfig) -> dict:
        target = _endpoint(self.device.host, config)
        target["port"] = self.device.port or target["port"]
        target["user"] = self.device.user or target["user"] or os.environ.get("USER", "root")
        target["identity"] = self.device.identity_file or target["identity"]
        target["known_hosts"] = self.device.known_hosts or target["known_hosts"] or "~/.ssh/known_hosts"
        return target

    def connect(self) -> None:
        self.close()
        config = _ssh_config(self.device.ssh_config)
        target = self._target(config)
        sock = None
        if target["proxyjump"]:
            sock = self._jump(target, config)
        self._clients.append(self._open(target, sock))
        self._clients[-1].get_transport().set_keepalive(15)

    def _jump(self, target: dict, config: paramiko.SSHConfig):
        hop = _endpoint(target["proxyjump"].split(",")[0], config)
        hop["user"] = hop["user"] or target["user"]
        hop["known_hosts"] = hop["known_hosts"] or target["known_hosts"]
        hop["identity"] = hop["identity"] or target["identity"]
        jump = self._open(hop, None)
        self._clients.append(jump)
        try:
            return jump.get_transport().open_channel(
                "direct-tcpip", (target["hostname"], target["port"]), ("127.0.0.1", 0),
                timeout=CONNECT_TIMEOUT_S)
        except (paramiko.SSHException, OSError) as exc:
            raise ConnectError(f"jump host {hop['hostname']} cannot reach "
                               f"{target['hostname']}:{target['port']}: {exc}") from None

    def _open(self, target: dict, sock) -> paramiko.SSHClient:
        known_hosts = Path(os.path.expanduser(target["known_hosts"]))
        client = paramiko.SSHClient()
        if known_hosts.is_file():
            client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(
            TrustAndRecord(known_hosts) if self.trust_new_hosts else paramiko.RejectPolicy())
        where = f"{target['user']}@{target['hostname']}:{target['port']}"
        identity = os.path.expanduser(target["identity"]) if target["identity"] else None
        try:
            client.connect(target["hostname"], target["port"], username=target["user"],
                           key_filename=identity, look_for_keys=identity is None,
                           allow_agent=identity is None, sock=sock, timeout=CONNECT_TIMEOUT_S,
                           banner_timeout=CONNECT_TIMEOUT_S, auth_timeout=CONNECT_TIMEOUT_S)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(f"host key of {where} changed (now {exc.key.get_name()} "
                               f"{exc.key.get_fingerprint().hex()}); refusing to connect. If the "
                               f"device was reinstalled, remove its line from {known_hosts}") from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise AuthError(f"authentication to {where} failed: {exc}") from None
        except paramiko.SSHException as exc:
            client.close()
            if "known_hosts" in str(exc):
                raise HostKeyError(f"host key of {where} is not in {known_hosts}; verify it and "
                                   f"pass --trust-new-hosts to record it") from None
            raise ConnectError(f"ssh to {where} failed: {exc}") from None
        except (OSError, EOFError) as exc:
            client.close()
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ConnectError(f"cannot connect to {where}: {reason}") from None
        return client

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        for client in reversed(self._clients):
            client.close()
        self._clients = []

    def _transport(self) -> paramiko.Transport:
        transport = self._clients[-1].get_transport() if self._clients else None
        if transport is None or not transport.is_active():
            raise ConnectionLost("the ssh connection is closed")
        return transport

    def _exec(self, argv: list[str], host_deadline_s: float) -> CommandResult:
        start = time.monotonic()
        try:
            channel = self._transport().open_session(timeout=CONNECT_TIMEOUT_S)
            channel.exec_command(shlex.join(argv))
            return _drain(channel, start, host_deadline_s)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise ConnectionLost(f"ssh connection lost: {exc or type(exc).__name__}") from None

    def _upload(self, local: Path, remote: str) -> None:
        try:
            if self._sftp is None:
                self._sftp = self._clients[-1].open_sftp()
            self._sftp.put(str(local), remote, confirm=True)
        except (IOError, paramiko.SSHException, EOFError) as exc:
            if not self._transport().is_active():
                raise ConnectionLost(f"ssh connection lost during upload: {exc}") from None
            raise TransferError(f"upload of {local.name} to {remote} failed: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None


def _drain(channel: paramiko.Channel, start: float, host_deadline_s: float) -> CommandResult:
    """Read stdout and stderr until the command exits; both are drained so it cannot block."""
    out, err = bytearray(), bytearray()
    deadline = start + host_deadline_s
    while True:
        while channel.recv_ready():
            out += channel.recv(1 << 16)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(1 << 16)
        if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
            break
        if channel.closed or not channel.get_transport().is_active():
            raise ConnectionLost("the ssh connection closed while a command ran")
        if time.monotonic() > deadline:
            channel.close()
            return CommandResult(-9, _text(out), _text(err), time.monotonic() - start, True)
        if channel.eof_received:
            time.sleep(0.002)
        else:
            select.select([channel], [], [], 0.05)
    rc = channel.recv_exit_status()
    channel.close()
    return CommandResult(rc, _text(out), _text(err), time.monotonic() - start)


def _text(data: bytes) -> str:
    return bytes(data).decode("utf-8", errors="replace")
