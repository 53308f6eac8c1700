"""What every transport offers: run an argument list under a deadline, push files by content.

A transport knows how to execute `argv` on its device (`_exec`) and copy one file (`_upload`);
deadlines, content addressing and hash verification live here, once for all transports.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

from bibench_deploy.errors import FleetError

HOST_GRACE_S = 5.0        # the host waits this much longer than the device-side deadline
# How a command killed by `timeout -s KILL` reads: 137 from a shell, -9 from a local
# subprocess, -1 over SSH (GNU timeout re-raises the signal, so sshd reports a signal, no status).
SIGKILL_RCS = (137, -9, -1)


class TransportError(FleetError):
    """A device could not be used through its transport."""


class ConnectError(TransportError):
    """Connecting failed in a way that may pass (refused, timed out): retried with backoff."""


class HostKeyError(TransportError):
    """The device's host key is unknown or changed: never retried."""


class AuthError(TransportError):
    """Authentication failed: never retried."""


class ConnectionLost(TransportError):
    """An established connection broke while a command ran."""


class TransferError(TransportError):
    """A file could not be pushed, or it did not hash to its sha256 on the device."""


@dataclass
class CommandResult:
    rc: int
    stdout: str
    stderr: str
    elapsed_s: float
    timed_out: bool = False


@dataclass(frozen=True)
class Blob:
    """A host file to be present on the device under a name derived from its sha256."""
    local: Path
    sha256: str
    suffix: str = ""
    executable: bool = False

    @property
    def name(self) -> str:
        return f"{self.sha256}{self.suffix}"


# Fixed scripts: they take every variable part as a positional parameter, never as text.
# The listing: $1 the work dir, $2 whether it (or blobs/) may be a link, then blob names. A work
# dir shared with others must not lead the pushes elsewhere, so a linked work dir or blobs/ is
# refused unless the fleet file allows it; only regular files, never links, are hashed.
_LIST_SCRIPT = ('w=${1%/}; b=$1/blobs; may=$2; shift 2; '
                'linked() { [ "$may" != yes ] && [ -L "$1" ] && { echo "$1 is a link; the tool '
                'does not follow links in a work dir (set work_dir_may_be_link: true in the fleet '
                'file if it should)" >&2; exit 5; }; }; '
                'linked "$w"; mkdir -p -- "$b" || exit 5; linked "$b"; cd -- "$b" || exit 5; '
                'for n in "$@"; do if [ -f "$n" ] && [ ! -L "$n" ]; then '
                'sha256sum -- "$n" 2>/dev/null; fi; done; exit 0')
# Sealing an upload ($2, a name of its own) as blob $4: a directory or a link where the blob
# belongs is refused (`mv` would move into it, or write through it); a blob another push already
# sealed with the right content is kept (sealing is idempotent).
_SEAL_SCRIPT = ('cd -- "$1" && what= && if [ -L "$4" ]; then what=link; '
                'elif [ -d "$4" ]; then what=directory; fi; if [ -n "$what" ]; then rm -f -- "$2"; '
                'echo "$1/$4 is a $what, not a file; remove it on the device" >&2; exit 4; fi; '
                'h=$(sha256sum -- "$2" | cut -d" " -f1) && [ "$h" = "$3" ] '
                '&& chmod "$5" -- "$2" && mv -f -- "$2" "$4" '
                '|| { rm -f -- "$2"; echo "uploaded file hashes to $h" >&2; exit 3; }')
_SEAL_BLOCKED = 4


