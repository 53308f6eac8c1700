"""The instruction-counting qemu plugin, compiled on first use with the host's C compiler and
cached by the sha256 of its source and the compiler's version."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from bibench_deploy.emulation.errors import INSTALL_HINT, PluginBuildError, ToolMissingError

SOURCE = Path(__file__).with_name("insn_count.c")
COMPILERS = ("cc", "gcc")
QEMU = "qemu-aarch64"


def find_qemu() -> str:
    """Path of the plugin-capable qemu-user emulator (qemu-user-static cannot load plugins)."""
    found = shutil.which(QEMU)
    if not found:
        raise ToolMissingError(f"{QEMU} not found on PATH: {INSTALL_HINT}")
    return found


def find_compiler() -> str:
    for name in COMPILERS:
        found = shutil.which(name)
        if found:
            return found
    raise ToolMissingError(f"no C compiler (cc or gcc) on PATH to build the qemu plugin: "
                           f"{INSTALL_HINT}")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bibench-deploy" / "qemu-plugins"


def plugin_key(source: bytes, compiler_version: str) -> str:
    return hashlib.sha256(source + b"\0" + compiler_version.encode()).hexdigest()[:16]


def plugin_path(cache: Path | None = None) -> Path:
    """The compiled plugin (built now if this source and compiler have not built it yet)."""
    compiler = find_compiler()
    version = _compiler_version(compiler)
    directory = _private_dir(cache or cache_dir())
    target = directory / f"insn_count-{plugin_key(SOURCE.read_bytes(), version)}.so"
    if not _is_plain_file(target):
        _compile(compiler, target)
    return target


def _compiler_version(compiler: str) -> str:
    result = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.splitlines()[0] if result.stdout else compiler


def _private_dir(directory: Path) -> Path:
    """The cache directory, made if missing; refused if it is a link or someone else's, since a
    library loaded into the emulator must come from nobody but us."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PluginBuildError(f"plugin cache {directory} is a link, not ours, or writable by "
                               f"others; remove it")
    return directory


def _is_plain_file(path: Path) -> bool:
    """A regular file, never a link (rename replaces a planted link instead of following it)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _compile(compiler: str, target: Path) -> None:
    """Compiles into a temporary file beside the target, then renames it into place, so
    concurrent first uses never load a half-written library."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".insn_count-", suffix=".so")
    os.close(handle)
    try:
        result = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", temporary,
                                 str(SOURCE)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise PluginBuildError(f"{Path(compiler).name} could not build {SOURCE.name}: {last}")
        os.replace(temporary, target)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
