"""Getting the engines: `engines fetch` from a release server on 127.0.0.1 (never the real
URL), the sha256 trusted on first use and verified after, the version against the models'
converter, and `engines list`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.engines import fetch
from bibench_deploy.fleet.engines.getting import check_engines, converter_versions
from bibench_deploy.fleet.inventory import load_fleet
from bibench_deploy.manifest import SCHEMA_VERSION, artefact_entry, write_manifest
from tests.conftest import run_cli

ASSET = "/v0.16.0/lce_benchmark_model_aarch64"


def elf(machine: int, tail: bytes = b"payload") -> bytes:
    """The first bytes of an ELF executable for `machine` (0xB7 aarch64, 0x28 arm), then `tail`."""
    header = bytearray(64)
    header[:4], header[4], header[5] = b"\x7fELF", 2, 1
    header[18:20] = machine.to_bytes(2, "little")
    return bytes(header) + tail


@pytest.fixture
def releases():
    """A release server: `files` maps URL paths to the bytes served (a test may change them)."""
    files = {ASSET: elf(0xB7)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", files
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "bibench-deploy" / "engines"


def models_dir(root: Path, converter: str) -> Path:
    model_dir = root / "models" / "tiny-bnn"
    model_dir.mkdir(parents=True)
    (model_dir / "tiny-bnn.tflite").write_bytes(b"lce")
    write_manifest(model_dir, {"schema_version": SCHEMA_VERSION, "name": "tiny-bnn",
                               "arch": "tiny", "algo": "bnn", "input_shape": [1, 8, 8, 3],
                               "versions": {"larq_compute_engine": converter},
                               "artefacts": {"lce": artefact_entry(model_dir,
                                                                   model_dir / "tiny-bnn.tflite")}})
    return root / "models"


def fleet_file(root: Path, engines: dict, arch: str = "aarch64") -> Path:
    path = root / "fleet.yaml"
    device = {"name": "pi", "transport": "ssh", "host": "127.0.0.1", "arch": arch,
              "engines": engines}
    path.write_text(yaml.safe_dump({"devices": [device]}))
    return path


def test_fetch_records_the_sha256_and_a_second_use_verifies(releases, cache):
    base, files = releases
    first = fetch.fetch("aarch64", "0.16.0", base)
    assert first.downloaded and first.path == cache / "0.16.0" / "lce_benchmark_model_aarch64"
    assert first.path.read_bytes() == files[ASSET] and first.path.stat().st_mode & 0o100
    record = json.loads(fetch.record_path(first.path).read_text())
    assert record["sha256"] == first.sha256 and record["url"] == base + ASSET
    files[ASSET] = b"gone"   # a second use reads the cache, verified, and downloads nothing
    second = fetch.fetch("aarch64", "0.16.0", base)
    assert not second.downloaded and second.sha256 == first.sha256
    assert [p.name for p in first.path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_release_changed_after_the_first_fetch_is_refused(releases):
    base, files = releases
    path = fetch.fetch("aarch64", "0.16.0", base).path
    path.unlink()
    files[ASSET] = elf(0xB7, b"another build")
    with pytest.raises(fetch.EngineFetchError, match="differs from .* recorded at its first"):
        fetch.fetch("aarch64", "0.16.0", base)
    assert not path.exists()   # the changed download never took the cached name


def test_a_link_in_place_of_the_binary_is_refused(releases, cache, tmp_path):
    base, _ = releases
    (cache / "0.16.0").mkdir(parents=True)
    (cache / "0.16.0" / "lce_benchmark_model_aarch64").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(fetch.EngineFetchError, match="is a link"):
        fetch.fetch("aarch64", "0.16.0", base)
    assert not (tmp_path / "elsewhere").exists()


def test_a_missing_asset_is_one_error(releases):
    base, _ = releases
    with pytest.raises(fetch.EngineFetchError, match="cannot download .*Not Found"):
        fetch.fetch("aarch32", "0.16.0", base)


def test_a_corrupted_cache_is_refused_by_the_cli_and_by_run(releases, tmp_path):
    base, _ = releases
    out = run_cli("engines", "fetch", "lce_benchmark_model", "--arch", "aarch64",
                  "--version", "0.16.0", "--url-base", base)
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip())
    assert fetch.record_path(path).is_file() and "sha256 " in out.stderr
    path.write_bytes(elf(0xB7, b"tampered"))
    out = run_cli("engines", "fetch", "lce_benchmark_model", "--arch", "aarch64",
                  "--version", "0.16.0", "--url-base", base)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1
    assert "sha256" in out.stderr and "recorded at its first fetch" in out.stderr
    fleet = load_fleet(fleet_file(tmp_path, {"lce_benchmark_model": {"binary": str(path)}}))
    with pytest.raises(FleetError, match="sha256"):
        check_engines(fleet.devices, set())


def test_run_refuses_an_engine_older_than_the_converter(releases, tmp_path):
    base, files = releases
    files["/v0.7.0/lce_benchmark_model_aarch64"] = elf(0xB7)
    path = fetch.fetch("aarch64", "0.7.0", base).path
    fleet = fleet_file(tmp_path, {"lce_benchmark_model": {"binary": str(path)}})
    out = run_cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir(tmp_path, "0.16.0")),
                  "--reports-dir", str(tmp_path / "reports"))
    assert out.returncode == 1, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "0.7.0" in lines[0] and "0.16.0" in lines[0]
    assert "engines fetch lce_benchmark_model --arch aarch64 --version 0.16.0" in lines[0]
    assert not (tmp_path / "reports").exists()


def test_the_matching_version_passes_and_aarch32_on_aarch64_is_warned(releases, tmp_path):
    base, files = releases
    files["/v0.16.0/lce_benchmark_model_aarch32"] = elf(0x28)
    path = fetch.fetch("aarch32", "0.16.0", base).path
    converters = converter_versions(models_dir(tmp_path, "0.16.0"))
    assert converters == {"0.16.0"}
    fleet = load_fleet(fleet_file(tmp_path, {"lce_benchmark_model": {"binary": str(path)}}))
    [note] = check_engines(fleet.devices, converters)
    assert "aarch32" in note and "64-bit kernel" in note
    from bibench_deploy.fleet.engines import ENGINES
    config = fleet.devices[0].engines["lce_benchmark_model"]
    assert ENGINES.get("lce_benchmark_model").binary_problem(config, "aarch64") is None


def test_engines_list_says_present_missing_and_verified(releases, tmp_path):
    base, _ = releases
    path = fetch.fetch("aarch64", "0.16.0", base).path
    fleet = fleet_file(tmp_path, {"lce_benchmark_model": {"binary": str(path)},
                                  "dabnn": {"binary": str(tmp_path / "absent")}})
    out = run_cli("engines", "list", "--fleet", str(fleet),
                  "--models-dir", str(models_dir(tmp_path, "0.16.0")))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"present:  {path}" in text
    assert ("verified: sha256 as first fetched\n            ELF aarch64\n"
            "            version 0.16.0 (converter 0.16.0)\n") in text
    assert f"missing: {tmp_path / 'absent'}" in text and "JDAI-CV/dabnn" in text
    assert all(len(line) <= 80 for line in text.splitlines() if "present:" not in line and "get:" not in line)
