"""TFLite models on the emulated aarch64 device: the aarch64 userland's Python runs
remote/litert_runner.py (TFLite's own aarch64 kernels from ai-edge-litert) under qemu with the
counting plugin."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from bibench_deploy.emulation.errors import EmulationError
from bibench_deploy.emulation.per_inference import DEFAULT_REL_TOL, PerInference, measure
from bibench_deploy.emulation.qemu import GuestRun, run_aarch64, succeeded

RUNNER = Path(__file__).with_name("remote") / "litert_runner.py"
GUEST_PYTHON = "/opt/litert/bin/python3"     # the userland's virtual environment
MARKER = ".bibench-userland"
# The core the userland's /proc/cpuinfo and /sys describe (build_userland.sh): qemu emulates the
# same one, so the kernels TFLite's XNNPACK picks by features and core are that board's.
GUEST_CPU = "cortex-a72"
# One thread everywhere: the plugin's counter is exact only for one guest thread, and the count
# must not depend on how many cores the host has. A fixed hash seed keeps dict and set orders,
# and so the interpreter's own work, the same from run to run.
GUEST_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
             "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}


class UserlandMissingError(EmulationError):
    """The aarch64 userland has not been built."""


def default_userland() -> Path:
    """$BIBENCH_AARCH64_ROOT, else `.aarch64-root` at the top of the source tree."""
    configured = os.environ.get("BIBENCH_AARCH64_ROOT")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / ".aarch64-root"


def check_userland(root: Path) -> Path:
    if not (root / MARKER).is_file():
        raise UserlandMissingError(f"no aarch64 userland at {root}: make aarch64-userland")
    return root


def guest_executable(root: Path, guest_path: str) -> Path:
    """The host path of a guest program, following its links inside the userland (qemu opens
    the program itself on the host, where the venv's absolute link would reach the host's
    python3)."""
    path = root / guest_path.lstrip("/")
    for _ in range(40):
        if not path.is_symlink():
            return path
        target = os.readlink(path)
        path = root / target.lstrip("/") if target.startswith("/") else path.parent / target
    raise EmulationError(f"too many links from {guest_path} in {root}")


def litert_argv(root: Path, model: Path, iterations: int, seed: int = 0,
                threads: int = 1) -> list[str]:
    return [str(guest_executable(root, GUEST_PYTHON)), str(RUNNER), str(model),
            "--iterations", str(iterations), "--seed", str(seed), "--threads", str(threads)]


def run_options(root: Path, timeout_s: float = 1800) -> dict:
    """What `run_aarch64` needs to run the userland's Python: its libraries (-L), its own name
    as argv[0] (so Python finds its venv), the described CPU, a fixed environment."""
    return {"sysroot": check_userland(root), "argv0": GUEST_PYTHON, "env": GUEST_ENV,
            "cpu": GUEST_CPU, "timeout_s": timeout_s}


def last_json_object(stdout: str, keys: tuple[str, ...] = ()) -> Optional[dict]:
    """The last line of the runner's output that is a JSON object holding `keys`, if any."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        if isinstance(result, dict) and all(key in result for key in keys):
            return result
    return None


def parse(stdout: str) -> dict:
    """The runner's JSON line (the last line that is one)."""
    result = last_json_object(stdout, ("iterations", "outputs"))
    if result is not None:
        return result
    raise EmulationError(f"no result line in the runner's output: {stdout.strip()[-200:]!r}")


def run_model(model: Path, iterations: int, root: Optional[Path] = None,
              seed: int = 0) -> tuple[GuestRun, dict]:
    root = root or default_userland()
    guest = succeeded(run_aarch64(litert_argv(root, model, iterations, seed),
                                  **run_options(root)))
    return guest, parse(guest.stdout)


def measure_model(model: Path, n1: int, n2: int, root: Optional[Path] = None, seed: int = 0,
                  repeats: int = 2, rel_tol: float = DEFAULT_REL_TOL) -> PerInference:
    """Guest instructions per inference of `model` with TFLite's aarch64 kernels."""
    root = root or default_userland()
    return measure(lambda n: litert_argv(root, model, n, seed), n1, n2, repeats=repeats,
                   rel_tol=rel_tol, **run_options(root))
