"""What each device's engines need, whether the host has it, and where to get it.

`engine_statuses` is `engines list`; `check_engines` is what `run` refuses before planning: a
fetched binary whose bytes no longer match its record, and an `lce_benchmark_model` whose
version differs from the LCE converter that wrote the models (a benchmark binary older than
the converter fails or misbehaves on its flatbuffers, larq/compute-engine#410).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.engines import fetch
from bibench_deploy.fleet.engines.native import elf_arch, normal_arch
from bibench_deploy.manifest import find_model_dirs, load_manifest

LCE = "lce_benchmark_model"
NATIVE = (LCE, "dabnn")
GET_DABNN = "build benchmark_single_model from daBNN's project (JDAI-CV/dabnn)"
GET_LITERT = "pip install ai-edge-litert on the device"
GET_INTERPRETER = "pip install larq-compute-engine in the device's Python"
ASSET_ARCH = {"aarch64": "aarch64", "arm": "aarch32"}   # the device's arch -> LCE's asset


@dataclass(frozen=True)
class EngineStatus:
    device: str
    engine: str
    needs: str
    present: str     # where it is, or "missing: ..."
    verified: str    # what was checked, or "NO: ..." / "" when nothing could be
    get: str         # where to get it when missing


def version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def converter_versions(models_dir: Path, pattern: str = "*") -> set[str]:
    """The LCE converter versions the models' manifests record (none for an empty dir)."""
    versions = set()
    for model_dir in find_model_dirs(Path(models_dir), pattern):
        version = (load_manifest(model_dir).get("versions") or {}).get("larq_compute_engine")
        if version:
            versions.add(str(version))
    return versions


def host_binary(device, name: str) -> Optional[Path]:
    """The host file a native engine runs: its `binary`, or on an emulated device (which runs
    host files) its `remote_path`."""
    config = device.engines[name]
    path = config.binary or (config.remote_path if device.transport == "emulated" else None)
    return Path(path).expanduser() if path else None


def check_engines(devices, converters: set[str]) -> list[str]:
    """Refuses (FleetError, one line) a fetched binary that changed or an LCE binary of another
    version than the models' converter; returns the warnings to print."""
    notes = []
    for device in devices:
        for name in NATIVE:
            path = host_binary(device, name) if name in device.engines else None
            if path is None or not path.exists():
                continue
            record = _verified(device, path)
            if name == LCE:
                _check_version(device, record, converters)
                notes += [n for n in [userland_note(device, path)] if n]
    return notes


def _verified(device, path: Path) -> Optional[dict]:
    try:
        return fetch.verify(path)
    except fetch.EngineFetchError as exc:
        raise FleetError(f"device {device.name}: {exc}") from None


def _check_version(device, record: Optional[dict], converters: set[str]) -> None:
    version = (record or {}).get("version")
    others = sorted((v for v in converters if v != version), key=version_key)
    if version and others:
        arch = (record or {}).get("arch", "ARCH")
        raise FleetError(
            f"device {device.name}: lce_benchmark_model {version} differs from the LCE "
            f"converter {', '.join(others)} that wrote the models (an older benchmark binary "
            f"fails or misbehaves on newer flatbuffers); fetch the matching one with "
            f"`bibench-deploy engines fetch lce_benchmark_model --arch {arch} "
            f"--version {others[-1]}`")


def userland_note(device, path: Path) -> Optional[str]:
    """A 32-bit binary planned on a 64-bit device runs in a 32-bit userland on a 64-bit kernel,
    slower than float (larq/compute-engine#400)."""
    if normal_arch(device.arch or "") == "aarch64" and elf_arch(path) == "arm":
        return (f"device {device.name}: {path.name} is an aarch32 binary on an aarch64 device; a "
                "32-bit userland on a 64-bit kernel runs LCE slower than float (LCE #400): "
                "use the aarch64 asset")
    return None


def engine_statuses(devices, converters: set[str]) -> list[EngineStatus]:
    return [_status(device, name, converters) for device in devices for name in device.engines]


def _status(device, name: str, converters: set[str]) -> EngineStatus:
    arch = device.arch or "?"
    if name == "litert":
        return EngineStatus(device.name, name, "a Python with ai-edge-litert (runner pushed)",
                            "checked on the device (devices check)", "", GET_LITERT)
    if name == "lce_interpreter":
        return EngineStatus(device.name, name, "a Python with larq-compute-engine (runner "
                            "pushed)", "checked on the device (devices check)", "",
                            GET_INTERPRETER)
    get = lce_source(device, converters) if name == LCE else GET_DABNN
    needs = f"{name} binary for {arch}"
    path = host_binary(device, name)
    if path is None:
        where = device.engines[name].remote_path
        return EngineStatus(device.name, name, needs, f"on the device: {where}", "", get)
    if not path.is_file():
        return EngineStatus(device.name, name, needs, f"missing: {path}", "", get)
    return EngineStatus(device.name, name, needs, str(path),
                        _verification(device, name, path, converters), get)


def _verification(device, name: str, path: Path, converters: set[str]) -> str:
    """What was checked of a host binary, semicolon-separated; a failed check reads `NO: ...`."""
    try:
        record = fetch.verify(path)
    except fetch.EngineFetchError as exc:
        return f"NO: {exc}"
    checks = ["sha256 as first fetched" if record else "sha256 not recorded (not fetched here)"]
    arch, declared = elf_arch(path), normal_arch(device.arch or "")
    if arch is None:
        return "NO: not an ELF executable"
    if declared and arch != declared and not (arch == "arm" and declared == "aarch64"):
        return f"NO: ELF {arch}, the device is {declared}"
    checks.append(f"ELF {arch}")
    if name == LCE:
        note = userland_note(device, path)
        checks += [_version_check(record, converters)] + (["warning: " + note] if note else [])
    return "; ".join(checks)


def _version_check(record: Optional[dict], converters: set[str]) -> str:
    version = (record or {}).get("version")
    converter = ", ".join(sorted(converters)) or "unknown (no models)"
    if not version:
        return f"version unknown (converter {converter})"
    if converters and converters != {version}:
        return f"NO: version {version}, the models' converter is {converter}"
    return f"version {version} (converter {converter})"


def lce_source(device, converters: set[str]) -> str:
    """The release asset's URL for the device's arch at the models' converter version
    (`engines fetch lce_benchmark_model --arch ASSET --version V` downloads it)."""
    version = max(converters, key=version_key) if converters else fetch.DEFAULT_VERSION
    asset = "android_arm64" if device.transport == "adb" else \
        ASSET_ARCH.get(normal_arch(device.arch or ""))
    if asset is None:
        return ("no LCE release asset for arch " + (device.arch or "? (set arch: in the fleet "
                "file)") + "; build lce_benchmark_model from larq/compute-engine's sources")
    return fetch.asset_url(asset, version)
