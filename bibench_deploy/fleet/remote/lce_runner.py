"""Time a .tflite model with Larq Compute Engine's interpreter; print one JSON object.

Pushed to the device by bibench-deploy and run there as
    python lce_runner.py MODEL --threads N --warmup W --min-iters K --min-secs S
           [--indirect-bgemm] [--xnnpack]
or  python lce_runner.py --version
It loads LCE's interpreter extension directly, without importing TensorFlow, so a launch costs
milliseconds, not seconds. Timings are per inference, in milliseconds, from time.perf_counter.
"""

import argparse
import importlib.util
import json
import os
import resource
import sys
import time


def load_wrapper():
    spec = importlib.util.find_spec("larq_compute_engine")
    if spec is None:
        raise SystemExit("larq_compute_engine is not installed for " + sys.executable)
    folder = os.path.join(spec.submodule_search_locations[0], "tflite", "python")
    name = next(n for n in os.listdir(folder) if n.startswith("interpreter_wrapper_lite"))
    wrapper_spec = importlib.util.spec_from_file_location("interpreter_wrapper_lite",
                                                          os.path.join(folder, name))
    module = importlib.util.module_from_spec(wrapper_spec)
    wrapper_spec.loader.exec_module(module)
    return module


def version():
    from importlib.metadata import version as dist_version
    return dist_version("larq-compute-engine")


def make_inputs(interpreter, numpy):
    rng = numpy.random.default_rng(0)
    return [rng.uniform(-1, 1, size=shape).astype(dtype)
            for shape, dtype in zip(interpreter.input_shapes, interpreter.input_types)]


def measure(args):
    import numpy
    wrapper = load_wrapper()
    with open(args.model, "rb") as f:
        flatbuffer = f.read()
    start = time.perf_counter()
    interpreter = wrapper.LiteInterpreter(flatbuffer, args.threads, False,
                                          args.indirect_bgemm, args.xnnpack)
    inputs = make_inputs(interpreter, numpy)
    init_ms = (time.perf_counter() - start) * 1e3
    timings = []
    for _ in range(args.warmup + 1):
        start = time.perf_counter()
        interpreter.predict(inputs)
        timings.append((time.perf_counter() - start) * 1e3)
    first_ms, warmup_ms = timings[0], timings[1:]
    timings = []
    begin = time.perf_counter()
    while len(timings) < args.min_iters or time.perf_counter() - begin < args.min_secs:
        start = time.perf_counter()
        interpreter.predict(inputs)
        timings.append((time.perf_counter() - start) * 1e3)
        if time.perf_counter() - begin > args.max_secs:
            break
    return {"engine_version": version(), "init_ms": init_ms, "first_ms": first_ms,
            "warmup_ms": warmup_ms, "timings_ms": timings,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--min-iters", type=int, default=50)
    parser.add_argument("--min-secs", type=float, default=1.0)
    parser.add_argument("--max-secs", type=float, default=150.0)
    parser.add_argument("--indirect-bgemm", action="store_true")
    parser.add_argument("--xnnpack", action="store_true")
    args = parser.parse_args(argv)
    if args.version:
        load_wrapper()
        print(json.dumps({"engine_version": version(), "python": sys.version.split()[0]}))
        return
    print(json.dumps(measure(args)))


if __name__ == "__main__":
    main()
