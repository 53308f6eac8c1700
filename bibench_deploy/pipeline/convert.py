"""Keras -> TFLite flatbuffers with the LCE converter, and running them with LCE's interpreter."""

from __future__ import annotations

from typing import Any

import numpy as np

from bibench_deploy.pipeline.tracing import keras_without_autograph


def convert(model: Any) -> bytes:
    import larq_compute_engine as lce
    keras_without_autograph()
    return lce.convert_keras_model(model)


def interpret(flatbuffer: bytes, x: np.ndarray, num_threads: int = 1) -> np.ndarray:
    """Outputs of the LCE interpreter (optimised generic kernels, indirect BGEMM) on `x`."""
    from larq_compute_engine.tflite.python.interpreter import Interpreter
    interpreter = Interpreter(flatbuffer, num_threads=num_threads, use_indirect_bgemm=True)
    return np.asarray(interpreter.predict(x), dtype=np.float32)
