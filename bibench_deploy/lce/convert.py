"""Keras -> TFLite flatbuffers with the LCE converter, and running them with LCE's interpreter."""

from __future__ import annotations

from typing import Any

import numpy as np

from bibench_deploy.tracing import keras_without_autograph


def convert(model: Any) -> bytes:
    """The LCE flatbuffer of `model` (batch size 1), converted from its frozen inference graph.

    `lce.convert_keras_model` saves a SavedModel first, which traces every layer's call
    functions again for Keras' metadata: 60-70 % of a conversion's time (resnet18: 4.8-6.8 s
    per model, 2.0-2.3 s frozen). It converts the frozen graph itself only as its fallback. Both
    run the same MLIR passes from the same GraphDef: same operators, bit-identical outputs; the
    frozen graph's flatbuffer has no SignatureDef and names its input after the Keras input
    (`image`, not `serving_default_image:0`); sizes differ by -600 to +272 bytes."""
    import tensorflow as tf
    from larq_compute_engine.mlir._tf_tfl_flatbuffer import convert_graphdef_to_tflite_flatbuffer
    from larq_compute_engine.mlir.python.converter import _contains_training_quant_op
    from tensorflow.core.framework.types_pb2 import DataType
    from tensorflow.lite.python.util import get_tensor_name
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)
    keras_without_autograph()
    specs = [tf.TensorSpec([1, *tensor.shape[1:]], tensor.dtype) for tensor in model.inputs]
    traced = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
    frozen = convert_variables_to_constants_v2(traced.get_concrete_function(*specs),
                                               lower_control_flow=False)
    inputs = [tensor for tensor in frozen.inputs if tensor.dtype != tf.dtypes.resource]
    graph_def = frozen.graph.as_graph_def()
    return convert_graphdef_to_tflite_flatbuffer(
        graph_def.SerializeToString(),
        [get_tensor_name(tensor) for tensor in inputs],
        [DataType.Name(tensor.dtype.as_datatype_enum) for tensor in inputs],
        [tensor.shape.as_list() for tensor in inputs],
        [get_tensor_name(tensor) for tensor in frozen.outputs],
        _contains_training_quant_op(graph_def),  # int8 fake-quant ops: quantize, as LCE decides
        "arm", None)


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
    from bibench_deploy.lce.flatbuffer import QUANTIZE, read_graph
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
