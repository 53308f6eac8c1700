"""The plan: every (device, model, variant, engine, threads, kernel options) cell of a run.

Cells of one model that differ only in variant (binary / fp32) form a pair; a device measures a
pair's launches interleaved (binary, fp32, binary, fp32, ...) so drift cancels in their ratio.
Each engine measures the artefact kinds it names in its `ARTEFACTS` (LCE: lce and fp32; daBNN:
dabnn, as variant binary). A model without a daBNN artefact still gets its daBNN cells, marked
unsupported with the manifest's `deploy.dabnn.reason`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bibench_deploy.errors import FleetError
from bibench_deploy.manifest import artefact_path, find_model_dirs, load_manifest

VARIANTS = {"binary": "lce", "fp32": "fp32"}  # variant -> manifest artefact kind (LCE engines)
ARTEFACT_VARIANTS = {"lce": "binary", "fp32": "fp32", "dabnn": "binary"}


@dataclass(frozen=True)
class ModelFile:
    name: str
    arch: str
    algo: str
    variant: str
    path: Optional[Path]
    sha256: str
    bytes: int
    artefact: str = "lce"
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

    def _identity(self, *variant: str) -> str:
        return "|".join([self.device, self.model.name, *variant, self.engine,
                         f"t{self.threads}", f"a{self.affinity}",
                         f"bgemm{int(self.use_indirect_bgemm)}", f"xnn{int(self.use_xnnpack)}"])

    @property
    def key(self) -> str:
        """Stable identity of the cell in the journal and the CSV."""
        return self._identity(self.model.variant)

    @property
    def pair_key(self) -> str:
        return self._identity()

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
    return [model for d in dirs for model in _model_files(d)]


def _model_files(model_dir: Path) -> list[ModelFile]:
    manifest = load_manifest(model_dir)
    files = []
    names = manifest["name"], manifest["arch"], manifest["algo"]
    for kind, variant in ARTEFACT_VARIANTS.items():
        entry = manifest["artefacts"].get(kind)
        if entry:
            files.append(ModelFile(*names, variant, artefact_path(model_dir, manifest, kind),
                                   entry["sha256"], int(entry["bytes"]), kind))
        elif kind == "dabnn":
            reason = (manifest.get("deploy", {}).get("dabnn") or {}).get("reason")
            files.append(ModelFile(*names, variant, None, "", 0, kind,
                                   reason or "the manifest has no daBNN (.dab) artefact"))
    return files


def plan_cells(devices, models: list[ModelFile], threads: Optional[list[int]] = None) -> list[Cell]:
    """Cells in measuring order: per device, model, threads and options, the binary cell
    before its FP32 twin."""
    from bibench_deploy.fleet.engines import ENGINES
    cells = []
    for device in devices:
        for engine_name, config in device.engines.items():
            engine = ENGINES.get(engine_name)
            options = itertools.product(config.use_indirect_bgemm, config.use_xnnpack) \
                if engine.KERNEL_OPTIONS else [(False, False)]
            engine_threads = [1] if engine.SINGLE_THREADED else threads or device.threads
            engine_models = [m for m in models if m.artefact in engine.ARTEFACTS]
            for (bgemm, xnnpack), n_threads, model in itertools.product(
                    list(options), engine_threads, engine_models):
                cells.append(Cell(device.name, model, engine_name, n_threads,
                                  device.affinity_for(n_threads), bgemm, xnnpack))
    return sorted(cells, key=lambda c: (c.device, c.pair_key, c.model.variant != "binary"))


def pairs(cells: list[Cell]) -> list[list[Cell]]:
    """Group a device's cells into interleaved pairs (or singles), keeping plan order."""
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(cell.pair_key, []).append(cell)
    return list(groups.values())
