"""`build`'s stages, in order: each a small function over the one `BuildState`.

A stage that starts visible work announces it with `reporter.stage`, which the CLI times;
stages that continue that work (the verdict after the audit, the manifest after the
artefacts) are timed with it.
"""

from __future__ import annotations

from typing import Any, Callable

from bibench_deploy.stages.dabnn import export_dabnn
from bibench_deploy.stages.deploy import build_deploy_graph
from bibench_deploy.stages.describe import describe, verify_import, write_artefacts
from bibench_deploy.stages.lce import (audit_binary, audit_fp32, convert_flatbuffers,
                                       judge_numerics, lce_verdict)
from bibench_deploy.stages.model import evaluate, load_weights, prepare
from bibench_deploy.stages.state import BuildState

Stage = Callable[[BuildState], None]

STAGES: tuple[Stage, ...] = (
    prepare, load_weights, evaluate,
    build_deploy_graph,
    convert_flatbuffers, audit_binary, lce_verdict, audit_fp32, judge_numerics,
    export_dabnn,
    write_artefacts, describe, verify_import,
)


def run_stages(state: BuildState) -> dict[str, Any]:
    """Run every stage over `state`; the manifest they filled in."""
    for stage in STAGES:
        stage(state)
    return state.manifest
