"""Linux boards over SSH (paramiko): one client and one SFTP session per device worker.

Host keys are checked against known_hosts and an unknown key is refused unless the user asked to
trust and record new keys; keys are shown as OpenSSH shows them (`SHA256:...`). Host aliases
resolve as OpenSSH resolves them (`ssh -G`, see ssh_config.py). Every command is an argument
list, quoted with shlex.join for the remote shell.
"""

from __future__ import annotations

import os
import select
import shlex
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Optional

import paramiko

from bibench_deploy.fleet.transports.base import (AuthError, CommandResult, ConnectError,
                                                  ConnectionLost, HostKeyError, TransferError,
                                                  Transport)
from bibench_deploy.fleet.transports import known_hosts as known_hosts_file
from bibench_deploy.fleet.transports.known_hosts import KnownHosts
from bibench_deploy.fleet.transports.ssh_config import fingerprint, resolve

CONNECT_TIMEOUT_S = 10.0
_known_hosts_lock = threading.Lock()


class UnknownHostKeys(paramiko.MissingHostKeyPolicy):
    """An unknown host key: refused and kept (so the error can show its fingerprint), or, when
    the user trusts new hosts, appended to the known_hosts file; a revoked key is refused always."""

    def __init__(self, known_hosts: Path, known: KnownHosts, trust: bool):
        self.known_hosts, self.known, self.trust = known_hosts, known, trust
        self.refused = None

    def missing_host_key(self, client, hostname, key):
        if not self.trust or self.known.is_revoked(key):
            self.refused = key
            raise paramiko.SSHException(f"{hostname} is not in known_hosts")
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        with _known_hosts_lock:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with open(self.known_hosts, "a") as f:
                f.write(line)
        client.get_host_keys().add(hostname, key.get_name(), key)


class SshTransport(Transport):
    def __init__(self, device, trust_new_hosts: bool = False):
        super().__init__(device)
        self.trust_new_hosts = trust_new_hosts
        self._clients: list[paramiko.SSHClient] = []
        self._sftp: Optional[paramiko.SFTPClient] = None

    @classmethod
    def for_device(cls, device, trust_new_hosts: bool = False) -> "SshTransport":
        return cls(device, trust_new_hosts)

    def _target(self) -> dict:
        target = resolve(self.device.host, self.device.ssh_config)
        target["port"] = self.device.port or target["port"]
        target["user"] = self.device.user or target["user"] or os.environ.get("USER", "root")
        target["identity"] = self.device.identity_file or target["identity"]
        target["known_hosts"] = self.device.known_hosts or target["known_hosts"] or "~/.ssh/known_hosts"
        return target

    def connect(self) -> None:
        self.close()
        target = self._target()
        sock = None
        if target["proxyjump"]:
            sock = self._jump(target)
        self._clients.append(self._open(target, sock))
        self._clients[-1].get_transport().set_keepalive(15)

    def _jump(self, target: dict):
        hop = resolve(target["proxyjump"].split(",")[0], self.device.ssh_config)
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
        known_hosts = Path(os.path.expanduser(target["known_hosts"])).absolute()
        client = paramiko.SSHClient()
        name = known_hosts_file.host_name(target["hostname"], target["port"])
        known = (known_hosts_file.load(known_hosts, name, client.get_host_keys())
                 if known_hosts.is_file() else KnownHosts())
        policy = UnknownHostKeys(known_hosts, known, self.trust_new_hosts)
        client.set_missing_host_key_policy(policy)
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
                               f"{fingerprint(exc.key)}, known as {fingerprint(exc.expected_key)}); "
                               f"refusing to connect. If the device was reinstalled, remove its "
                               f"line from {known_hosts}") from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise AuthError(f"authentication to {where} failed: {exc}") from None
        except paramiko.SSHException as exc:
            client.close()
            if policy.refused is not None:
                key = policy.refused
                _refuse_revoked(key, known, where, known_hosts)
                raise HostKeyError(f"host key of {where} ({key.get_name()} {fingerprint(key)}) "
                                   f"is not in {known_hosts}; verify it (ssh-keygen -lf on the "
                                   f"device's host key) and pass --trust-new-hosts to record "
                                   f"it") from None
            raise ConnectError(f"ssh to {where} failed: {exc}") from None
        except paramiko.ssh_exception.NoValidConnectionsError:
            client.close()
            raise ConnectError(f"cannot connect to {where}: connection refused") from None
        except (OSError, EOFError) as exc:
            client.close()
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ConnectError(f"cannot connect to {where}: {reason}") from None
        try:
            _refuse_revoked(client.get_transport().get_remote_server_key(), known, where,
                            known_hosts)
        except HostKeyError:
            client.close()
            raise
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
            raise ConnectionLost(f"ssh connection lost: {str(exc) or type(exc).__name__}") from None

    def _upload(self, local: Path, remote: str) -> None:
        try:
            if self._sftp is None:
                self._sftp = self._clients[-1].open_sftp()
            _put_exclusive(self._sftp, local, remote)
        except (IOError, paramiko.SSHException, paramiko.SFTPError, EOFError) as exc:
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
        # sshd may send the exit status before the last output; EOF comes after all of it.
        finished = channel.exit_status_ready() and (channel.eof_received or channel.closed)
        if finished and not channel.recv_ready() and not channel.recv_stderr_ready():
            break
        if not channel.get_transport().is_active():
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
    if rc == -1 and _connection_dies(channel.get_transport()):
        raise ConnectionLost("the ssh connection closed while a command ran")
    return CommandResult(rc, _text(out), _text(err), time.monotonic() - start)


def _connection_dies(transport: paramiko.Transport, settle_s: float = 1.0) -> bool:
    """No exit status means the command died of a signal (paramiko ignores `exit-signal`) or
    the connection broke; paramiko closes the channels a moment before marking the transport
    inactive, so give it that moment to tell the two apart."""
    end = time.monotonic() + settle_s
    while time.monotonic() < end:
        if not transport.is_active():
            return True
        time.sleep(0.01)
    return False


def _text(data: bytes) -> str:
    return bytes(data).decode("utf-8", errors="replace")


TRANSPORT = SshTransport


def _refuse_revoked(key: paramiko.PKey, known: KnownHosts, where: str,
                    known_hosts: Path) -> None:
    """A key marked `@revoked` is refused even where another line lists it as known."""
    if known.is_revoked(key):
        raise HostKeyError(f"host key of {where} ({key.get_name()} {fingerprint(key)}) is marked "
                           f"@revoked in {known_hosts}; refusing to connect")


def _put_exclusive(sftp: paramiko.SFTPClient, local: Path, remote: str) -> None:
    """sftp.put, but the remote file is one this call creates (CREATE | EXCL): a file or a link
    planted under its name fails the upload instead of being written through."""
    with sftp.open(remote, "wx") as f, open(local, "rb") as source:
        f.set_pipelined(True)
        shutil.copyfileobj(source, f, 1 << 15)
    size = sftp.stat(remote).st_size
    if size != local.stat().st_size:
        raise IOError(f"size mismatch: {size} of {local.stat().st_size} bytes arrived")
