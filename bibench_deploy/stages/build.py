"""`build`: train -> deploy graph -> LCE + FP32 flatbuffers -> audit -> complexity -> manifest.

The model directory is written whole or not at all (`model_dir`); the stages run in its
staging directory (`sequence.STAGES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bibench_deploy.data import load_dataset
from bibench_deploy.model_dir import write_model_dir
from bibench_deploy.reporter import Reporter
from bibench_deploy.stages.request import BuildRequest, check_request


def build(request: BuildRequest, reporter: Reporter = Reporter()) -> dict[str, Any]:
    target = check_request(request)
    reporter.stage(f"loading dataset {request.dataset}")
    dataset = load_dataset(request.dataset, request.data_dir)

    def stages(staging: Path) -> dict[str, Any]:
        reporter.stage("importing TensorFlow, Larq and the LCE converter")
        from bibench_deploy.stages.sequence import run_stages
        from bibench_deploy.stages.state import BuildState
        return run_stages(BuildState(request, dataset, staging, reporter))
    return write_model_dir(target, stages)
