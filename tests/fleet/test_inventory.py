"""Fleet files: the shipped ones load; malformed ones fail at load time naming file, device, field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.inventory import load_fleet

REPO = Path(__file__).resolve().parents[2]
GOOD = {"name": "pi", "transport": "ssh", "host": "pi.local", "engines": {"lce_interpreter": {}}}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


def _device_yaml(**changes) -> str:
    import yaml
    device = {**GOOD, **changes}
    return yaml.safe_dump({"devices": [{k: v for k, v in device.items() if v is not None}]})


def test_shipped_fleets_load():
    example = load_fleet(REPO / "devices" / "fleet.example.yaml")
    assert {d.transport for d in example.devices} == {"ssh", "adb"}
    local = load_fleet(REPO / "devices" / "local.yaml")
    assert local.devices[0].transport == "local"
    assert (REPO / "devices" / "local.yaml").read_text() == \
        (REPO / "bibench_deploy" / "devices" / "local.yaml").read_text()
    host = load_fleet(REPO / "devices" / "x86_64-host.yaml").devices[0]
    assert host.transport == "local" and host.affinity_for(1) == "1"
    # the published host: each side over its engine options, a guard that waits for a quiet core
    engine = host.engines["lce_interpreter"]
    assert engine.use_indirect_bgemm == [False, True] and engine.use_xnnpack == [False, True]
    assert (host.max_start_load, host.max_wait_s) == (0.1, 300)


def test_unpinned_engine_options_measure_both_values_and_the_guard_has_defaults(tmp_path):
    device = load_fleet(_write(tmp_path, _device_yaml())).devices[0]
    engine = device.engines["lce_interpreter"]
    assert engine.use_indirect_bgemm == [False, True] and engine.use_xnnpack == [False, True]
    assert (device.max_start_load, device.max_wait_s) == (0.25, 60.0)


@pytest.mark.parametrize("text, expected", [
    ("devices: [\n  {name: pi,\n", "not valid YAML at line"),
    ("- just a list\n", "expected a mapping"),
    ("machines: []\n", "needs a top-level 'devices:' list"),
    ("devices: []\n", "no devices declared"),
    ("devices: [pi]\n", "device #1 must be a mapping"),
    (_device_yaml(transport="telnet"), "device 'pi': field transport"),
    (_device_yaml(host=None), "device 'pi': field (device): transport ssh needs 'host'"),
    (_device_yaml(password="hunter2"), "device 'pi': field password: Extra inputs"),
    (_device_yaml(port=70000), "device 'pi': field port"),
    (_device_yaml(threads=[0]), "field threads: threads must be"),
    (_device_yaml(threads=[4], affinity="3"), "threads 4 exceed the 2 cores of affinity mask 3"),
    (_device_yaml(affinity="xyz"), "affinity mask 'xyz' is not hexadecimal"),
    (_device_yaml(state_commands={"throttled": "vcgencmd get_throttled; reboot"}),
     "must be a non-empty list of arguments"),
    (_device_yaml(engines={"tflite_magic": {}}), "unknown engine 'tflite_magic'"),
    (_device_yaml(engines={"lce_interpreter": {"use_xnnpack": "maybe"}}),
     "field engines.lce_interpreter.use_xnnpack.0"),
    (_device_yaml(name="bad name"), "field name"),
    (_device_yaml(name="p" * 5000), "field name: String should have at most 64 characters"),
    (_device_yaml(timeout_s=float("inf")), "field timeout_s: Input should be a finite number"),
    (_device_yaml(cooldown_s=float("inf")), "field cooldown_s: Input should be a finite number"),
    (_device_yaml(max_wait_s=float("nan")), "field max_wait_s: Input should be a finite number"),
    (_device_yaml(max_start_load=1.5), "device 'pi': field max_start_load: Input should be less than or equal to 1"),
    (_device_yaml(max_wait_s=-1), "device 'pi': field max_wait_s: Input should be greater than or equal to 0"),
    (_device_yaml(work_dir="-c print(1)"), "field work_dir: work_dir '-c print(1)' starts with '-'"),
    (_device_yaml(engines={"lce_interpreter": {"python": "-S"}}),
     "field engines.lce_interpreter.python: python '-S' starts with '-'"),
    (_device_yaml(engines={"dabnn": {"remote_path": "--help"}}), "remote_path '--help' starts"),
    ("devices:\n  - {name: pi, transport: local, engines: {lce_interpreter: {}}}\n"
     "  - {name: pi, transport: local, engines: {lce_interpreter: {}}}\n",
     "device name 'pi' is used twice"),
])
def test_malformed_fleet_files(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(FleetError) as raised:
        load_fleet(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and expected in message, message


def test_cli_reports_a_malformed_fleet_in_one_line(tmp_path):
    path = _write(tmp_path, _device_yaml(transport="telnet"))
    result = subprocess.run([sys.executable, "-m", "bibench_deploy", "devices", "check", "--fleet",
                             str(path)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "field transport" in result.stderr


def test_unknown_device_name_is_suggested(tmp_path):
    fleet = load_fleet(_write(tmp_path, _device_yaml()))
    with pytest.raises(FleetError, match="no device named 'p1'; devices are pi"):
        fleet.select(["p1"])


def test_devices_are_selected_by_name_or_tag():
    fleet = load_fleet(REPO / "devices" / "fleet.example.yaml")
    assert [d.name for d in fleet.select(["tag:arm"])] == ["rpi4b", "jetson-nano", "pixel"]
    assert [d.name for d in fleet.select(["x86-box", "tag:raspberry-pi"])] == ["x86-box", "rpi4b"]
    with pytest.raises(FleetError, match="no device named 'tag:gpu'"):
        fleet.select(["tag:gpu"])


def test_relative_binaries_resolve_against_the_fleet_file(tmp_path, monkeypatch):
    folder = tmp_path / "lab"
    folder.mkdir()
    path = folder / "fleet.yaml"
    path.write_text(_device_yaml(engines={"lce_benchmark_model": {"binary": "bin/lce_benchmark_model"},
                                          "dabnn": {"binary": "/opt/dabnn/benchmark"}}))
    monkeypatch.chdir(tmp_path)  # the tool runs elsewhere
    engines = load_fleet(Path("lab/fleet.yaml")).devices[0].engines
    assert engines["lce_benchmark_model"].binary == str(folder / "bin" / "lce_benchmark_model")
    assert engines["dabnn"].binary == "/opt/dabnn/benchmark"


EMULATED = {"name": "emu", "transport": "emulated", "engines": {"litert": {}}}


def _emulated(tmp_path: Path, **changes) -> Path:
    import yaml
    device = {**EMULATED, **changes}
    return _write(tmp_path, yaml.safe_dump({"devices": [device]}))


def test_emulated_device_defaults(tmp_path):
    device = load_fleet(_emulated(tmp_path)).devices[0]
    assert (device.arch, device.threads, device.sysroot, device.cpu) == ("aarch64", [1], None, None)
    assert device.work_dir.endswith("/emulated/emu")  # a work directory of its own


@pytest.mark.parametrize("changes, message", [
    ({"arch": "armv7l"}, "field (device): transport emulated runs arch aarch64 only, not 'armv7l'"),
    ({"threads": [1, 4]}, "threads must be [1]"),
])
def test_emulated_device_refuses(tmp_path, changes, message):
    with pytest.raises(FleetError, match=r"device 'emu'.*") as info:
        load_fleet(_emulated(tmp_path, **changes))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_sysroot_in_one_line(tmp_path):
    with pytest.raises(FleetError) as info:
        load_fleet(_emulated(tmp_path, sysroot="no-such-root"))
    message = str(info.value)
    assert "\n" not in message and "device 'emu': field sysroot: no aarch64 userland at" in message
    assert str(tmp_path / "no-such-root") in message and "make aarch64-userland" in message


def test_sysroot_is_resolved_next_to_the_fleet_file(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / ".bibench-userland").write_text("")
    device = load_fleet(_emulated(tmp_path, sysroot="root", cpu="cortex-a53")).devices[0]
    assert (device.sysroot, device.cpu) == (str(tmp_path / "root"), "cortex-a53")


def test_emulated_fields_belong_to_emulated_devices(tmp_path):
    with pytest.raises(FleetError, match="'cpu' is a field of transport emulated only"):
        load_fleet(_write(tmp_path, _device_yaml(cpu="cortex-a72")))
