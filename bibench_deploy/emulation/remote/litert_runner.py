"""Runs a .tflite model N times with TFLite's own kernels (ai-edge-litert) and prints one JSON
line: the iteration count and each output's shape, checksum and first values.

Runs inside the aarch64 userland's Python, so it imports nothing from the project: the standard
library, numpy and ai_edge_litert only. The inputs are drawn from a seeded generator, the same on
every machine, so the host can feed the same inputs to its own interpreter and compare.

    python3 litert_runner.py MODEL.tflite --iterations N [--seed S] [--threads T]
"""

import argparse
import hashlib
import json

import numpy as np

FIRST_VALUES = 16


def seeded_inputs(input_details, seed):
    """One array per input: floats uniform in [-1, 1), integers over their type's range."""
    rng = np.random.default_rng(seed)
    arrays = []
    for detail in input_details:
        dtype, shape = np.dtype(detail["dtype"]), tuple(detail["shape"])
        if dtype.kind == "f":
            arrays.append(rng.uniform(-1.0, 1.0, shape).astype(dtype))
        else:
            info = np.iinfo(dtype)
            arrays.append(rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype))
    return arrays


def describe(array):
    flat = np.ascontiguousarray(array).reshape(-1)
    return {"shape": list(array.shape), "dtype": str(array.dtype),
            "sha256": hashlib.sha256(flat.tobytes()).hexdigest(),
            "first": flat[:FIRST_VALUES].astype(float).tolist()}


def run(model_path, iterations, seed, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=model_path, num_threads=threads)
    interpreter.allocate_tensors()
    for detail, array in zip(interpreter.get_input_details(),
                             seeded_inputs(interpreter.get_input_details(), seed)):
        interpreter.set_tensor(detail["index"], array)
    for _ in range(iterations):
        interpreter.invoke()
    outputs = [describe(interpreter.get_tensor(detail["index"]))
               for detail in interpreter.get_output_details()]
    return {"iterations": iterations, "seed": seed, "outputs": outputs}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(run(args.model, args.iterations, args.seed, args.threads)), flush=True)


if __name__ == "__main__":
    main()
