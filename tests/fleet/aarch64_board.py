"""A loopback aarch64 board: an OpenSSH server on 127.0.0.1 whose sessions and SFTP transfers land
in the aarch64 userland (bibench_deploy/emulation/build_userland.sh), so the fleet reaches it
through the ssh transport (host key, key authentication, SFTP pushes) as it reaches a Raspberry
Pi, and `uname -m` there says aarch64.

sshd chroots every session into the userland (ChrootDirectory); the shell and every command there
are aarch64 programs, which the kernel runs under qemu-user-static through its binfmt_misc entry
(the F flag opens the emulator at registration, so it works inside a chroot with no emulator in
it). SFTP is `internal-sftp`, part of sshd itself, so it needs no program in the chroot.

The shared userland is never written: the server runs in a mount namespace of its own, where a
tmpfs holds an overlay of the userland (read only) under a writable layer. What the fleet pushes
lives in that tmpfs and goes, mounts included, with the server however it ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Optional

from bibench_deploy.emulation.litert import GUEST_CPU, MARKER
from tests.fleet.sshd import SSHD, SshServer

# sshd refuses a ChrootDirectory with a component that is not root's or that others may write
# (so nothing under /tmp): each board's namespace mounts its own tmpfs on this one directory.
MOUNT_POINT = Path("/run/bibench-aarch64-board")
CHROOT = MOUNT_POINT / "root"
WRITABLE_MB = 512  # the writable layer's limit; it uses memory only for what is written
WORK_DIR = PurePosixPath("/root/bibench-board")  # the fleet's work_dir, inside the userland
BINFMT_ENTRY = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")

# $1 the userland, $2 the mount point, $3 the writable layer's size in MB, then sshd's command
# line.
_MOUNT_AND_SERVE = """set -e
mount -t tmpfs -o size=${3}m,mode=755 bibench-board "$2"
mkdir -m 755 "$2/upper" "$2/work" "$2/root"
mount -t overlay bibench-board -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root"
shift 3
exec "$@"
"""


def board_problem(userland: Path) -> Optional[str]:
    """Why this machine cannot serve the board, or None."""
    if os.geteuid() != 0:
        return "the loopback aarch64 board needs root (mount namespace, overlay, chroot)"
    if not Path(SSHD).is_file() or not shutil.which("unshare"):
        return f"{SSHD} or unshare missing (make system-deps)"
    if not (userland / MARKER).is_file():
        return f"no aarch64 userland at {userland}: make aarch64-userland builds it"
    if "," in str(userland) or ":" in str(userland):
        return f"the userland's path {userland} holds ',' or ':' (overlay options cannot)"
    if not BINFMT_ENTRY.is_file():
        return (f"no binfmt_misc entry {BINFMT_ENTRY} (qemu-user-static): building the userland "
                f"registers it (make aarch64-userland)")
    flags = next((line for line in BINFMT_ENTRY.read_text().splitlines()
                  if line.startswith("flags:")), "")
    if "F" not in flags.partition(":")[2] or "enabled" not in BINFMT_ENTRY.read_text():
        return f"{BINFMT_ENTRY} is disabled or lacks the F flag, so it cannot serve a chroot"
    namespace = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    if namespace.returncode != 0:
        return f"cannot make a mount namespace: {namespace.stderr.strip()}"
    return None


class Aarch64Board(SshServer):
    """An sshd whose sessions run in a private, writable overlay of the aarch64 userland, on
    the CPU the userland describes (qemu-user-static reads QEMU_CPU)."""

    def __init__(self, root: Path, client_public_key: Path, userland: Path):
        super().__init__(root, client_public_key)
        self.userland = Path(userland).resolve()
        self.work_dir = WORK_DIR

    def config_text(self) -> str:
        return super().config_text() + "\n".join([
            f"ChrootDirectory {CHROOT}", f"SetEnv QEMU_CPU={GUEST_CPU}", ""])

    def command(self, config: Path) -> list[str]:
        MOUNT_POINT.mkdir(mode=0o755, exist_ok=True)
        # unshare execs the shell, which execs sshd: one pid, so kill() ends the namespace too.
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", _MOUNT_AND_SERVE,
                "sh", str(self.userland), str(MOUNT_POINT), str(WRITABLE_MB),
                *super().command(config)]