class Transport(ABC):
    """How the host reaches one device. Each transport module defines one subclass and names it
    `TRANSPORT`; `bibench_deploy.fleet.transports.TRANSPORTS` registers it under the fleet file's
    `transport:` value. A subclass implements connect, _exec and _upload (close where it holds a
    connection); everything else is built on those here.

    Errors: connect raises ConnectError (retried), HostKeyError or AuthError (not retried);
    a broken connection during a command is ConnectionLost; a failed push TransferError.
    """

    def __init__(self, device):
        self.device = device
        self.work_dir = self._device_path(device.work_dir)
        self.bytes_pushed = 0

    @classmethod
    def for_device(cls, device, trust_new_hosts: bool = False) -> "Transport":
        """The transport of `device`; `trust_new_hosts` matters to those that check host keys."""
        return cls(device)

    @staticmethod
    def _device_path(path: str) -> str:
        """`work_dir` as the device's commands see it."""
        # Commands and SFTP both start in the home directory, so '~/x' is simply 'x'.
        if path == "~":
            return "."
        return path[2:] if path.startswith("~/") else path

    @property
    def blob_dir(self) -> str:
        return str(PurePosixPath(self.work_dir) / "blobs")

    COUNTS_INSTRUCTIONS = False     # an emulated device: cells are counted, never timed

    def describe(self, info):
        """What the device is (fleet/probe.py's DeviceInfo), as its probe script found it; a
        transport whose programs run elsewhere than its scripts (emulated) corrects it."""
        return info

    @abstractmethod
    def connect(self) -> None:
        """Open the connection (or check the device is there)."""

    def close(self) -> None:
        """Let go of the connection; safe to call twice, or before connect."""

    @abstractmethod
    def _exec(self, argv: list[str], host_deadline_s: float) -> CommandResult:
        """Run `argv` on the device, quoted for its shell where it has one; the host gives up
        after `host_deadline_s`."""

    @abstractmethod
    def _upload(self, local: Path, remote: str) -> None:
        """Copy one host file to `remote` on the device, creating its directory and the file
        itself exclusively: an existing file or link at `remote` fails the upload, never is
        written through."""

    def run(self, argv: list[str], deadline_s: float) -> CommandResult:
        """Run `argv` on the device, killed there by `timeout -s KILL` after `deadline_s`."""
        seconds = max(1, math.ceil(deadline_s))
        result = self._exec(["timeout", "-s", "KILL", str(seconds), *argv], seconds + HOST_GRACE_S)
        if result.rc in SIGKILL_RCS and result.elapsed_s >= seconds - 0.5:
            result.timed_out = True
        return result

    def sh(self, script: str, args: list[str], deadline_s: float = 30.0) -> CommandResult:
        """Run one of the tool's own fixed scripts; `args` reach it as $1, $2, ..."""
        return self.run(["sh", "-c", script, "sh", *args], deadline_s)

    def remote_path(self, blob: Blob) -> str:
        return str(PurePosixPath(self.blob_dir) / blob.name)

    def present_blobs(self, blobs: list[Blob]) -> set[str]:
        """Names of the blobs already on the device with the right content."""
        if not blobs:  # an engine binary already on the device (`remote_path`): nothing to list
            return set()
        may_link = "yes" if self.device.work_dir_may_be_link else "no"
        result = self.sh(_LIST_SCRIPT, [self.work_dir, may_link, *[b.name for b in blobs]])
        if result.rc != 0:
            raise TransferError(f"cannot list {self.blob_dir} on the device: {_failure(result)}")
        hashes = {}
        for line in result.stdout.splitlines():
            digest, _, name = line.partition(" ")
            hashes[name.strip().lstrip("*")] = digest
        return {b.name for b in blobs if hashes.get(b.name) == b.sha256}

    def ensure(self, blobs: list[Blob], present: Optional[set[str]] = None) -> dict[str, str]:
        """Push what is missing or corrupted; returns sha256 -> path on the device.
        `present`: the result of present_blobs(blobs) when the caller already asked."""
        present = self.present_blobs(blobs) if present is None else present
        for blob in blobs:
            if blob.name not in present:
                self._push(blob)
        return {b.sha256: self.remote_path(b) for b in blobs}

    def _push(self, blob: Blob, tries: int = 2) -> None:
        for attempt in range(1, tries + 1):
            # a name of its own per upload: a seal abandoned at the host's deadline that still
            # runs on the device cannot race this one, and no one can plant a link under it
            part = f".{blob.name}.{secrets.token_hex(8)}.part"
            self._upload(blob.local, str(PurePosixPath(self.blob_dir) / part))
            self.bytes_pushed += blob.local.stat().st_size
            mode = "755" if blob.executable else "644"
            sealed = self.sh(_SEAL_SCRIPT, [self.blob_dir, part, blob.sha256, blob.name, mode])
            if sealed.rc == 0:
                return
            reason = _failure(sealed)
            if sealed.rc == _SEAL_BLOCKED:
                raise TransferError(f"cannot push {blob.local.name}: {reason}")
        raise TransferError(f"upload of {blob.local.name} did not verify after {tries} tries "
                            f"(expected sha256 {blob.sha256[:12]}, {reason})")


def _failure(result: CommandResult) -> str:
    """Why one of the tool's scripts failed: its last error line, exit code, or the deadline."""
    if result.timed_out:
        return f"timed out after {result.elapsed_s:.1f} s"
    lines = [line.strip() for line in result.stderr.strip().splitlines() if line.strip()]
    status = ("no exit status (the command's channel closed)" if result.rc == -1
              else f"exit code {result.rc}")
    return f"{lines[-1]} ({status})" if lines else status


def exclusive_copy(local: Path, remote: str) -> None:
    """`_upload` on the host's own file system: the copy is a file this call creates (O_EXCL,
    O_NOFOLLOW), so a link planted at `remote` fails it instead of being followed."""
    target = Path(remote)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(local, "rb") as source, os.fdopen(fd, "wb") as copy:
            shutil.copyfileobj(source, copy)
    except OSError as exc:
        raise TransferError(f"copy of {local.name} to {remote} failed: {exc.strerror}") from None
