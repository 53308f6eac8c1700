"""Fleet runner acceptance numbers, measured on this machine with loopback sshd devices.

    python benchmarks/fleet_overhead.py [--devices 32] [--rounds 11] [--sections devices]

Prints:
 1. agreement: latency through the fleet runner (sshd loopback, LCE interpreter runner) vs a
    direct in-process LCE Interpreter, interleaved rounds; ratio of medians (target within 5 %).
 2. orchestration overhead per cell (connect, probe, push, parse: cell wall time minus the time
    of its benchmark commands), median over cells, first and second run; model bytes the second
    run pushed (target: median <= 0.5 s, 0 bytes).
 3. N loopback devices: `devices check` wall time (target <= 10 s) and a small run's statuses,
    bracketed by the host's own launch spread: the same runner script launched directly (no
    SSH, no fleet runner) on the same pinned core, before and after the run, in the run's order
    and settings (binary, fp32, ... three rounds per pair of cells); the cells the host alone
    would flag `unstable` (launch medians more than 5 % apart).
 4. the same run killed (SIGKILL) halfway and resumed: rows equal in cells, none duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bibench_deploy  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import yaml  # noqa: E402

from bibench_deploy.fleet.engines.base import Measure  # noqa: E402
from bibench_deploy.fleet.engines.lce_interpreter import parse  # noqa: E402
from bibench_deploy.fleet.remote import LCE_RUNNER  # noqa: E402
from bibench_deploy.fleet.stats import spread_pct  # noqa: E402
from bibench_deploy.fleet.plan import VARIANTS  # noqa: E402
from bibench_deploy.fleet.run import RunSettings, run_fleet  # noqa: E402
from tests.fleet.helpers import cell_key, read_rows  # noqa: E402
from tests.fleet.sshd import SshServer, keygen  # noqa: E402
from tests.fleet.tiny_models import build_model_dir, copy_model_dir  # noqa: E402


class Lab:
    def __init__(self, root: Path):
        self.root = root
        self.key = keygen(root / "client")
        self.known_hosts = root / "known_hosts"
        self.servers: list[SshServer] = []

    def fleet(self, count: int, name: str, **extra) -> Path:
        while len(self.servers) < count:
            server = SshServer(self.root / f"sshd{len(self.servers)}", Path(f"{self.key}.pub")).start()
            self.servers.append(server)
            with open(self.known_hosts, "a") as f:
                f.write(server.known_hosts_line())
        devices = [s.device(f"dev{i:02d}", self.key, self.known_hosts, sys.executable, **extra)
                   for i, s in enumerate(self.servers[:count])]
        path = self.root / name
        path.write_text(yaml.safe_dump({"devices": devices}))
        return path

    def close(self) -> None:
        for server in self.servers:
            server.kill()


def in_process_median(model_path: Path, measure: Measure) -> float:
    """The public LCE Interpreter API, in this process: median of timed predict() calls."""
    import numpy as np
    from larq_compute_engine.tflite.python.interpreter import Interpreter
    interpreter = Interpreter(model_path.read_bytes(), num_threads=1, use_indirect_bgemm=True)
    x = np.random.default_rng(0).uniform(-1, 1, interpreter.input_shapes[0]).astype(np.float32)
    for _ in range(measure.warmup_runs):
        interpreter.predict(x)
    timings, begin = [], time.perf_counter()
    while len(timings) < measure.min_iters or time.perf_counter() - begin < measure.min_secs:
        start = time.perf_counter()
        interpreter.predict(x)
        timings.append((time.perf_counter() - start) * 1e3)
    return statistics.median(timings)


def agreement(lab: Lab, models: Path, rounds: int) -> None:
    """Each round: both variants in process (3 interpreters each, median of their medians), then
    one fleet run measuring both (3 launches each, latency_median_ms); ratio of the rounds' medians."""
    fleet = lab.fleet(1, "one.yaml")
    measure = Measure(warmup_runs=10, min_iters=50, min_secs=0.3, max_secs=10, repeats=3, max_repeats=3)
    manifest = json.loads((models / "bench-bnn" / "manifest.json").read_text())
    files = {v: models / "bench-bnn" / manifest["artefacts"][k]["path"] for v, k in VARIANTS.items()}
    print(f"load average before the agreement rounds: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    direct = {v: [] for v in VARIANTS}
    through_fleet = {v: [] for v in VARIANTS}
    for _ in range(rounds):
        for variant, path in files.items():
            direct[variant].append(statistics.median(
                in_process_median(path, measure) for _ in range(measure.repeats)))
        result = run_fleet(RunSettings(fleet=str(fleet), models_dir=str(models), models="bench-bnn",
                                       measure=measure), lab.root / "agree")
        for row in read_rows(result.run_dir):
            through_fleet[row["variant"]].append(float(row["latency_median_ms"]))
    for variant in VARIANTS:
        fleet_ms, direct_ms = statistics.median(through_fleet[variant]), statistics.median(direct[variant])
        print(f"agreement {variant}: fleet median {fleet_ms:.4f} ms, in-process median "
              f"{direct_ms:.4f} ms, ratio {fleet_ms / direct_ms:.4f} ({rounds} interleaved rounds)")


def overhead(lab: Lab, models: Path) -> None:
    fleet = lab.root / "fresh.yaml"  # a device whose work directory is still empty
    device = yaml.safe_load(lab.fleet(1, "one.yaml").read_text())["devices"][0]
    device["work_dir"] = str(lab.root / "fresh-work")
    fleet.write_text(yaml.safe_dump({"devices": [device]}))
    measure = Measure(warmup_runs=5, min_iters=20, min_secs=0.2, max_secs=10, repeats=3, max_repeats=3)
    settings = RunSettings(fleet=str(fleet), models_dir=str(models), models="copy-*", measure=measure)
    for label in ("first run", "second run"):
        result = run_fleet(settings, lab.root / "overhead")
        journal = [json.loads(line)["row"] for line in (result.run_dir / "journal.jsonl").read_text().splitlines()]
        per_cell = [row["overhead_s"] for row in journal]
        pushed = json.loads((result.run_dir / "raw" / "dev00" / "transfer.json").read_text())["bytes_pushed"]
        print(f"overhead {label}: {len(per_cell)} cells, median {statistics.median(per_cell):.3f} s/cell, "
              f"mean {statistics.fmean(per_cell):.3f}, max {max(per_cell):.3f} (connect and probe "
              f"included in the first pair), bytes pushed {pushed}, statuses "
              f"{sorted({r['status'] for r in journal})}")


def cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bibench_deploy", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})


# The 32-device run's launches (0.3 s of a ~0.1 ms model, 3 per cell): the run and the direct
# launches beside it take their settings from here.
TINY_MEASURE = Measure(warmup_runs=5, min_iters=50, min_secs=0.3, repeats=3, max_repeats=3)


def measure_flags(measure: Measure) -> list[str]:
    return ["--warmup", str(measure.warmup_runs), "--min-iters", str(measure.min_iters),
            "--min-secs", str(measure.min_secs), "--max-secs", str(measure.max_secs)]


def direct_cells(model_dir: Path, when: str, cells: int = 8) -> None:
    """The runner script launched straight from here on core 0 with the run's settings, in the
    run's order (binary, fp32, binary, fp32, ...; `repeats` rounds per pair of cells): how many
    cells the host alone would flag `unstable`, without SSH or the fleet runner."""
    name = model_dir.name
    sides = {"binary": (model_dir / f"{name}.tflite", ["--indirect-bgemm"]),
             "fp32": (model_dir / f"{name}-fp32.tflite", [])}
    medians = {side: [] for side in sides}
    for _ in range(cells):
        rounds = {side: [] for side in sides}
        for _ in range(TINY_MEASURE.repeats):
            for side, (model, flags) in sides.items():
                out = subprocess.run(["taskset", "1", sys.executable, str(LCE_RUNNER), str(model),
                                      "--threads", "1", *measure_flags(TINY_MEASURE), *flags],
                                     capture_output=True, text=True, check=True).stdout
                rounds[side].append(parse(out).median_ms)
        for side in sides:
            medians[side].append(rounds[side])
    unstable = {side: sum(spread_pct(c) > 5.0 for c in medians[side]) for side in sides}
    every = {side: [m for c in medians[side] for m in c] for side in sides}
    print(f"direct launches {when} (no SSH, no runner), on core 0 in the run's order: "
          f"{cells} cells per side, unstable (launch medians > 5 % apart) binary "
          f"{unstable['binary']}, fp32 {unstable['fp32']}; medians binary "
          f"{min(every['binary']):.4f}-{max(every['binary']):.4f} ms, fp32 "
          f"{min(every['fp32']):.4f}-{max(every['fp32']):.4f} ms; load average "
          f"{os.getloadavg()[0]:.2f}")


def many_devices(lab: Lab, models: Path, count: int) -> None:
    # The loopback devices all share this VM's cores. Unpinned, a 0.1 ms model's launch medians
    # differ by up to 50 % depending on the core a launch lands on (pinned: ~1 %), so each device
    # pins its benchmark to core 0 and one measures at a time; connecting, probing and pushing
    # still run on all devices at once, on any core (a run with that host side confined to the
    # other core had 8 of 64 cells fail in their transfers' remote commands).
    fleet = lab.fleet(count, "many.yaml", affinity="1")
    start = time.monotonic()
    check = cli("devices", "check", "--fleet", str(fleet))
    out, err = check.communicate()
    ok_lines = sum("lce_interpreter: ok" in line for line in out.splitlines())
    print(f"devices check, {count} devices: {time.monotonic() - start:.2f} s wall, "
          f"{ok_lines} with the engine ok, exit code {check.returncode}")

    run_args = ["run", "--fleet", str(fleet), "--models-dir", str(models), "--models", "tiny-bnn",
                *measure_flags(TINY_MEASURE), "--repeats", str(TINY_MEASURE.repeats),
                "--max-repeats", str(TINY_MEASURE.max_repeats), "--max-parallel", "1"]
    direct_cells(models / "tiny-bnn", "before the run")
    start = time.monotonic()
    full = cli(*run_args, "--out", str(lab.root / "many-full"))
    full.communicate()
    wall = time.monotonic() - start
    direct_cells(models / "tiny-bnn", "after the run")
    rows = read_rows(next((lab.root / "many-full").iterdir()))
    statuses = {s: [r["status"] for r in rows].count(s) for s in {r["status"] for r in rows}}
    print(f"run, {count} devices x 2 cells: {wall:.1f} s wall, statuses {statuses}")
    if statuses.get("contended"):
        tasks = sorted({t for r in rows for t in r["load_tasks"].split(";") if t})
        print(f"  contended: other runnable tasks seen before launches: {', '.join(tasks) or 'none'}")
        for row in rows:
            if row["status"] == "contended":
                print(f"    {row['device']} {row['variant']}: {row['error']}")
    launches = [json.loads(p.read_text())["load"] for p in (lab.root / "many-full").rglob("launch-*.json")]
    during = sorted(log["during"]["others_pct"] for log in launches
                    if log["during"] and log["during"]["others_pct"] is not None)
    if during:
        print(f"  other work on core 0 during the {len(launches)} launches: median "
              f"{statistics.median(during):.1f} %, max {during[-1]:.1f} % of the core")
    if statuses.get("unstable"):
        spreads = sorted(float(r["repeat_spread_pct"]) for r in rows if r["repeat_spread_pct"])
        print(f"  spread of launch medians (%): median {statistics.median(spreads):.1f}, max {spreads[-1]:.1f}")

    out_dir = lab.root / "many-killed"
    killed = cli(*run_args, "--out", str(out_dir))
    while True:
        journals = list(out_dir.glob("*/journal.jsonl"))
        if journals and len(journals[0].read_text().splitlines()) >= count:  # half of 2 x count
            break
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate()
    run_dir = journals[0].parent
    before = len(journals[0].read_text().splitlines())
    resumed = cli("run", "--resume", run_dir.name, "--out", str(out_dir))
    resumed.communicate()
    after = read_rows(run_dir)
    keys = [cell_key(r) for r in after]
    print(f"kill at {before}/{2 * count} cells + resume: {len(after)} rows, {len(set(keys))} distinct, "
          f"same cells as the uninterrupted run: {sorted(keys) == sorted(cell_key(r) for r in rows)}, "
          f"statuses {sorted(set(r['status'] for r in after))}, exit code {resumed.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--sections", default="agreement,overhead,devices",
                        help="comma-separated subset of agreement, overhead, devices")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    root = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    lab = Lab(root)
    try:
        models = root / "models"
        source = build_model_dir(models, "bench-bnn", size=64, filters=64)
        for i in range(4):
            copy_model_dir(source, models, f"copy-{i}")
        build_model_dir(models, "tiny-bnn", size=16, filters=32)  # cheap cells: ~0.1 ms
        if "agreement" in sections:
            agreement(lab, models, args.rounds)
        if "overhead" in sections:
            overhead(lab, models)
        if "devices" in sections:
            many_devices(lab, models, args.devices)
    finally:
        lab.close()


if __name__ == "__main__":
    main()
