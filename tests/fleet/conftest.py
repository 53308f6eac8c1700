"""Fleet test fixtures: tiny real models, real sshd servers on loopback, fleet files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from bibench_deploy.emulation.litert import default_userland
from tests.fleet.aarch64_board import Aarch64Board, board_problem
from tests.fleet.sshd import SshServer, keygen
from tests.fleet.tiny_models import build_model_dir, copy_model_dir

PYTHON = sys.executable
ODD_MODEL = "tiny-b n;$(touch PWNED)'`x`"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, converts) -> Path:
    """Two built models: `tiny-bnn` and a copy whose name holds spaces and shell metacharacters."""
    root = tmp_path_factory.mktemp("models")
    source = build_model_dir(root, "tiny-bnn")
    copy_model_dir(source, root, ODD_MODEL)
    return root


@pytest.fixture(scope="session")
def client_key(tmp_path_factory) -> Path:
    return keygen(tmp_path_factory.mktemp("client") / "id_ed25519")


class FleetLab:
    """Starts sshd servers, writes known_hosts and fleet files; kills its servers at the end."""

    def __init__(self, root: Path, client_key: Path):
        self.root, self.client_key = root, client_key
        self.known_hosts = root / "known_hosts"
        self.known_hosts.write_text("")
        self.servers: list[SshServer] = []

    def server(self, name: str, sftp: str = "internal-sftp", known: bool = True) -> SshServer:
        return self._started(SshServer(self.root / name, Path(f"{self.client_key}.pub"), sftp),
                             known)

    def board(self, name: str, userland: Path, known: bool = True) -> Aarch64Board:
        """A loopback aarch64 board (tests/fleet/aarch64_board.py)."""
        return self._started(Aarch64Board(self.root / name, Path(f"{self.client_key}.pub"),
                                          userland), known)

    def _started(self, server: SshServer, known: bool) -> SshServer:
        self.servers.append(server.start())
        if known:
            with open(self.known_hosts, "a") as f:
                f.write(server.known_hosts_line())
        return server

    def device(self, server: SshServer, name: str, python: str = PYTHON, **extra) -> dict:
        return server.device(name, self.client_key, self.known_hosts, python, **extra)

    def fleet(self, devices: list[dict], name: str = "fleet.yaml") -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump({"devices": devices}, sort_keys=False))
        return path

    def close(self) -> None:
        for server in self.servers:
            server.kill()


@pytest.fixture
def lab(tmp_path, client_key, sshd):
    fleet_lab = FleetLab(tmp_path, client_key)
    yield fleet_lab
    fleet_lab.close()


@pytest.fixture
def aarch64_board(lab) -> Aarch64Board:
    """A loopback aarch64 board in the lab, its host key known; skipped, with the reason, where
    this machine cannot serve one (no root, no binfmt_misc entry, no userland)."""
    userland = default_userland()
    problem = board_problem(userland)
    if problem:
        pytest.skip(problem)
    return lab.board("aarch64-board", userland)
