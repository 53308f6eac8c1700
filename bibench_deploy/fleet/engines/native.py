"""Engines that run a native benchmark binary (lce_benchmark_model, daBNN's benchmark).

The binary is either a host file (`binary`, pushed by content, its ELF architecture checked
against the device's, its bytes against the record of `engines fetch` where it fetched it) or a
file already on the device (`remote_path`). It prints no version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from bibench_deploy.fleet.engines.base import Engine
from bibench_deploy.fleet.engines.fetch import EngineFetchError, verify
from bibench_deploy.fleet.transports.base import Blob
from bibench_deploy.manifest import sha256_file

ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64", 0x28: "arm", 0x03: "i386"}
# A 64-bit ARM kernel also runs 32-bit ARM programs (slower: `engines.getting.userland_note`).
RUNS_ON = {("arm", "aarch64")}
GET_ENGINES = "see `bibench-deploy engines list` and the README's 'Getting the engines'"
ARCH_ALIASES = {"arm64": "aarch64", "armv7l": "arm", "armv8l": "arm", "armv7": "arm", "amd64": "x86_64"}


def normal_arch(arch: str) -> str:
    """One name per CPU architecture, as ELF_MACHINES spells it."""
    return ARCH_ALIASES.get(arch, arch)


def elf_arch(path: Path) -> Optional[str]:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    order = "little" if header[5] == 1 else "big"
    return ELF_MACHINES.get(int.from_bytes(header[18:20], order), "unknown")


class NativeBinary(Engine):
    """Pushing, checking and locating the binary; subclasses give NAME, argv and parse."""

    def files(self, config) -> list[Blob]:
        if config.binary:
            path = Path(config.binary).expanduser()
            return [Blob(path, sha256_file(path), "", executable=True)] if path.is_file() else []
        return []

    def binary_problem(self, config, device_arch: str) -> Optional[str]:
        if not config.binary:
            return None if config.remote_path else "no 'binary' or 'remote_path' configured"
        path = Path(config.binary).expanduser()
        if not path.is_file():
            return f"binary {path} not found on the host; {GET_ENGINES}"
        arch, device_arch = elf_arch(path), normal_arch(device_arch)
        if arch and device_arch and arch != device_arch and (arch, device_arch) not in RUNS_ON:
            return f"binary {path.name} is built for {arch}, the device is {device_arch}"
        try:
            verify(path)
        except EngineFetchError as exc:
            return str(exc)
        return None

    def engine_sha256(self, config) -> str:
        blobs = self.files(config)
        return blobs[0].sha256 if blobs else ""

    def executable(self, config, paths: dict[str, str]) -> str:
        """The binary's path on the device: where it was pushed, else `remote_path`."""
        blobs = self.files(config)
        return paths[blobs[0].sha256] if blobs else config.remote_path

    def check_argv(self, device, config, paths: dict[str, str]) -> list[str]:
        return ["test", "-x", self.executable(config, paths)]

    def quick_check_argv(self, device, config) -> Optional[list[str]]:
        """A binary already on the device must be executable; a host binary is pushed at run time."""
        return ["test", "-x", config.remote_path] if config.remote_path and not config.binary else None

    def check_version(self, stdout: str) -> str:
        return ""
