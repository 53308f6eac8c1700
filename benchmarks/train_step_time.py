"""Training step time of every registered algorithm on one architecture, relative to `bnn`.

Same architecture, same fixed batch of random images and labels, same optimiser (Adam); each
algorithm's schedules are set to their first epoch. The step is one `train_on_batch` (forward,
backward, update) of the training form; the first steps (tracing, warm-up) are not timed and the
median of the timed steps is reported. Failures become a row with the error, not a stop.

    python benchmarks/train_step_time.py [--arch resnet18] [--batch 32] [--steps 10] [--algos ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bibench_deploy  # noqa: E402,F401  (selects the Keras 2 API before TensorFlow loads)


def step_times(algo_name: str, arch_name: str, batch: int, steps: int, warmup: int) -> list[float]:
    import numpy as np
    import tensorflow as tf
    from bibench_deploy.algorithms import ALGORITHMS
    from bibench_deploy.architectures import get_architecture
    from bibench_deploy.build.train import compile_model
    tf.get_logger().setLevel("ERROR")  # AutoGraph notes about larq internals
    algo, arch = ALGORITHMS.get(algo_name), get_architecture(arch_name)
    tf.keras.utils.set_random_seed(0)
    model = arch.build(algo, 10)
    compile_model(model, tf.keras.optimizers.Adam(1e-3))
    for callback in algo.callbacks(epochs=10):
        callback.set_model(model)
        callback.on_epoch_begin(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, arch.input_size, arch.input_size, 3)).astype("float32")
    y = rng.integers(0, 10, size=batch)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    from bibench_deploy.algorithms import ALGORITHMS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--algos", nargs="*", default=ALGORITHMS.names())
    args = parser.parse_args()
    names = ["bnn"] + [n for n in args.algos if n != "bnn"]
    results = {}
    for name in names:
        try:
            results[name] = statistics.median(
                step_times(name, args.arch, args.batch, args.steps, args.warmup))
        except Exception as exc:  # a failing algorithm is a row, not the end of the sweep
            results[name] = exc
    print(f"train step time, {args.arch}, batch {args.batch}, median of {args.steps} steps")
    print(f"{'algorithm':<10} {'ms/step':>9} {'vs bnn':>7}")
    bnn = results.get("bnn")
    for name, value in results.items():
        if isinstance(value, Exception):
            print(f"{name:<10} error: {value}")
            continue
        ratio = value / bnn if isinstance(bnn, float) else float("nan")
        print(f"{name:<10} {value * 1e3:>9.1f} {ratio:>6.2f}x")


if __name__ == "__main__":
    main()
