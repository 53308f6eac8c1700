"""Reproducible builds: the same command, seed and data give the same weights and flatbuffers."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.data import DATASETS
from bibench_deploy.data.digits import load_digits32
from bibench_deploy.manifest import load_manifest
from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.training.inputs import epoch_orders
from bibench_deploy.training.train import TrainConfig
from tests.algorithms.conftest import TINY

SMALL = "digits-small-flips"
REPRODUCED = ("lce", "fp32", "onnx", "dabnn")  # the .keras archive records its save date


def small_digits(data_dir=None):
    """200 training images, with flips switched on so every augmentation op runs."""
    full = load_digits32()
    return dataclasses.replace(full, name=SMALL, x_train=full.x_train[:200],
                               y_train=full.y_train[:200], flip_augment=True)


@pytest.fixture(scope="module")
def registered():
    ARCHITECTURES._items[TINY.name] = TINY
    DATASETS._items[SMALL] = small_digits
    yield
    ARCHITECTURES._items.pop(TINY.name)
    DATASETS._items.pop(SMALL)


def fingerprint(out, seed):
    request = BuildRequest("bnn", TINY.name, dataset=SMALL, out=out,
                           train=TrainConfig(epochs=2, batch_size=32, seed=seed))
    manifest = load_manifest(build(request) and out / request.name)
    return (manifest["training"]["weights_sha256"],
            {kind: manifest["artefacts"][kind]["sha256"] for kind in REPRODUCED
             if kind in manifest["artefacts"]},
            manifest["training"]["history"])


def train_and_convert(seed):
    from bibench_deploy.algorithms import ALGORITHMS
    from bibench_deploy.lce.convert import convert
    from bibench_deploy.deploy_graph.deploy import build_deploy_model
    from bibench_deploy.training.inputs import Preprocessing
    from bibench_deploy.stages.model import make_deterministic
    from bibench_deploy.training.train import train, weights_sha256
    algo, dataset = ALGORITHMS.get("reactnet"), small_digits()
    make_deterministic(seed)
    model = TINY.build(algo, dataset.num_classes)
    history = train(model, algo, dataset, Preprocessing(dataset, TINY.input_size),
                    TrainConfig(epochs=1, batch_size=50, seed=seed))
    deploy, _, _ = build_deploy_model(TINY, algo, model, dataset.num_classes)
    return weights_sha256(model), hashlib.sha256(convert(deploy)).hexdigest(), history


@pytest.mark.trains
def test_training_and_conversion_repeat_bit_for_bit():
    first, second = train_and_convert(5), train_and_convert(5)
    assert first == second


@pytest.mark.slow
def test_two_identical_builds_give_identical_weights_and_flatbuffers(registered, tmp_path):
    first = fingerprint(tmp_path / "a", seed=3)
    second = fingerprint(tmp_path / "b", seed=3)
    assert first == second
    assert {"lce", "fp32"} <= set(first[1])
    other = fingerprint(tmp_path / "c", seed=4)  # the seed reaches weights and bytes
    assert other[0] != first[0] and other[1]["lce"] != first[1]["lce"]


def test_epoch_orders_depend_on_the_seed_only():
    assert (epoch_orders(50, 3, 7) == epoch_orders(50, 3, 7)).all()
    orders = epoch_orders(50, 3, 7)
    assert sorted(orders[0]) == list(range(50)) and (orders[0] != orders[1]).any()
    assert (orders != epoch_orders(50, 3, 8)).any()
