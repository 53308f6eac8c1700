"""Before a run: every coordinator answers and every named place exists, or one line says not."""

from __future__ import annotations

from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.lab.client import LabClient, LabError


def check_labs(devices) -> None:
    places: dict[tuple[str, str], list[str]] = {}
    claims = {}
    for device in devices:
        claim = device.labgrid
        if claim is None:
            continue
        key = (claim.client, claim.coordinator)
        claims.setdefault(key, claim)
        places.setdefault(key, []).extend([claim.place] if claim.place else [])
    for key, claim in claims.items():
        try:
            known = LabClient(claim).places()
        except LabError as exc:
            raise FleetError(str(exc)) from None
        missing = [p for p in places[key] if p not in known]
        if missing:
            raise FleetError(f"labgrid coordinator {claim.coordinator} has no place "
                             f"{missing[0]!r}; its places are {', '.join(known) or 'none'}")
