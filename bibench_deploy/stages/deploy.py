"""The deploy-graph stage: the inference form of every operator, checked against training."""

from __future__ import annotations

from bibench_deploy.deploy_graph.deploy import build_deploy_model, deploy_form_numerics, predict
from bibench_deploy.lce.audit import numerics_pass
from bibench_deploy.stages.state import BuildState, require
from bibench_deploy.training.inputs import audit_batch


def build_deploy_graph(state: BuildState) -> None:
    """The deploy graph, equal to the training form in float64, and its float32 outputs on the
    audit batch (the daBNN checks' reference)."""
    state.reporter.stage("building the deploy graph and checking it against the training graph "
                         "in float64")
    arch, algo, classes = state.arch, state.algo, state.dataset.num_classes
    state.x = audit_batch(state.dataset, state.prep)
    state.deploy, state.dropped, state.centring = build_deploy_model(arch, algo, state.model,
                                                                     classes)
    numerics, state.deploy_logits64 = deploy_form_numerics(arch, algo, state.model, classes,
                                                           state.x)
    state.deploy_numerics = numerics
    require(numerics_pass(numerics), lambda: (
        f"{state.name}: the deploy graph does not compute the trained model "
        f"(top-1 agreement {numerics['top1_agreement']:.1%} in float64); this is a bug "
        f"in the algorithm's deploy form"))
    state.reference = predict(state.deploy, state.x)
