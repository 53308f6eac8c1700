"""A real labgrid lab on 127.0.0.1: a labgrid-coordinator on a free port, one labgrid-exporter
per board whose NetworkService points at a real sshd server, and places with tags. labgrid runs
from its own virtual environment (.labgrid-venv, created by `make labgrid-venv`)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import yaml

from tests.fleet.sshd import SshServer, free_port

REPO = Path(__file__).resolve().parents[2]
LABGRID_BIN = Path(os.environ.get("BIBENCH_LABGRID_BIN", REPO / ".labgrid-venv" / "bin"))
CLIENT = LABGRID_BIN / "labgrid-client"


class Lab:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.coordinator = f"127.0.0.1:{free_port()}"
        self.processes: list[subprocess.Popen] = []

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=self.root, stdout=log, stderr=log,
                                   stdin=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def start(self) -> "Lab":
        self._spawn("coordinator", [str(LABGRID_BIN / "labgrid-coordinator"), "-l",
                                    self.coordinator])
        self._until(lambda: self.client("places").returncode == 0, "the coordinator answers")
        return self

    def export(self, board: str, server: SshServer, tags: dict[str, str]) -> str:
        """An exporter publishing the board's NetworkService, and a place `board` for it."""
        config = self.root / f"exporter-{board}.yaml"
        config.write_text(yaml.safe_dump({board: {"NetworkService": {
            "address": "127.0.0.1", "username": "root", "port": server.port}}}))
        self._spawn(f"exporter-{board}", [str(LABGRID_BIN / "labgrid-exporter"), "-c",
                                          self.coordinator, "-n", f"exp-{board}", str(config)])
        self._until(lambda: f"exp-{board}/{board}/NetworkService" in self.client("resources").stdout,
                    f"exporter {board} publishes its resource")
        for args in (["create"], ["add-match", f"exp-{board}/{board}/*"],
                     ["set-tags", *(f"{k}={v}" for k, v in tags.items())]):
            subprocess.run([*self.base(), "-p", board, *args], check=True, capture_output=True)
        return board

    def base(self) -> list[str]:
        return [str(CLIENT), "-x", self.coordinator]

    def client(self, *args: str, user: str = "", **kwargs) -> subprocess.CompletedProcess:
        env = {**os.environ, **({"LG_USERNAME": user} if user else {})}
        return subprocess.run([*self.base(), *args], capture_output=True, text=True, env=env,
                              timeout=30, **kwargs)

    def holder(self, place: str) -> str:
        for line in self.client("-p", place, "show").stdout.splitlines():
            if line.strip().startswith("acquired:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError(f"place {place} not shown")

    def reservations(self) -> str:
        return self.client("reservations").stdout

    def _until(self, check, what: str, timeout_s: float = 20.0) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if check():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting until {what}")

    def close(self) -> None:
        for process in reversed(self.processes):
            process.kill()
            process.wait()


def lab_fleet(path: Path, coordinator: str, device: dict, *, places=None, tags=None,
              place_wait_s: float = 60, plain: list[dict] = ()) -> Path:
    """A fleet file with a labgrid section whose devices take `device`'s settings (an entry of
    FleetLab.device, without its address)."""
    settings = {k: v for k, v in device.items() if k not in ("name", "host", "port", "user")}
    section = {"coordinator": coordinator, "client": str(CLIENT), "place_wait_s": place_wait_s,
               "device": settings, **({"places": places} if places else {"tags": tags})}
    path.write_text(yaml.safe_dump({"labgrid": section, "devices": list(plain)}, sort_keys=False))
    return path
