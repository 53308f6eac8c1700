"""Resolve an SSH host alias as OpenSSH does, and show host keys as OpenSSH does.

Where the `ssh` client is installed, `ssh -G HOST` prints the configuration OpenSSH itself would
use (Include, Match, Host patterns, tokens, /etc/ssh/ssh_config); without it, paramiko's parser
of the user's config file is the fallback (no Include, no Match exec).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from bibench_deploy.fleet.transports.base import TransportError

SSH_G_TIMEOUT_S = 10.0
# The identity files OpenSSH lists when none is configured: then keys are looked for as usual.
_DEFAULT_IDENTITIES = {f"~/.ssh/{name}" for name in (
    "id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa")}

_DEFAULT_KNOWN_HOSTS = {os.path.expanduser(f"~/.ssh/{name}") for name in ("known_hosts", "known_hosts2")}


def fingerprint(key) -> str:
    """`SHA256:<base64>` of a paramiko key, as `ssh-keygen -l` and ssh's prompts print it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def split_spec(spec: str) -> tuple[str, str, str]:
    """'user@host:port' (a ProxyJump hop) -> (user, host, port); user and port may be ''."""
    user, _, hostport = spec.rpartition("@")
    host, _, port = hostport.partition(":")
    return user, host, port


def resolve(spec: str, config_file: Optional[str]) -> dict:
    """hostname, port, user, identity, proxyjump and known_hosts of `spec` ('alias' or
    'user@host:port'); `config_file` replaces ~/.ssh/config (a missing file: no config)."""
    user, host, port = split_spec(spec)
    ssh = shutil.which("ssh")
    entry = _ssh_g(ssh, host, config_file) if ssh else _paramiko_lookup(host, config_file)
    identities = entry.get("identityfile") or []
    known_hosts = entry.get("userknownhostsfile") or [None]
    if {os.path.expanduser(k) for k in known_hosts if k} <= _DEFAULT_KNOWN_HOSTS:
        known_hosts = [None]  # OpenSSH's default: the device's known_hosts setting decides
    return {"hostname": (entry.get("hostname") or [host])[0],
            "port": int(port or (entry.get("port") or [22])[0]),
            "user": user or (entry.get("user") or [None])[0],
            "identity": None if set(identities) <= _DEFAULT_IDENTITIES else identities[0],
            "proxyjump": (entry.get("proxyjump") or [None])[0],
            "known_hosts": known_hosts[0]}


def _ssh_g(ssh: str, host: str, config_file: Optional[str]) -> dict[str, list[str]]:
    argv = [ssh, "-G"]
    if config_file is not None:
        path = Path(os.path.expanduser(config_file))
        argv += ["-F", str(path) if path.is_file() else os.devnull]
    try:
        result = subprocess.run([*argv, "--", host], capture_output=True, text=True,
                                timeout=SSH_G_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TransportError(f"`ssh -G {host}` failed: {exc}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise TransportError(f"ssh cannot read its configuration for {host!r}: "
                           f"{lines[-1] if lines else f'exit code {result.returncode}'}")
    entry: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in ("userknownhostsfile",):
            entry[key] = value.split()
        elif key in ("hostname", "port", "user", "identityfile", "proxyjump"):
            entry.setdefault(key, []).append(value)
    if entry.get("proxyjump") == ["none"]:
        entry.pop("proxyjump")
    return entry


def _paramiko_lookup(host: str, config_file: Optional[str]) -> dict[str, list[str]]:
    import paramiko
    path = Path(os.path.expanduser(config_file or "~/.ssh/config"))
    config = paramiko.SSHConfig.from_path(str(path)) if path.is_file() else paramiko.SSHConfig()
    found = config.lookup(host)
    entry = {key: [found[key]] for key in ("hostname", "port", "user", "proxyjump") if key in found}
    if "identityfile" in found:
        entry["identityfile"] = list(found["identityfile"])
    if "userknownhostsfile" in found:
        entry["userknownhostsfile"] = found["userknownhostsfile"].split()
    return entry
