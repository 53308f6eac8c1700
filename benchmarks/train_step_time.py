"""Training step time of every registered algorithm on one architecture, relative to `bnn`.

Same architecture, same fixed batch of random images and labels, same optimiser (Adam); each
algorithm's schedules are set to their first epoch. The step is one `train_on_batch` (forward,
backward, update) of the training form; warm-up steps (tracing) are not timed; the algorithms
take turns, one step each per round, and the median per algorithm is reported. An algorithm
that fails to build becomes an error row, not a stop.

    python benchmarks/train_step_time.py [--arch resnet18] [--batch 32] [--rounds 10] [--algos ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bibench_deploy  # noqa: E402,F401  (selects the Keras 2 API before TensorFlow loads)


def make_step(algo_name: str, arch_name: str, batch: int) -> Callable[[], None]:
    """One training step (forward, backward, Adam update) of `algo_name` on a fixed batch."""
    import numpy as np
    import tensorflow as tf
    from bibench_deploy.algorithms import ALGORITHMS
    from bibench_deploy.architectures import get_architecture
    from bibench_deploy.training.train import compile_model
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
    return lambda: model.train_on_batch(x, y)


def measure(steps: dict[str, Callable[[], None]], rounds: int, warmup: int) -> dict[str, float]:
    """Median step time per algorithm; rounds interleave the algorithms, so load that drifts
    during the run (a shared machine) hits them alike."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    from bibench_deploy.algorithms import ALGORITHMS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--algos", nargs="*", default=ALGORITHMS.names())
    args = parser.parse_args()
    steps, errors = {}, {}
    for name in ["bnn"] + [n for n in args.algos if n != "bnn"]:
        try:
            steps[name] = make_step(name, args.arch, args.batch)
        except Exception as exc:  # a failing algorithm is a row, not the end of the sweep
            errors[name] = exc
    results = measure(steps, args.rounds, args.warmup)
    print(f"train step time, {args.arch}, batch {args.batch}, median of {args.rounds} "
          "interleaved rounds")
    print(f"{'algorithm':<10} {'ms/step':>9} {'vs bnn':>7}")
    bnn = results.get("bnn")
    for name, value in results.items():
        ratio = value / bnn if bnn else float("nan")
        print(f"{name:<10} {value * 1e3:>9.1f} {ratio:>6.2f}x")
    for name, exc in errors.items():
        print(f"{name:<10} error: {exc}")


if __name__ == "__main__":
    main()
