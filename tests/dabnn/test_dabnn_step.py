"""The daBNN half of `build`: what it writes and records, on small Keras models."""

import numpy as np
import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.dabnn.step import build_dabnn
from tests.dabnn import keras_models

pytestmark = pytest.mark.converts


def images(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(3).normal(size=(8, height, width, 3)).astype(np.float32)


def test_a_verified_dab_is_written_with_its_verdict(tmp_path):
    model = keras_models.resnet_like()
    x = images(8, 8)
    files, audit = build_dabnn(ALGORITHMS.get("bnn"), model, model.predict(x, verbose=0), x,
                               tmp_path, "square", trained=True)
    assert sorted(files) == ["dabnn", "onnx"] and files["dabnn"].stat().st_size > 0
    assert audit["supported"] and audit["dabnn"]["numerics_enforced"]
    assert audit["dabnn"]["verdict"]["unexplained"] == 0


def test_a_non_square_model_is_recorded_unsupported_with_the_reason(tmp_path):
    model = keras_models.resnet_like(size=8, width=16)
    x = images(8, 16)
    files, audit = build_dabnn(ALGORITHMS.get("bnn"), model, model.predict(x, verbose=0), x,
                               tmp_path, "wide", trained=True)
    assert files == {} and not audit["supported"]
    assert "8x16" in audit["reason"] and "swaps height and width" in audit["reason"]
    assert list(tmp_path.iterdir()) == []
