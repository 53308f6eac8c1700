"""The one object `build`'s stages read and fill in, in the order `sequence.STAGES` runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from bibench_deploy.data.base import Dataset
from bibench_deploy.errors import ConversionError
from bibench_deploy.reporter import Reporter
from bibench_deploy.stages.request import BuildRequest


@dataclass
class BuildState:
    request: BuildRequest
    dataset: Dataset
    staging: Path
    reporter: Reporter
    # prepare
    algo: Any = None
    arch: Any = None
    prep: Any = None
    manifest: dict[str, Any] = field(default_factory=dict)
    model: Any = None                       # the training form
    # load_weights, evaluate
    history: list[dict[str, float]] = field(default_factory=list)
    imported: Optional[dict[str, Any]] = None
    randomized: Optional[dict[str, Any]] = None
    test_accuracy: Optional[float] = None   # an imported model's classes are not the dataset's
    # build_deploy_graph
    x: Optional[np.ndarray] = None          # the audit batch
    deploy: Any = None
    dropped: Any = None
    centring: Any = None
    deploy_numerics: dict[str, Any] = field(default_factory=dict)
    deploy_logits64: Optional[np.ndarray] = None
    reference: Optional[np.ndarray] = None  # float32 Keras on the deploy graph
    # convert_flatbuffers
    binary_fb: bytes = b""
    fp32_model: Any = None
    fp32_fb: bytes = b""
    # audit_binary, lce_verdict, audit_fp32
    fp32_counts: dict[str, Any] = field(default_factory=dict)
    fp32_graph: Any = None
    complexity: dict[str, Any] = field(default_factory=dict)
    binary_audit: dict[str, Any] = field(default_factory=dict)
    fp32_audit: dict[str, Any] = field(default_factory=dict)
    deploy64: Any = None                    # the deploy graph in float64: the verdict's reference
    fp32_reference: Optional[np.ndarray] = None
    # export_dabnn
    dabnn_files: dict[str, Path] = field(default_factory=dict)
    dabnn_audit: dict[str, Any] = field(default_factory=dict)
    fp32_onnx: dict[str, Any] = field(default_factory=dict)
    fp32_onnx_path: Optional[Path] = None
    # write_artefacts
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return bool(self.history) or self.imported is not None

    @property
    def name(self) -> str:
        return self.request.name


def require(condition: bool, message: Callable[[], str]) -> None:
    if not condition:
        raise ConversionError(message())
