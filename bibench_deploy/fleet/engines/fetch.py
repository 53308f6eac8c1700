"""LCE's `lce_benchmark_model` from its GitHub release assets, into a local cache.

`https://github.com/larq/compute-engine/releases/download/v<VERSION>/lce_benchmark_model_<ARCH>`
lands at `$XDG_CACHE_HOME/bibench-deploy/engines/<VERSION>/<asset>` (default `~/.cache`), with a
record beside it (`<asset>.fetched.json`: URL, version, size, sha256). The sha256 is trusted on
first use: the release page publishes none the tool could check against, so it is printed for
the user to compare, and every later use of the file (a fetch, `engines list`, `run`) must match
it. The cache never follows a link it did not make: a link in place of the version folder, the
binary or its record is refused.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bibench_deploy.errors import BibenchError, UsageError
from bibench_deploy.manifest import sha256_file

RELEASES = "https://github.com/larq/compute-engine/releases/download"
DEFAULT_VERSION = "0.16.0"     # the converter of the pinned set (README: Set-up)
ASSETS = {"aarch64": "lce_benchmark_model_aarch64", "aarch32": "lce_benchmark_model_aarch32",
          "android_arm64": "lce_benchmark_model_android_arm64"}
MAX_BYTES = 256 << 20          # the release binaries are a few MB; a bigger answer is not one
TIMEOUT_S = 60.0
RECORD_SUFFIX = ".fetched.json"
_VERSION = re.compile(r"\d+\.\d+\.\d+([.-]?[A-Za-z0-9]+)?")


class EngineFetchError(BibenchError):
    """An engine could not be downloaded, or a cached one no longer matches its record."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str
    version: str
    url: str
    downloaded: bool   # False: the cached file, verified against its record


def asset_url(arch: str, version: str, url_base: str = RELEASES) -> str:
    return f"{url_base.rstrip('/')}/v{version}/{ASSETS[arch]}"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bibench-deploy" / "engines"


def cached_path(arch: str, version: str) -> Path:
    return cache_dir() / version / ASSETS[arch]


def record_path(binary: Path) -> Path:
    return binary.with_name(binary.name + RECORD_SUFFIX)


def read_record(binary: Path) -> Optional[dict]:
    """The record written at the first fetch of `binary`, or None when it was not fetched."""
    record = record_path(binary)
    if not os.path.lexists(record):
        return None
    _refuse_link(record)
    try:
        data = json.loads(record.read_text())
        return data if isinstance(data, dict) and isinstance(data.get("sha256"), str) else {}
    except (OSError, ValueError):
        return {}


def verify(binary: Path) -> Optional[dict]:
    """The record of a fetched `binary` once its bytes match it; None for a file not fetched by
    the tool. Raises EngineFetchError when they differ or the record is unreadable."""
    record = read_record(binary)
    if record is None:
        return None
    if not record:
        raise EngineFetchError(f"{record_path(binary)} is not a fetch record; delete it and "
                               f"{binary.name}, then fetch again with `bibench-deploy engines "
                               "fetch`")
    _refuse_link(binary)
    actual = sha256_file(binary) if binary.is_file() else "(missing)"
    if actual != record["sha256"]:
        raise EngineFetchError(
            f"{binary}: sha256 {actual[:16]} differs from {record['sha256'][:16]} recorded at its "
            f"first fetch from {record.get('url', '?')}; delete {binary.parent} and fetch it "
            "again only if the release really changed")
    return record


def fetch(arch: str, version: str = DEFAULT_VERSION, url_base: str = RELEASES) -> Fetched:
    """The asset for `arch` at `version` in the cache: downloaded when missing (and checked
    against a record already there), else verified against its record."""
    if arch not in ASSETS:
        raise UsageError(f"unknown --arch {arch!r}; choose one of {', '.join(ASSETS)}")
    if not _VERSION.fullmatch(version):
        raise UsageError(f"--version {version!r} is not a release version such as "
                         f"{DEFAULT_VERSION}")
    path, url = cached_path(arch, version), asset_url(arch, version, url_base)
    _make_folder(path.parent)
    if os.path.lexists(path):
        record = verify(path)
        if record is not None:
            return Fetched(path, record["sha256"], version, record.get("url", url), False)
    sha256 = _download(url, path, (read_record(path) or {}).get("sha256"))
    record_path(path).write_text(json.dumps({"url": url, "version": version, "arch": arch,
                                             "bytes": path.stat().st_size,
                                             "sha256": sha256}, indent=1) + "\n")
    return Fetched(path, sha256, version, url, True)


def _make_folder(folder: Path) -> None:
    for part in (folder.parent.parent, folder.parent, folder):
        if part.is_symlink():
            raise EngineFetchError(f"{part} is a link; the engine cache makes its own folders "
                                   "(remove the link)")
    folder.mkdir(parents=True, exist_ok=True)


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise EngineFetchError(f"{path} is a link, not a file the engine cache wrote; remove it")


def _download(url: str, path: Path, expected: Optional[str]) -> str:
    """`url` streamed into a temporary file beside `path`, renamed onto it once complete and,
    when a record exists, matching it. Returns the sha256."""
    import hashlib
    import urllib.error
    import urllib.request
    _refuse_link(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
                _check_length(url, answer.headers.get("Content-Length"))
                size = 0
                for block in iter(lambda: answer.read(1 << 16), b""):
                    size += len(block)
                    if size > MAX_BYTES:
                        raise EngineFetchError(f"{url} sent more than {MAX_BYTES >> 20} MiB; not "
                                               "an lce_benchmark_model binary")
                    digest.update(block)
                    out.write(block)
        sha256 = digest.hexdigest()
        if expected and sha256 != expected:
            raise EngineFetchError(f"{url}: sha256 {sha256[:16]} differs from {expected[:16]} "
                                   f"recorded at its first fetch in {record_path(path)}; the "
                                   "release changed or the download is not it")
        os.chmod(temp, 0o755)
        os.replace(temp, path)
        return sha256
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise EngineFetchError(f"cannot download {url}: {reason}") from None
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)


def _check_length(url: str, length: Optional[str]) -> None:
    if length and length.isdigit() and int(length) > MAX_BYTES:
        raise EngineFetchError(f"{url} is {int(length) >> 20} MiB, more than {MAX_BYTES >> 20} "
                               "MiB; not an lce_benchmark_model binary")
