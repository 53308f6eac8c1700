"""Real OpenSSH servers on 127.0.0.1 for fleet tests: own host key, authorized_keys, port and
work directory each. Used by the tests and by benchmarks/fleet_overhead.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
                   check=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SshServer:
    def __init__(self, root: Path, client_public_key: Path, sftp: str = "internal-sftp"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.work_dir = self.root / "work"
        self.port = free_port()
        self.host_key = keygen(self.root / "host_ed25519")
        (self.root / "authorized_keys").write_text(client_public_key.read_text())
        self.sftp = sftp
        self.process = None

    def config_text(self) -> str:
        return "\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            "PidFile none", "UsePAM no", "StrictModes no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}", "PermitRootLogin yes",
            f"Subsystem sftp {self.sftp}", "LogLevel ERROR", "MaxStartups 200:30:400",
            "AllowTcpForwarding yes", ""])

    def start(self) -> "SshServer":
        Path("/run/sshd").mkdir(exist_ok=True)
        config = self.root / "sshd_config"
        config.write_text(self.config_text())
        log = open(self.root / "sshd.log", "ab")
        self.process = subprocess.Popen(self.command(config), stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL)
        self._wait_listening()
        return self

    def command(self, config: Path) -> list[str]:
        """The server's command line: sshd in the foreground, logging to stderr."""
        return [SSHD, "-D", "-e", "-f", str(config)]

    def _wait_listening(self, timeout_s: float = 10.0) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.root / 'sshd.log').read_text()[-500:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError("sshd did not start listening")

    def known_hosts_line(self) -> str:
        key_type, key = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {key_type} {key}\n"

    def descendants(self) -> list[int]:
        """Pids of the processes this server started (its sessions), found through /proc."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def kill(self) -> None:
        """Kill the server and every session it runs, as a crashed or powered-off device would."""
        if self.process is None or self.process.poll() is not None:
            return
        victims = [self.process.pid, *self.descendants()]
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    stop = kill

    def device(self, name: str, client_key: Path, known_hosts: Path, python: str, **extra) -> dict:
        """A fleet-file entry for this server using the LCE interpreter, one engine option per
        side; the quiet-device guard waits at most `max_wait_s` (default 2 s) for quiet cores."""
        engine = {"python": python, "use_indirect_bgemm": True, "use_xnnpack": False}
        engine.update(extra.pop("engine", {}))
        return {"name": name, "transport": "ssh", "host": "127.0.0.1", "port": self.port,
                "user": "root", "identity_file": str(client_key), "known_hosts": str(known_hosts),
                "ssh_config": str(self.root / "no_ssh_config"),
                "work_dir": str(extra.pop("work_dir", self.work_dir)), "threads": [1],
                "max_wait_s": extra.pop("max_wait_s", 2),
                "engines": {"lce_interpreter": engine}, **extra}
