"""Artefact formats: one table of every file a model directory can hold and what it is for.

Each format's `key` is its name in the manifest (`artefacts{}`, `audit{}`, `deploy{}`), its file
is `<name><suffix>` in `models/<name>/`, `variant` is the side of a speedup it measures (binary or
FP32), `engines` the fleet engines that run it, `verified` how the build checks it. A binary
format is compared with the FP32 format `fp32_twin`; where none of its engines runs that twin
(daBNN runs binary networks only) the twin is borrowed: the device's fastest FP32 cell of another
engine (see `reports.hardware`). Adding a format is one entry here, plus the code that writes
and runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bibench_deploy.errors import UnknownNameError
from bibench_deploy.registry import Registry

VARIANT_BINARY, VARIANT_FP32 = "binary", "fp32"
VARIANTS = (VARIANT_BINARY, VARIANT_FP32)  # measuring order of a group: binary, fp32, binary, ...

LCE, FP32, KERAS, ONNX, DABNN, ONNX_FP32 = "lce", "fp32", "keras", "onnx", "dabnn", "onnx_fp32"


@dataclass(frozen=True)
class Format:
    key: str
    suffix: str
    label: str
    variant: str
    description: str
    verified: str
    engines: tuple[str, ...] = ()
    fp32_twin: str = ""
    # The build records in `deploy.<key>` whether it could write this file; a model without it
    # still gets the format's cells, marked unsupported with that reason.
    planned_when_missing: bool = False

    def file_name(self, model_name: str) -> str:
        return f"{model_name}{self.suffix}"


FORMATS: tuple[Format, ...] = (
    Format(LCE, ".tflite", "LCE", VARIANT_BINARY,
           "LCE flatbuffer of the binarized deploy graph",
           "LCE interpreter vs float64 deploy graph",
           engines=("lce_interpreter", "lce_benchmark_model"), fp32_twin=FP32),
    Format(FP32, "-fp32.tflite", "FP32", VARIANT_FP32,
           "FP32 baseline of the same architecture",
           "TFLite interpreter vs the Keras FP32 twin",
           engines=("lce_interpreter", "lce_benchmark_model", "litert")),
    Format(KERAS, ".keras", "Keras", VARIANT_BINARY,
           "trained Keras model (training form)",
           "the source of the other files"),
    Format(ONNX, ".onnx", "ONNX", VARIANT_BINARY,
           "deploy graph as ONNX in daBNN's strict form",
           "onnxruntime vs the deploy graph", fp32_twin=ONNX_FP32),
    Format(DABNN, ".dab", "daBNN", VARIANT_BINARY,
           "daBNN model",
           "numpy reference executor vs the deploy graph",
           engines=("dabnn",), fp32_twin=FP32, planned_when_missing=True),
    Format(ONNX_FP32, "-fp32.onnx", "FP32 ONNX", VARIANT_FP32,
           "FP32 baseline as ONNX",
           "onnxruntime vs the Keras FP32 twin"),
)

_BY_KEY: Registry[Format] = Registry("artefact format")
for _format in FORMATS:
    _BY_KEY.register(_format.key, _format)


def get(key: str) -> Format:
    """The format of manifest artefact `key`; an unknown key names the choices."""
    return _BY_KEY.get(key)


def for_path(path: str | Path) -> Format:
    """The format whose file `path` is: the longest suffix its name ends with, so
    `m-fp32.tflite` is FP32 and `m.tflite` LCE."""
    name = Path(path).name
    matches = [f for f in FORMATS if name.endswith(f.suffix) and len(name) > len(f.suffix)]
    if not matches:
        raise UnknownNameError(f"{path}: no artefact format has its suffix; choose one of "
                               f"{', '.join(f.suffix for f in FORMATS)}")
    return max(matches, key=lambda f: len(f.suffix))


def paths(directory: Path, model_name: str, *keys: str) -> dict[str, Path]:
    """`{key: directory/<model_name><suffix>}` for the formats `keys`."""
    return {key: Path(directory) / get(key).file_name(model_name) for key in keys}


def measured() -> tuple[Format, ...]:
    """Formats some engine runs, in table order (the order planning loads a model's files)."""
    return tuple(f for f in FORMATS if f.engines)


def run_by(engine: str) -> tuple[str, ...]:
    """Keys of the formats `engine` runs."""
    return tuple(f.key for f in FORMATS if engine in f.engines)


def twin_is_borrowed(key: str) -> bool:
    """True where none of the format's engines runs its FP32 twin (so a report takes the
    device's fastest FP32 of another engine)."""
    fmt = get(key)
    return bool(fmt.fp32_twin) and not set(fmt.engines) & set(get(fmt.fp32_twin).engines)
