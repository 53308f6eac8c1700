"""known_hosts read as OpenSSH reads it, for paramiko.

paramiko's own loader stops at an `@cert-authority` or `@revoked` line and knows no host
patterns. Here every line is read the way sshd(8) describes the format: plain and hashed
(`|1|...`) host names are handed to paramiko, a pattern entry (`*`, `?`, `!negated`) is handed on
under the name being connected to when it matches it, `@revoked` keys are collected so that a
device presenting one is refused, and `@cert-authority` lines are skipped (the tool verifies
host keys, not certificates). Lines it cannot read are skipped, as OpenSSH skips them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import paramiko

MAX_BYTES = 16 << 20  # a known_hosts file larger than this is not read whole
_PATTERN_CHARS = ("*", "?", "!")


@dataclass
class KnownHosts:
    keys: paramiko.HostKeys = field(default_factory=paramiko.HostKeys)
    revoked: set[tuple[str, str]] = field(default_factory=set)  # (key type, base64)

    def is_revoked(self, key: paramiko.PKey) -> bool:
        return (key.get_name(), key.get_base64()) in self.revoked


def host_name(hostname: str, port: int) -> str:
    """How known_hosts names a host: `host` on port 22, `[host]:port` elsewhere."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def matches(patterns: str, name: str) -> bool:
    """OpenSSH's pattern-list rule: some pattern matches and no negated one does."""
    hit = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        if _wildcard(pattern.lstrip("!")).fullmatch(name.lower()):
            if negated:
                return False
            hit = True
    return hit


def _wildcard(pattern: str) -> re.Pattern:
    """OpenSSH's wildcards: `*` and `?` only (`[` and `]` are literal, as in `[host]:port`)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern.lower()))


def load(path: Path, name: str, keys: Optional[paramiko.HostKeys] = None) -> KnownHosts:
    """The host keys of `path` that paramiko needs to verify `name` (see `host_name`), added to
    `keys` (a client's own, for instance) where given."""
    known = KnownHosts() if keys is None else KnownHosts(keys)
    with open(path, "rb") as f:
        text = f.read(MAX_BYTES).decode("utf-8", errors="replace")
    for line in text.splitlines():
        _read_line(known, line.strip(), name)
    return known


def _read_line(known: KnownHosts, line: str, name: str) -> None:
    if not line or line.startswith("#"):
        return
    if line.startswith("@"):
        marker, _, rest = line.partition(" ")
        fields = rest.split()
        if marker == "@revoked" and len(fields) >= 3:
            known.revoked.add((fields[1], fields[2]))
        return
    fields = line.split()
    if len(fields) < 3:
        return
    if any(char in fields[0] for char in _PATTERN_CHARS) and not fields[0].startswith("|"):
        if not matches(fields[0], name):
            return
        line = " ".join([name, *fields[1:]])
    try:
        entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
    except (paramiko.SSHException, ValueError, TypeError, IndexError):
        return
    if entry is not None:
        for host in entry.hostnames:
            known.keys.add(host, entry.key.get_name(), entry.key)
