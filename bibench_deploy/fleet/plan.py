"""The plan: every (device, model, variant, engine, threads, kernel options) cell of a run.

Each side is planned over its engine options: binary cells over indirect BGEMM x XNNPACK, FP32
cells over XNNPACK only (indirect BGEMM is a binary-kernel switch; FP32 cells record it false).
The cells of one model on one (device, engine, threads, affinity) form a group; a device measures
a group in rounds, each round launching every cell once, binary and FP32 alternating
(binary, fp32, binary, fp32, ...), so the k-th launches of any two cells are a pair and drift
cancels in their ratio.
Each engine measures the artefact formats `bibench_deploy.formats` says it runs (LCE: lce and
fp32; daBNN: dabnn, as variant binary). A model without a daBNN artefact still gets its daBNN
cells, marked unsupported with the manifest's `deploy.dabnn.reason`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bibench_deploy import formats
from bibench_deploy.cells import cell_key
from bibench_deploy.errors import FleetError
from bibench_deploy.manifest import artefact_path, find_model_dirs, load_manifest, sha256_file

# variant -> manifest artefact kind (LCE engines)
VARIANTS = {formats.get(key).variant: key for key in (formats.LCE, formats.FP32)}


@dataclass(frozen=True)
class ModelFile:
    name: str
    arch: str
    algo: str
    variant: str
    path: Optional[Path]
    sha256: str
    bytes: int
    artefact: str = formats.LCE
    unsupported: str = ""  # why the model has no such artefact; then path is None


@dataclass(frozen=True)
class Cell:
    device: str
    model: ModelFile
    engine: str
    threads: int
    affinity: str
    use_indirect_bgemm: bool
    use_xnnpack: bool

    @property
    def key(self) -> str:
        """Stable identity of the cell in the journal and the CSV."""
        return cell_key(self.device, self.model.name, self.model.variant, self.engine,
                        self.threads, self.affinity, self.use_indirect_bgemm, self.use_xnnpack)

    @property
    def group_key(self) -> str:
        """The cells measured together in rounds: one model on one device, engine, threads."""
        return "|".join([self.device, self.model.name, self.engine, f"t{self.threads}",
                         f"a{self.affinity}"])

    @property
    def options(self) -> dict[str, bool]:
        return {"use_indirect_bgemm": self.use_indirect_bgemm, "use_xnnpack": self.use_xnnpack}


def load_models(models_dir: Path, pattern: str = "*") -> list[ModelFile]:
    """The LCE, FP32 and daBNN model files of every built model matching `pattern`."""
    dirs = find_model_dirs(Path(models_dir), pattern)
    if not dirs:
        raise FleetError(f"no built models match {pattern!r} under {models_dir}; "
                         "build one with `bibench-deploy build` or bring one with "
                         "`bibench-deploy add`")
    models = [model for d in dirs for model in _model_files(d)]
    _refuse_shared_names(models)
    return models


def _refuse_shared_names(models: list[ModelFile]) -> None:
    """A model's name keys its cells, rows and results: two directories whose manifests carry
    the same name (a backup copy beside the original) would mix their launches in one cell."""
    first_dir: dict[str, Path] = {}
    for model in models:
        if model.path is None:
            continue
        seen = first_dir.setdefault(model.name, model.path.parent)
        if seen != model.path.parent:
            raise FleetError(f"{seen} and {model.path.parent} both hold a model named "
                             f"{model.name!r} (the manifests' name); cells are keyed by it: "
                             "move one of them out of the models dir or rebuild it under "
                             "another name")


def _model_files(model_dir: Path) -> list[ModelFile]:
    manifest = load_manifest(model_dir)
    files = []
    names = manifest["name"], manifest["arch"], manifest["algo"]
    for fmt in formats.measured():
        entry = manifest["artefacts"].get(fmt.key)
        if entry:
            path = artefact_path(model_dir, manifest, fmt.key)
            _check_unchanged(path, entry["sha256"])
            files.append(ModelFile(*names, fmt.variant, path, entry["sha256"],
                                   int(entry["bytes"]), fmt.key))
        elif fmt.planned_when_missing:
            reason = (manifest.get("deploy", {}).get(fmt.key) or {}).get("reason")
            files.append(ModelFile(*names, fmt.variant, None, "", 0, fmt.key, reason or
                                   f"the manifest has no {fmt.label} ({fmt.suffix}) artefact"))
    return files


def _check_unchanged(path: Path, built_sha256: str) -> None:
    """A model file must still be the one its build recorded: a changed file is refused (the
    device would otherwise measure whatever blob the manifest's hash names)."""
    if not path.is_file():
        raise FleetError(f"{path} is missing (its manifest lists it); rebuild the model "
                         f"with `bibench-deploy build --force`")
    actual = sha256_file(path)
    if actual != built_sha256:
        raise FleetError(f"{path} changed after its build (sha256 {actual[:12]}, the manifest "
                         f"records {built_sha256[:12]}); rebuild it with `bibench-deploy build "
                         "--force` instead of measuring a file the manifest does not describe")


def _options(engine, config, variant: str) -> list[tuple[bool, bool]]:
    """(indirect BGEMM, XNNPACK) combinations a side is measured over."""
    if not engine.KERNEL_OPTIONS:
        return [(False, False)]
    if variant == formats.VARIANT_FP32:
        return [(False, xnnpack) for xnnpack in config.use_xnnpack]
    return list(itertools.product(config.use_indirect_bgemm, config.use_xnnpack))


def plan_cells(devices, models: list[ModelFile], threads: Optional[list[int]] = None) -> list[Cell]:
    """Cells in measuring order: per device, model, engine and threads, the group's cells with
    binary and FP32 alternating."""
    from bibench_deploy.fleet.engines import ENGINES
    cells = []
    for device in devices:
        for engine_name, config in device.engines.items():
            engine = ENGINES.get(engine_name)
            engine_threads = [1] if engine.SINGLE_THREADED else threads or device.threads
            engine_models = [m for m in models if m.artefact in engine.ARTEFACTS]
            for n_threads, model in itertools.product(engine_threads, engine_models):
                for bgemm, xnnpack in _options(engine, config, model.variant):
                    cells.append(Cell(device.name, model, engine_name, n_threads,
                                      device.affinity_for(n_threads), bgemm, xnnpack))
    return [cell for group in groups(cells) for cell in _alternate(group)]


def _alternate(group: list[Cell]) -> list[Cell]:
    """binary, fp32, binary, fp32, ...: the sides alternate while both have cells left."""
    sides = [[c for c in group if c.model.variant == v] for v in formats.VARIANTS]
    order = []
    for i in range(max(len(side) for side in sides)):
        order += [side[i] for side in sides if i < len(side)]
    return order


def groups(cells: list[Cell]) -> list[list[Cell]]:
    """A device's cells grouped for round-robin measuring, keeping plan order."""
    found: dict[str, list[Cell]] = {}
    for cell in sorted(cells, key=lambda c: (c.device, c.group_key)):
        found.setdefault(cell.group_key, []).append(cell)
    return list(found.values())
