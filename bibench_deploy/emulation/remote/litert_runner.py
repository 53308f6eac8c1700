"""Runs a .tflite model with TFLite's own kernels (ai-edge-litert) and prints one JSON line: the
iteration count and each output's shape, checksum and first values.

Runs inside the aarch64 userland's Python, or on a board's Python as the fleet's `litert` engine,
so it imports nothing from the project: the standard library, numpy and ai_edge_litert only. The
inputs are drawn from a seeded generator, the same on every machine, so the host can feed the same
inputs to its own interpreter and compare.

    python3 litert_runner.py MODEL.tflite --iterations N [--seed S] [--threads T]
        exactly N inferences, untimed, no warm-up (instruction counts by difference)
    python3 litert_runner.py MODEL.tflite --min-iters K --min-secs S --max-secs M --warmup W
        timed: W warm-up inferences, then at least K and S seconds, at most M seconds; adds
        `timings_ms` (one per timed inference), `warmup_runs`, `init_ms`, `first_ms`
    python3 litert_runner.py --version
"""

import argparse
import hashlib
import json
import time

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


def engine_version():
    from importlib.metadata import version
    return version("ai-edge-litert")


def ready_interpreter(model_path, seed, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=model_path, num_threads=threads)
    interpreter.allocate_tensors()
    for detail, array in zip(interpreter.get_input_details(),
                             seeded_inputs(interpreter.get_input_details(), seed)):
        interpreter.set_tensor(detail["index"], array)
    return interpreter


def result(interpreter, iterations, seed):
    outputs = [describe(interpreter.get_tensor(detail["index"]))
               for detail in interpreter.get_output_details()]
    return {"iterations": iterations, "seed": seed, "outputs": outputs}


def run(model_path, iterations, seed, threads):
    """Exactly `iterations` inferences, nothing timed: every one does the same work."""
    interpreter = ready_interpreter(model_path, seed, threads)
    for _ in range(iterations):
        interpreter.invoke()
    return result(interpreter, iterations, seed)


def timed_invoke(interpreter):
    start = time.perf_counter()
    interpreter.invoke()
    return (time.perf_counter() - start) * 1e3


def run_timed(model_path, seed, threads, warmup, min_iters, min_secs, max_secs):
    start = time.perf_counter()
    interpreter = ready_interpreter(model_path, seed, threads)
    init_ms = (time.perf_counter() - start) * 1e3
    first_ms = timed_invoke(interpreter)
    for _ in range(max(warmup - 1, 0)):
        interpreter.invoke()
    timings, began = [], time.perf_counter()
    while len(timings) < min_iters or time.perf_counter() - began < min_secs:
        if timings and time.perf_counter() - began >= max_secs:
            break
        timings.append(timed_invoke(interpreter))
    return {**result(interpreter, len(timings), seed), "timings_ms": timings,
            "warmup_runs": max(warmup, 1), "init_ms": init_ms, "first_ms": first_ms,
            "engine_version": engine_version()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--min-iters", type=int, default=50)
    parser.add_argument("--min-secs", type=float, default=1.0)
    parser.add_argument("--max-secs", type=float, default=150.0)
    args = parser.parse_args()
    if args.version:
        output = {"engine_version": engine_version()}
    elif args.model is None:
        parser.error("MODEL is required")
    elif args.iterations is not None:
        output = run(args.model, args.iterations, args.seed, args.threads)
    else:
        output = run_timed(args.model, args.seed, args.threads, args.warmup, args.min_iters,
                           args.min_secs, args.max_secs)
    print(json.dumps(output), flush=True)


if __name__ == "__main__":
    main()
