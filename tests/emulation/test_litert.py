"""TFLite's aarch64 float kernels (ai-edge-litert in the aarch64 userland) under qemu: a tiny
Keras model's instructions per inference repeat, and its outputs equal the host interpreter's on
the same seeded inputs."""

from __future__ import annotations

import os

import numpy as np
import pytest

from bibench_deploy.emulation import litert
from bibench_deploy.emulation.remote.litert_runner import seeded_inputs
from tests.emulation.conftest import needs

pytestmark = pytest.mark.slow
SEED = 7


@pytest.fixture(scope="module")
def userland():
    needs("qemu-aarch64", "cc")
    root = litert.default_userland()
    if not (root / litert.MARKER).is_file():
        pytest.skip(f"no aarch64 userland at {root}: make aarch64-userland builds it")
    return root


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Conv2D(8, 3, activation="relu", input_shape=(16, 16, 3)),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Conv2D(8, 3, activation="relu"),
        tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(10),
    ])
    path = tmp_path_factory.mktemp("litert") / "tiny-fp32.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def host_outputs(model_path) -> list[np.ndarray]:
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(model_path), num_threads=1)
    interpreter.allocate_tensors()
    details = interpreter.get_input_details()
    for detail, array in zip(details, seeded_inputs(details, SEED)):
        interpreter.set_tensor(detail["index"], array)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def test_instructions_per_inference_repeat(userland, float_model):
    # Python's and numpy's start-up varies by a few thousand instructions from run to run (it
    # reads clocks); 10,000 inferences between N1 and N2 bring that well below 1e-5 per inference.
    result = litert.measure_model(float_model, 100, 10_100, userland, seed=SEED, repeats=2,
                                  rel_tol=1e-5)
    assert result.instructions > 1_000 and result.spread <= 1e-5
    print(f"\n{float_model.name}: {result.instructions:.1f} guest instructions per inference; "
          f"counts {result.counts}")


def test_aarch64_outputs_equal_the_host_interpreter(userland, float_model):
    guest, result = litert.run_model(float_model, 1, userland, seed=SEED)
    assert "XNNPACK delegate" in guest.stderr     # the kernels a board runs by default
    aarch64 = result["outputs"]
    expected = host_outputs(float_model)
    assert [o["shape"] for o in aarch64] == [list(e.shape) for e in expected]
    for emulated, host in zip(aarch64, expected):
        first = host.reshape(-1)[:len(emulated["first"])]
        np.testing.assert_allclose(emulated["first"], first, rtol=1e-5, atol=1e-6)
