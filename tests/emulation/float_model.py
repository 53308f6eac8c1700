"""A tiny Keras float model as a .tflite, and its outputs from the host's TFLite interpreter on the
seeded inputs the aarch64 runner (remote/litert_runner.py) feeds it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bibench_deploy.emulation.remote.litert_runner import seeded_inputs


def build_float_model(directory: Path) -> Path:
    """Two convolutions, a pooling and a dense layer, 16x16x3 in, 10 out: `tiny-fp32.tflite`."""
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
    path = directory / "tiny-fp32.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def host_outputs(model_path: Path, seed: int) -> list[np.ndarray]:
    """One inference on the host, one thread, inputs drawn as the runner draws them."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(model_path), num_threads=1)
    interpreter.allocate_tensors()
    details = interpreter.get_input_details()
    for detail, array in zip(details, seeded_inputs(details, seed)):
        interpreter.set_tensor(detail["index"], array)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def assert_outputs_match(emulated: list[dict], model_path: Path, seed: int) -> None:
    """The runner's outputs (shapes and first values) equal the host interpreter's."""
    expected = host_outputs(model_path, seed)
    assert [o["shape"] for o in emulated] == [list(e.shape) for e in expected]
    for output, host in zip(emulated, expected):
        first = host.reshape(-1)[:len(output["first"])]
        np.testing.assert_allclose(output["first"], first, rtol=1e-5, atol=1e-6)
