"""A synthetic engine with known noise, for the runner's stopping rule and exit codes.

`synthetic_models` writes model directories whose "flatbuffers" are small JSON files
({"ms": 10.0, "sigma": 0.01}); `synthetic_python` is a device "python" that, invoked the way the
LCE interpreter runner is (`python RUNNER MODEL --threads ...`), prints the runner's JSON with
every timing equal to ms * exp(N(0, sigma)), one draw per launch (after busy-looping
`spin_s` seconds, when given, so that the launch loads its core as a real engine does; with
`hog_s`, a detached process busy-loops that long on the same cores, started as the launch
begins: other work during a launch). So each launch median is
log-normal with a known sigma, and the paired log-ratio has sd sigma * sqrt(2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bibench_deploy.manifest import SCHEMA_VERSION, artefact_entry, write_manifest

_ENGINE = '''#!{python}
import json, random, sys, time
args = sys.argv[1:]
if "--version" in args:
    print(json.dumps({{"engine_version": "synthetic", "python": "3"}}))
    sys.exit(0)
spec = json.load(open(args[1]))
if spec.get("hog_s"):  # another process on the same cores, started during the launch: not the
    import subprocess  # launch's own (detached, never reaped by it), as a job starting meanwhile
    subprocess.Popen([sys.executable, "-c", "import sys, time\\nend = time.perf_counter() + "
                      "float(sys.argv[1])\\nwhile time.perf_counter() < end: pass",
                      str(spec["hog_s"])],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
end = time.perf_counter() + spec.get("spin_s", 0.0)
while time.perf_counter() < end:  # busy, as a real engine is
    pass
median = spec["ms"] * random.lognormvariate(0.0, spec["sigma"])
print(json.dumps({{"engine_version": "synthetic", "init_ms": 1.0, "first_ms": median,
                  "warmup_ms": [], "timings_ms": [median] * 5, "peak_rss_mb": 1.0}}))
'''


def synthetic_python(root: Path) -> Path:
    path = Path(root) / "synthetic-python"
    path.write_text(_ENGINE.format(python=sys.executable))
    path.chmod(0o755)
    return path


def synthetic_models(root: Path, name: str = "synth-bnn", binary_ms: float = 10.0,
                     fp32_ms: float = 20.0, sigma: float = 0.01, spin_s: float = 0.0,
                     hog_s: float = 0.0) -> Path:
    model_dir = Path(root) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    arch, _, algo = name.partition("-")
    files = {}
    for kind, ms, suffix in (("lce", binary_ms, ""), ("fp32", fp32_ms, "-fp32")):
        path = model_dir / f"{name}{suffix}.tflite"
        path.write_text(json.dumps({"ms": ms, "sigma": sigma, "spin_s": spin_s, "hog_s": hog_s}))
        files[kind] = artefact_entry(model_dir, path)
    write_manifest(model_dir, {"schema_version": SCHEMA_VERSION, "name": name, "arch": arch,
                               "algo": algo, "input_shape": [1, 8, 8, 3], "artefacts": files})
    return Path(root)


def synthetic_device(root: Path, name: str = "synth", **extra) -> dict:
    """A local device running the synthetic engine; the guard accepts any load unless told."""
    return {"name": name, "transport": "local", "work_dir": str(Path(root) / f"work-{name}"),
            "threads": [1], "max_start_load": extra.pop("max_start_load", 1.0),
            "engines": {"lce_interpreter": {"python": str(synthetic_python(root)),
                                            "use_indirect_bgemm": True, "use_xnnpack": False}},
            **extra}
