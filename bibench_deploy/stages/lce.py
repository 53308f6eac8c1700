"""The LCE stages: both flatbuffers converted, audited and judged against their references."""

from __future__ import annotations

from bibench_deploy.algorithms import FP32
from bibench_deploy.complexity import compare_to_fp32, count_model
from bibench_deploy.deploy_graph.deploy import float64_deploy, predict
from bibench_deploy.lce import audit
from bibench_deploy.lce.convert import convert, interpret
from bibench_deploy.lce.flatbuffer import read_graph
from bibench_deploy.stages.state import BuildState, require


def convert_flatbuffers(state: BuildState) -> None:
    state.reporter.stage("converting the binary and FP32 models with the LCE converter")
    state.binary_fb = convert(state.deploy)
    state.fp32_model = state.arch.build(FP32, state.dataset.num_classes)
    state.fp32_fb = convert(state.fp32_model)


def audit_binary(state: BuildState) -> None:
    """Complexity against FP32 and the binary flatbuffer's operators; every float operator the
    algorithm declares must be there."""
    state.reporter.stage("auditing the flatbuffers")
    binary_counts, state.fp32_counts = count_model(state.deploy), count_model(state.fp32_model)
    state.complexity = compare_to_fp32(binary_counts, state.fp32_counts)
    state.fp32_graph = read_graph(state.fp32_fb)
    state.binary_audit = audit.audit_graph(read_graph(state.binary_fb), binary_counts["totals"],
                                           state.fp32_graph)
    algo = state.algo
    missing = audit.missing_declared_ops(state.binary_audit, algo.inference_float_ops)
    require(not missing, lambda: (
        f"{state.name}: the LCE flatbuffer runs no float {', '.join(missing)} beyond its FP32 "
        f"baseline, although {algo.name} declares {'it' if len(missing) == 1 else 'them'} in "
        f"inference_float_ops: the converter folded the operator away (identity parameters?), "
        f"so this graph would not measure {algo.name}; fix the deploy form or its parameters"))


def lce_verdict(state: BuildState) -> None:
    """The binary flatbuffer against the deploy graph in float64 (lce/verdict.py)."""
    state.deploy64 = float64_deploy(state.arch, state.algo, state.deploy,
                                    state.dataset.num_classes)
    state.binary_audit.update(audit.lce_verdict(state.deploy64, state.x, state.binary_fb,
                                                state.reference, search=state.trained))
    state.binary_audit["deploy_graph_vs_keras"] = state.deploy_numerics
    state.binary_audit["dropped_training_layers"] = state.dropped
    state.binary_audit["thresholds_centred"] = state.centring


def audit_fp32(state: BuildState) -> None:
    state.fp32_audit = audit.audit_graph(state.fp32_graph, state.fp32_counts["totals"], None)
    state.fp32_reference = predict(state.fp32_model, state.x)
    state.fp32_audit.update(audit.compare_outputs(state.fp32_reference,
                                                  interpret(state.fp32_fb, state.x)))


def judge_numerics(state: BuildState) -> None:
    """A trained build must pass the verdict. An untrained network has no margins: its
    BatchNorm ties bits to thresholds exactly and flips cascade beyond what the attribution
    follows, so its verdict is recorded and warned about."""
    binary, fp32 = state.binary_audit, state.fp32_audit
    mismatch = (f"{state.name}: the LCE flatbuffer does not compute the deploy graph: "
                + audit.verdict_mismatch(binary))
    binary["numerics_enforced"] = state.trained
    if state.trained:
        require(audit.verdict_pass(binary),
                lambda: f"{mismatch}; the converter changed the model's meaning")
    elif not audit.verdict_pass(binary):
        binary["numerics_warning"] = f"{mismatch}; untrained, not enforced"
        state.reporter.warning(binary["numerics_warning"])
    require(audit.numerics_pass(fp32), lambda: (
        f"{state.name}: the FP32 flatbuffer does not match Keras "
        f"(top-1 agreement {fp32['top1_agreement']:.1%})"))
