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


def interpret_with_sign_inputs(flatbuffer: bytes, x: np.ndarray, num_threads: int = 1
                               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """`interpret`'s (first) output on `x` and the float input of every LceQuantize, in execution order:
    the values LCE binarizes, as it computed them. The flatbuffer is run with those tensors added
    to its subgraph's outputs (an output is never overwritten by the interpreter's memory
    planning; the model's own outputs are unchanged)."""
    from larq_compute_engine.tflite.python.interpreter import Interpreter
    from tensorflow.lite.tools import flatbuffer_utils
    from bibench_deploy.pipeline.flatbuffer import QUANTIZE, read_graph
    quantized = [op.inputs[0] for op in read_graph(flatbuffer).ops if op.type == QUANTIZE]
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    subgraph = model.subgraphs[0]
    own = len(subgraph.outputs)
    subgraph.outputs = [*subgraph.outputs, *quantized]
    probed = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    interpreter = Interpreter(probed, num_threads=num_threads, use_indirect_bgemm=True)
    outputs = interpreter.predict(x)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return (np.asarray(outputs[0], dtype=np.float32),  # the model's (first) output
            [np.asarray(v) for v in outputs[own:]])
