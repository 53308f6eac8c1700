"""Untrained builds keep every algorithm's cost: no identity parameter, no folded-away operator."""

from __future__ import annotations

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS, FP32
from bibench_deploy.algorithms.bnn import BNN
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.complexity import count_model
from bibench_deploy.errors import ConversionError
from bibench_deploy.lce.audit import audit_graph, missing_declared_ops
from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.lce.convert import convert
from bibench_deploy.deploy_graph.deploy import build_deploy_model
from bibench_deploy.lce.flatbuffer import read_graph
from bibench_deploy.training.train import TrainConfig
from bibench_deploy.training.untrained import randomize_untrained
from tests.algorithms.conftest import TINY


def fresh(algo, seed=0):
    tf.keras.utils.set_random_seed(seed)
    return TINY.build(algo, 10)


def constant_trainable_weights(model):
    return [w.name for w in model.trainable_weights
            if np.all(np.asarray(w) == np.asarray(w).flat[0])]


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_every_algorithm_starts_with_identity_parameters_and_ends_with_none(name):
    model = fresh(ALGORITHMS.get(name))
    assert constant_trainable_weights(model)  # at least BatchNorm's gamma and beta
    summary = randomize_untrained(model, seed=0)
    assert constant_trainable_weights(model) == []
    assert summary["batchnorms"] == 3
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            assert not np.allclose(layer.moving_mean, 0) and not np.allclose(layer.moving_variance, 1)


def test_the_draws_are_reproducible_from_the_seed():
    algo = ALGORITHMS.get("xnorpp")
    first, again, other = fresh(algo), fresh(algo), fresh(algo)
    for model, seed in ((first, 0), (again, 0), (other, 1)):
        randomize_untrained(model, seed)
    weights = [m.get_weights() for m in (first, again, other)]
    assert all(np.array_equal(a, b) for a, b in zip(weights[0], weights[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(weights[0], weights[2]))


@pytest.fixture(scope="module")
def fp32_graph(converts):
    return read_graph(convert(TINY.build(FP32, 10)))


def lce_audit(algo, fp32_graph, randomized):
    model = fresh(algo)
    if randomized:
        randomize_untrained(model, seed=0)
    deploy, _, _ = build_deploy_model(TINY, algo, model, 10)
    return audit_graph(read_graph(convert(deploy)), count_model(deploy)["totals"], fp32_graph)


@pytest.mark.parametrize("name, folded", [("xnorpp", ["ADD", "MUL", "RESHAPE"]), ("reactnet", ["ADD"])])
def test_identity_parameters_fold_away_and_the_declared_op_check_sees_it(name, folded,
                                                                         fp32_graph):
    """Gamma of ones and thresholds of zero: LCE drops the MUL / ADD (the bug this prevents)."""
    assert missing_declared_ops(lce_audit(ALGORITHMS.get(name), fp32_graph, False),
                                ALGORITHMS.get(name).inference_float_ops) == folded


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_randomized_untrained_graphs_keep_every_declared_op(name, fp32_graph):
    algo = ALGORITHMS.get(name)
    audit = lce_audit(algo, fp32_graph, True)
    assert missing_declared_ops(audit, algo.inference_float_ops) == []
    assert audit["binary_mac_share"] == 1.0


@pytest.fixture
def registered(tmp_path, converts):
    """TINY as an architecture and a BNN that declares a MUL it never computes."""
    class PlantedMul(BNN):
        name = "planted_mul"
        inference_float_ops = ("MUL",)
    ARCHITECTURES._items[TINY.name] = TINY
    ALGORITHMS._items[PlantedMul.name] = PlantedMul()
    yield
    ARCHITECTURES._items.pop(TINY.name)
    ALGORITHMS._items.pop(PlantedMul.name)


def test_a_declared_op_missing_from_the_flatbuffer_fails_the_build(registered, tmp_path):
    with pytest.raises(ConversionError, match=r"tiny-planted_mul: the LCE flatbuffer runs no "
                                              r"float MUL beyond its FP32 baseline.*declares it"):
        build(BuildRequest("planted_mul", TINY.name, train=TrainConfig(epochs=0), out=tmp_path))
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_an_untrained_build_records_its_draws_and_keeps_the_algorithms_ops(registered, tmp_path):
    manifest = build(BuildRequest("xnorpp", TINY.name, train=TrainConfig(epochs=0),
                                  out=tmp_path))
    drawn = manifest["training"]["untrained_parameters"]
    assert drawn["seed"] == 0 and drawn["batchnorms"] == 3
    assert any("gamma/h_scale" in name for name in drawn["constant_weights"])
    extra = manifest["audit"]["lce"]["extra_float_ops"]
    assert extra["MUL"]["count"] >= 2 and extra["ADD"]["count"] >= 2
    assert manifest["audit"]["lce"]["deploy_graph_vs_keras"]["top1_agreement"] == 1.0


@pytest.fixture(scope="module")
def untrained_resnet20(tmp_path_factory):
    out, cache = tmp_path_factory.mktemp("models"), {}

    def get(algo: str) -> dict:
        if algo not in cache:
            cache[algo] = build(BuildRequest(algo, "resnet20", train=TrainConfig(epochs=0),
                                             out=out))["audit"]["lce"]
        return cache[algo]
    return get


# Identity parameters can only fold away an operator an algorithm declares; the others' float
# ops are checked against BNN's on every trained resnet18 build (tests/algorithms).
DECLARING = ["bnn"] + [name for name in ALGORITHMS.names()
                       if ALGORITHMS.get(name).inference_float_ops]


@pytest.mark.slow
@pytest.mark.parametrize("name", DECLARING)
def test_untrained_resnet20_runs_each_algorithms_declared_ops_beyond_bnn(name,
                                                                         untrained_resnet20):
    audit, bnn = untrained_resnet20(name), untrained_resnet20("bnn")
    added = {k for k, v in audit["extra_float_ops"].items()
             if v["count"] > bnn["extra_float_ops"].get(k, {"count": 0})["count"]}
    assert sorted(added) == sorted(set(ALGORITHMS.get(name).inference_float_ops))
