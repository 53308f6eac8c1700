"""The `labgrid:` section of a fleet file: which coordinator, which places (or tag filters).

    labgrid:
      coordinator: lab.example.com:20408
      places: [rpi4-01, rpi4-02]      # or  tags: {board: rpi4}  (one device, any matching place)
      client: labgrid-client          # default: found on PATH
      priority: 0                     # of the reservations, relative to others
      place_wait_s: 600               # how long a held place is waited for before `busy`
      device: {identity_file: ..., known_hosts: ..., engines: {...}}   # every place's settings

Each place becomes one ssh device named after it; its host, port and user come from the place's
NetworkService resource once it is acquired. `place_wait_s` was once spelled `max_wait_s`, the
name a device's quiet-core wait has: that spelling still works here and gives a note.
"""

from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# labgrid's own rules for tag keys and values (reserve refuses others)
TAG_KEY = re.compile(r"^[a-z][a-z0-9_]+$")
TAG_VALUE = re.compile(r"^[a-z0-9_]?[a-z0-9_-]*$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # every number finite


class LabClaim(_Strict):
    """What one device reserves: a place by name, or any place whose tags match."""
    coordinator: str
    client: str = "labgrid-client"
    priority: int = 0
    place_wait_s: float = 600.0
    place: Optional[str] = None
    tags: dict[str, str] = Field(default_factory=dict)

    def filters(self) -> list[str]:
        """`reserve` filters: labgrid's scheduler matches a place's name as the tag `name`."""
        tags = {"name": self.place} if self.place else self.tags
        return [f"{key}={value}" for key, value in sorted(tags.items())]

    def wanted(self) -> str:
        return f"place {self.place}" if self.place else \
            "a place tagged " + ", ".join(self.filters())


class LabSection(_Strict):
    coordinator: str
    places: Optional[list[str]] = None
    tags: Optional[dict[str, str]] = None
    name: Optional[str] = None
    client: str = "labgrid-client"
    priority: int = 0
    place_wait_s: float = Field(default=600.0, ge=0)
    max_wait_s: Optional[float] = Field(default=None, ge=0)  # the old name of place_wait_s
    device: dict = Field(default_factory=dict)

    @field_validator("coordinator")
    @classmethod
    def _host_port(cls, value):
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"coordinator {value!r} is not HOST:PORT (e.g. lab.example.com:20408)")
        return value

    @field_validator("client")
    @classmethod
    def _client_path(cls, value):
        if not value.strip() or value.startswith("-"):
            raise ValueError(f"client {value!r} is not a path to labgrid-client")
        return value

    @field_validator("places")
    @classmethod
    def _place_names(cls, value):
        if not value:
            raise ValueError("places is empty; name at least one place")
        for place in value:
            if not isinstance(place, str) or not NAME.match(place):
                raise ValueError(f"place {place!r} is not a place name (letters, digits, _ . -)")
        if len(set(value)) != len(value):
            raise ValueError("a place is named twice in places")
        return value

    @field_validator("tags")
    @classmethod
    def _tag_filters(cls, value):
        if not value:
            raise ValueError("tags is empty; give at least one KEY: VALUE")
        for key, tag in value.items():
            if not TAG_KEY.match(str(key)):
                raise ValueError(f"tag key {key!r} is not a labgrid tag key (lower-case letters, "
                                 "digits, _; starting with a letter)")
            if not isinstance(tag, str) or not TAG_VALUE.match(tag):
                raise ValueError(f"tag {key}: {tag!r} is not a labgrid tag value (lower-case "
                                 "letters, digits, _ -)")
        return value

    @field_validator("device")
    @classmethod
    def _device_settings(cls, value):
        taken = sorted({"name", "host", "labgrid"} & set(value))
        if taken:
            raise ValueError(f"device.{taken[0]} is set from the place; remove it")
        return value

    @model_validator(mode="after")
    def _places_or_tags(self):
        if (self.places is None) == (self.tags is None):
            raise ValueError("give either places: [...] or tags: {...}")
        if self.name is not None and self.places is not None:
            raise ValueError("name is for a tags device; places are named after themselves")
        return self

    @model_validator(mode="after")
    def _old_wait_name(self):
        if self.max_wait_s is not None:
            if "place_wait_s" in self.model_fields_set:
                raise ValueError("max_wait_s is the old name of place_wait_s; give only "
                                 "place_wait_s")
            self.place_wait_s = self.max_wait_s
        return self

    def notes(self) -> list[str]:
        """Deprecated spellings in the section, one line each."""
        if self.max_wait_s is None:
            return []
        return [f"labgrid: max_wait_s is deprecated here and will be removed; use place_wait_s: "
                f"{self.max_wait_s:g}"]

    def claims(self) -> list[tuple[str, LabClaim]]:
        common = dict(coordinator=self.coordinator, client=self.client, priority=self.priority,
                      place_wait_s=self.place_wait_s)
        if self.places is not None:
            return [(place, LabClaim(place=place, **common)) for place in self.places]
        name = self.name or "-".join(self.tags[key] for key in sorted(self.tags)) or "lab"
        return [(name, LabClaim(tags=dict(self.tags), **common))]


def lab_devices(section: LabSection) -> list[dict]:
    """Fleet-file device entries, one per claim, ready for the device schema."""
    return [{"transport": "ssh", **section.device, "name": name, "labgrid": claim}
            for name, claim in section.claims()]
