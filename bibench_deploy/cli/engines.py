"""`bibench-deploy engines list | fetch`: what each device's engines need, and getting LCE's
benchmark binary from its release assets."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.cli.options import models_dir_option, note

engines_app = typer.Typer(help="What the fleet's engines need, and getting them.",
                          no_args_is_help=True)
app.add_typer(engines_app, name="engines")


@engines_app.command("list")
def list_engines(fleet: Optional[Path] = typer.Option(None, "--fleet", "-f", help="Fleet file "
                                                      "(YAML); default devices/local.yaml."),
                 models_dir: Path = models_dir_option("Built models, whose manifests name the "
                                                      "LCE converter version.")) -> None:
    """What each device's engines need, whether present and verified, where to get them.

    Verified: the sha256 recorded at `engines fetch`, the ELF arch, the version against the
    models' LCE converter. LCE's release assets are fetched with `engines fetch`."""
    from bibench_deploy.fleet.engines.getting import converter_versions, engine_statuses
    from bibench_deploy.fleet.inventory import fleet_path, load_fleet
    loaded = load_fleet(fleet_path(fleet))
    for text in loaded.notes:
        note(text)
    converters = converter_versions(models_dir) if models_dir.is_dir() else set()
    for status in engine_statuses(loaded.devices, converters):
        typer.echo(f"{status.device}: {status.engine}")
        typer.echo(f"  needs:    {status.needs}")
        typer.echo(f"  present:  {status.present}")
        for index, check in enumerate(status.verified.split("; ") if status.verified else []):
            typer.echo(f"  {'verified:' if index == 0 else '':9} {check}")
        if status.present.startswith("missing") or status.verified.startswith("NO"):
            typer.echo(f"  get:      {status.get}")


@engines_app.command("fetch")
def fetch_engine(engine: str = typer.Argument(..., help="lce_benchmark_model (the one engine "
                                              "with published binaries)."),
                 arch: str = typer.Option(..., help="aarch64, aarch32 (armv7, glibc >= 2.34) "
                                          "or android_arm64."),
                 version: Optional[str] = typer.Option(None, help="LCE release, matching the "
                                                       "converter that wrote the models "
                                                       "(default: the pinned 0.16.0)."),
                 url_base: Optional[str] = typer.Option(None, help="Where the release folders "
                                                        "v<VERSION>/ are (a mirror; default: "
                                                        "LCE's GitHub releases).")) -> None:
    """Download LCE's lce_benchmark_model release asset into the cache; prints its path.

    The sha256 is recorded at the first fetch and verified on every later use; name the
    printed path as the device's `binary:` in the fleet file."""
    from bibench_deploy.errors import UsageError
    from bibench_deploy.fleet.engines import fetch
    if engine != "lce_benchmark_model":
        raise UsageError(f"no published binaries for {engine!r}: only lce_benchmark_model is "
                         "fetched (daBNN: build benchmark_single_model from its own project)")
    fetched = fetch.fetch(arch, version or fetch.DEFAULT_VERSION, url_base or fetch.RELEASES)
    state = "downloaded" if fetched.downloaded else "cached, verified against its record"
    note(f"{fetched.url}: {state}")
    note(f"sha256 {fetched.sha256} (compare it with the release page)")
    typer.echo(str(fetched.path))
