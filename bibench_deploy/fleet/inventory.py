"""The fleet file: which devices exist, how to reach them, what they can run.

Validated completely at load time, before any network traffic; every error names the file, the
device and the field. Commands in the file are argument lists, never shell text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bibench_deploy.emulation.litert import MARKER as USERLAND_MARKER
from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.engines import ENGINES
from bibench_deploy.fleet.lab.config import LabClaim, LabSection, lab_devices
from bibench_deploy.fleet.transports import TRANSPORTS

ArgList = list[str]


class _Strict(BaseModel):
    # every number of a fleet file is finite: `.inf` or `.nan` would pass a bound and fail later
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class EngineConfig(_Strict):
    """One engine on one device. `binary` is a host file pushed to the device; `remote_path` a
    file already there; `python` the device's interpreter for `lce_interpreter`.
    Unless pinned, each side is measured over its engine options: the binary model over indirect
    BGEMM and XNNPACK, the FP32 baseline over XNNPACK (it has no binary kernels)."""
    binary: Optional[str] = None
    remote_path: Optional[str] = None
    python: Optional[str] = None
    use_indirect_bgemm: list[bool] = Field(default_factory=lambda: [False, True])
    use_xnnpack: list[bool] = Field(default_factory=lambda: [False, True])
    op_profiling: bool = False

    @field_validator("remote_path", "python")
    @classmethod
    def _device_paths(cls, value, info):
        return None if value is None else _device_path(value, info.field_name)

    @field_validator("use_indirect_bgemm", "use_xnnpack", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return value if isinstance(value, list) else [value]


class DeviceConfig(_Strict):
    name: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    transport: str
    host: Optional[str] = None
    port: Optional[int] = Field(default=None, ge=1, le=65535)
    user: Optional[str] = None
    identity_file: Optional[str] = None
    known_hosts: Optional[str] = None
    ssh_config: Optional[str] = None
    serial: Optional[str] = None
    arch: Optional[str] = None
    tags: list[str] = Field(default_factory=list)
    work_dir: str = "~/.cache/bibench-deploy/device"
    work_dir_may_be_link: bool = False  # a work dir or blobs/ that is a link: refused unless true
    threads: list[int] = Field(default_factory=lambda: [1])
    affinity: Union[str, dict[int, str], None] = None
    timeout_s: Optional[float] = Field(default=None, gt=0)
    cooldown_s: float = Field(default=0.0, ge=0)
    max_start_temp_c: Optional[float] = None
    max_start_load: float = Field(default=0.25, gt=0, le=1)
    max_wait_s: float = Field(default=60.0, ge=0)
    state_commands: dict[str, ArgList] = Field(default_factory=dict)
    engines: dict[str, EngineConfig]
    labgrid: Optional[LabClaim] = None  # set for devices of the `labgrid:` section
    sysroot: Optional[str] = None       # emulated: the aarch64 userland (default: `make
    cpu: Optional[str] = None           # aarch64-userland`'s) and the CPU qemu emulates

    @field_validator("work_dir")
    @classmethod
    def _work_dir_is_a_path(cls, value):
        return _device_path(value, "work_dir")

    @field_validator("threads", mode="before")
    @classmethod
    def _threads_list(cls, value):
        return value if isinstance(value, list) else [value]

    @field_validator("threads")
    @classmethod
    def _threads_positive(cls, value):
        if not value or any(t < 1 for t in value):
            raise ValueError("threads must be a non-empty list of positive integers")
        return value

    @field_validator("state_commands", mode="before")
    @classmethod
    def _commands_are_lists(cls, value):
        for key, command in (value or {}).items():
            if not isinstance(command, list) or not command:
                raise ValueError(f"state command {key!r} must be a non-empty list of arguments "
                                 "(commands are never run through a shell)")
        return value

    @field_validator("transport")
    @classmethod
    def _known_transport(cls, value):
        if value not in TRANSPORTS:
            raise ValueError(f"unknown transport {value!r}; choose from "
                             f"{', '.join(TRANSPORTS.names())}")
        return value

    @field_validator("engines")
    @classmethod
    def _known_engines(cls, value):
        unknown = sorted(set(value) - set(ENGINES.names()))
        if unknown:
            raise ValueError(f"unknown engine {unknown[0]!r}; choose from "
                             f"{', '.join(ENGINES.names())}")
        if not value:
            raise ValueError("at least one engine is needed")
        return value

    @field_validator("affinity")
    @classmethod
    def _masks_are_hex(cls, value):
        for mask in ([value] if isinstance(value, str) else (value or {}).values()):
            _mask_cores(mask)
        return value

    @model_validator(mode="after")
    def _transport_fields(self):
        if self.labgrid is not None:
            if self.transport != "ssh":
                raise ValueError("a labgrid place is reached over ssh (its NetworkService); "
                                 f"transport {self.transport} is not supported there")
            if self.host:
                raise ValueError("host comes from the place's NetworkService; remove 'host'")
        elif self.transport == "ssh" and not self.host:
            raise ValueError("transport ssh needs 'host' (an address or an ~/.ssh/config alias)")
        self._emulated_fields()
        for threads in self.threads:
            mask = self.affinity_for(threads)
            if mask and threads > _mask_cores(mask):
                raise ValueError(f"threads {threads} exceed the {_mask_cores(mask)} cores of "
                                 f"affinity mask {mask}")
        return self

    def _emulated_fields(self) -> None:
        """An emulated device is aarch64 (for now), counted on one guest thread, in a work
        directory of its own; `sysroot` and `cpu` belong to it alone."""
        if self.transport != "emulated":
            extra = [name for name in ("sysroot", "cpu") if getattr(self, name) is not None]
            if extra:
                raise ValueError(f"'{extra[0]}' is a field of transport emulated only")
            return
        if self.arch is None:
            self.arch = "aarch64"
        if self.arch != "aarch64":
            raise ValueError(f"transport emulated runs arch aarch64 only, not {self.arch!r}")
        if self.threads != [1]:
            raise ValueError("transport emulated counts one guest thread: threads must be [1]")
        if "work_dir" not in self.model_fields_set:
            self.work_dir = f"{EMULATED_WORK_ROOT}/{self.name}"

    def affinity_for(self, threads: int) -> str:
        if isinstance(self.affinity, dict):
            return self.affinity.get(threads, "")
        return self.affinity or ""


EMULATED_WORK_ROOT = "~/.cache/bibench-deploy/emulated"


def _device_path(value: str, field: str) -> str:
    """A path on the device is passed as an argument to its commands: one starting with '-'
    would be read as an option (`-c ...` runs code), so it is refused."""
    if not value.strip():
        raise ValueError(f"{field} is empty")
    if value.startswith("-"):
        raise ValueError(f"{field} {value!r} starts with '-' and would be read as an option; "
                         f"write it as ./{value}")
    return value


def _mask_cores(mask: str) -> int:
    try:
        return bin(int(mask, 16)).count("1")
    except ValueError:
        raise ValueError(f"affinity mask {mask!r} is not hexadecimal (e.g. 'f0')") from None


class Fleet(_Strict):
    devices: list[DeviceConfig]
    path: Optional[Path] = None
    sha256: str = ""
    notes: list[str] = Field(default_factory=list)  # deprecated spellings found, one line each

    @field_validator("devices")
    @classmethod
    def _unique_names(cls, value):
        names = [d.name for d in value]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ValueError(f"device name {duplicate!r} is used twice")
        if not value:
            raise ValueError("no devices declared")
        return value

    def select(self, names: Optional[list[str]]) -> list[DeviceConfig]:
        """Devices by name, or by tag with `tag:<tag>`; all when `names` is empty."""
        if not names:
            return list(self.devices)
        chosen = []
        for name in names:
            matches = [d for d in self.devices
                       if (d.name == name or name.removeprefix("tag:") in d.tags
                           and name.startswith("tag:")) and d not in chosen]
            if not matches and not any(d.name == name for d in chosen):
                raise FleetError(f"{self.path}: no device named {name!r}; devices are "
                                 f"{', '.join(d.name for d in self.devices)}")
            chosen.extend(matches)
        return chosen


DEFAULT_FLEET = Path("devices/local.yaml")
EMBEDDED_FLEET = Path(__file__).resolve().parents[1] / "devices" / "local.yaml"


def fleet_path(path: Optional[Path]) -> Path:
    """The given fleet file, else devices/local.yaml, else the copy shipped in the package."""
    if path is not None:
        return Path(path)
    return DEFAULT_FLEET if DEFAULT_FLEET.is_file() else EMBEDDED_FLEET


def load_fleet(path: Path) -> Fleet:
    path = Path(path)
    if not path.is_file():
        raise FleetError(f"{path}: fleet file not found")
    raw = path.read_bytes()
    data = _parse_yaml(path, raw)
    devices = data.get("devices", [] if "labgrid" in data else None)
    if not isinstance(devices, list):
        raise FleetError(f"{path}: needs a top-level 'devices:' list (or a 'labgrid:' section)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise FleetError(f"{path}: 'defaults' must be a mapping")
    unknown = sorted(set(data) - {"devices", "defaults", "labgrid"})
    if unknown:
        raise FleetError(f"{path}: unknown top-level key {unknown[0]!r} "
                         "(expected devices, defaults, labgrid)")
    parsed = [_device(path, i, {**defaults, **d} if isinstance(d, dict) else d)
              for i, d in enumerate(devices)]
    notes = []
    if "labgrid" in data:
        section = _lab_section(path, data["labgrid"])
        parsed += [_device(path, len(parsed) + i, {**defaults, **entry})
                   for i, entry in enumerate(lab_devices(section))]
        notes += [f"{path}: {note}" for note in section.notes()]
    for device in parsed:
        _resolve_binaries(device, path.parent)
        _check_sysroot(path, device)
    try:
        return Fleet(devices=parsed, path=path, sha256=hashlib.sha256(raw).hexdigest(),
                     notes=notes)
    except ValidationError as exc:
        raise FleetError(f"{path}: {exc.errors()[0]['msg']}") from None


def _resolve_binaries(device: DeviceConfig, fleet_dir: Path) -> None:
    """A relative `binary:` is a host file next to the fleet file, wherever the tool runs."""
    for config in device.engines.values():
        if config.binary:
            binary = Path(config.binary).expanduser()
            config.binary = str(binary if binary.is_absolute() else (fleet_dir / binary).absolute())


def _check_sysroot(path: Path, device: DeviceConfig) -> None:
    """A given `sysroot` (relative: next to the fleet file) must be a built aarch64 userland."""
    if device.sysroot is None:
        return
    sysroot = Path(device.sysroot).expanduser()
    sysroot = sysroot if sysroot.is_absolute() else (path.parent / sysroot).absolute()
    if not (sysroot / USERLAND_MARKER).is_file():
        raise FleetError(f"{path}: device {device.name!r}: field sysroot: no aarch64 userland at "
                         f"{sysroot} (no {USERLAND_MARKER}); build one with make aarch64-userland")
    device.sysroot = str(sysroot)


def _parse_yaml(path: Path, raw: bytes) -> dict:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FleetError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise FleetError(f"{path}: expected a mapping with a 'devices:' list")
    return data


def _lab_section(path: Path, data) -> LabSection:
    if not isinstance(data, dict):
        raise FleetError(f"{path}: 'labgrid' must be a mapping (coordinator, places or tags, ...)")
    try:
        return LabSection.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise FleetError(f"{path}: labgrid{': field ' + field if field else ''}: {message}") from None


def _device(path: Path, index: int, data) -> DeviceConfig:
    if not isinstance(data, dict):
        raise FleetError(f"{path}: device #{index + 1} must be a mapping")
    label = data.get("name") or f"#{index + 1}"
    try:
        return DeviceConfig.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "(device)"
        message = error["msg"].removeprefix("Value error, ")
        raise FleetError(f"{path}: device {label!r}: field {field}: {message}") from None
