"""The fleet file's labgrid: section: devices it declares and one-line errors for bad input."""

from __future__ import annotations

import pytest
import yaml

from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.inventory import load_fleet

ENGINES = {"engines": {"lce_interpreter": {}}}


def _load(tmp_path, section: dict, devices=None):
    path = tmp_path / "fleet.yaml"
    data = {"labgrid": section, **({"devices": devices} if devices is not None else {})}
    path.write_text(yaml.safe_dump(data))
    return load_fleet(path)


def test_places_become_ssh_devices_beside_plain_ones(tmp_path):
    plain = {"name": "host", "transport": "local", **ENGINES}
    fleet = _load(tmp_path, {"coordinator": "lab:20408", "places": ["rpi-a", "rpi-b"],
                             "priority": 5, "max_wait_s": 30, "device": ENGINES}, [plain])
    assert [d.name for d in fleet.devices] == ["host", "rpi-a", "rpi-b"]
    rpi = fleet.devices[1]
    assert rpi.transport == "ssh" and rpi.host is None
    assert rpi.labgrid.filters() == ["name=rpi-a"]
    assert (rpi.labgrid.priority, rpi.labgrid.place_wait_s) == (5, 30)
    assert rpi.labgrid.client == "labgrid-client"  # found on PATH unless set
    assert fleet.devices[0].labgrid is None


def test_tags_make_one_device_named_after_them(tmp_path):
    fleet = _load(tmp_path, {"coordinator": "10.0.0.1:20408", "tags": {"board": "rpi4",
                                                                      "lab": "north"},
                             "client": "/opt/lg/bin/labgrid-client", "device": ENGINES})
    (device,) = fleet.devices
    assert device.name == "rpi4-north"
    assert device.labgrid.filters() == ["board=rpi4", "lab=north"]
    assert device.labgrid.client == "/opt/lg/bin/labgrid-client"


@pytest.mark.parametrize("section, message", [
    ({"coordinator": "lab", "places": ["a"]}, "coordinator 'lab' is not HOST:PORT"),
    ({"coordinator": "lab:99999", "places": ["a"]}, "is not HOST:PORT"),
    ({"coordinator": "lab:1", "places": []}, "places is empty"),
    ({"coordinator": "lab:1"}, "give either places: [...] or tags: {...}"),
    ({"coordinator": "lab:1", "places": ["a"], "tags": {"board": "x"}}, "give either places"),
    ({"coordinator": "lab:1", "tags": {"Board": "x"}}, "tag key 'Board' is not a labgrid tag key"),
    ({"coordinator": "lab:1", "tags": {"board": "Rpi 4"}}, "is not a labgrid tag value"),
    ({"coordinator": "lab:1", "places": ["a b"]}, "place 'a b' is not a place name"),
    ({"coordinator": "lab:1", "places": ["a"], "device": {"host": "x"}},
     "device.host is set from the place"),
    ({"coordinator": "lab:1", "places": ["a"], "client": "-c"}, "is not a path to labgrid-client"),
    ({"coordinator": "lab:1", "places": ["a"], "max_wait_s": -1}, "max_wait_s"),
])
def test_bad_sections_are_one_line(tmp_path, section, message):
    section.setdefault("device", ENGINES)
    with pytest.raises(FleetError) as error:
        _load(tmp_path, section)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith(f"{tmp_path / 'fleet.yaml'}: labgrid")


@pytest.mark.parametrize("key", ["place_wait_s", "max_wait_s"])
def test_place_wait_under_its_name_and_the_old_one(tmp_path, key):
    fleet = _load(tmp_path, {"coordinator": "lab:1", "places": ["a"], key: 45, "device": ENGINES})
    assert fleet.devices[0].labgrid.place_wait_s == 45
    old = key == "max_wait_s"
    assert fleet.notes == ([f"{tmp_path / 'fleet.yaml'}: labgrid: max_wait_s is deprecated here "
                            "and will be removed; use place_wait_s: 45"] if old else [])


def test_place_wait_given_under_both_names_is_refused(tmp_path):
    with pytest.raises(FleetError, match="max_wait_s is the old name of place_wait_s"):
        _load(tmp_path, {"coordinator": "lab:1", "places": ["a"], "place_wait_s": 5,
                         "max_wait_s": 5, "device": ENGINES})


def test_devices_check_prints_the_deprecation_note_in_one_line(tmp_path, cli):
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"labgrid": {
        "coordinator": "127.0.0.1:1", "places": ["a"], "max_wait_s": 0,
        "client": str(tmp_path / "no-labgrid-client"), "device": ENGINES}}))
    stderr = cli("devices", "check", "--fleet", str(path)).stderr
    notes = [line for line in stderr.splitlines() if line.startswith("note:")]
    assert notes == [f"note: {path}: labgrid: max_wait_s is deprecated here and will be "
                     "removed; use place_wait_s: 0"]


def test_a_place_is_not_reached_over_adb(tmp_path):
    with pytest.raises(FleetError, match="reached over ssh"):
        _load(tmp_path, {"coordinator": "lab:1", "places": ["a"],
                         "device": {"transport": "adb", **ENGINES}})
