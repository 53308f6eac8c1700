"""The Keras half of `add` (imports TensorFlow): load, convert, FP32 twin, audit, complexity.

The numerical check compares the LCE interpreter with Keras on the audit batch, with `build`'s
top-1 rule. A model whose own check fails is checked again on a twin with the same weights and
randomised BatchNorm statistics: where the twin passes, the conversion is right and the model's
outputs sit on sign thresholds (typically an untrained model, whose BatchNorms are at their
initial statistics), so the failure is recorded and warned about; where the twin fails too,
the conversion changed the model's meaning and `add` stops.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Optional

import numpy as np

from bibench_deploy import formats
from bibench_deploy.complexity import compare_to_fp32, count_model
from bibench_deploy.deploy_graph.deploy import predict
from bibench_deploy.errors import BibenchError, ConversionError
from bibench_deploy.formats import DABNN, FP32, LCE
from bibench_deploy.lce import audit as audit_mod
from bibench_deploy.lce.convert import convert, interpret
from bibench_deploy.lce.fallback import fallback_line, float_fallbacks
from bibench_deploy.lce.flatbuffer import read_graph
from bibench_deploy.model_dir import artefacts
from bibench_deploy.reporter import Reporter
from bibench_deploy.sources.add_request import (AddRequest, added_manifest, source_entry,
                                                source_format)
from bibench_deploy.sources.fp32_twin import fp32_twin, removed_summary
from bibench_deploy.training.untrained import twin_with_random_batchnorm

SMALL_INPUT_SAMPLES = 100  # audit batch size up to 64 x 64 inputs
LARGE_INPUT_SAMPLES = 16   # above: Keras and the interpreter on ImageNet-size inputs
_UNKNOWN = (re.compile(r"Unknown ([\w ]+?): '?([\w.>]+)'?[.\s]"),
            re.compile(r"Could not locate (class|function) '([\w.>]+)'"),
            re.compile(r"Cannot deserialize (object) of type `([\w.>]+)`"))


def load_keras(path: Path, custom_objects: tuple[str, ...] = ()) -> Any:
    """Load a saved Keras/Larq model; an object neither Keras nor Larq defines is named."""
    import larq  # noqa: F401 (registers Larq's layers and quantizers)
    import tensorflow as tf
    import bibench_deploy.algorithms  # noqa: F401 (registers the project's own layers)
    for module in custom_objects:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise BibenchError(f"--custom-objects {module}: cannot import it ({exc})") from None
    try:
        return tf.keras.models.load_model(str(path), compile=False)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError... for bad files
        message = str(exc)
        unknown = _unknown_quantizers(path)
        if unknown:
            raise BibenchError(
                f"{path}: the model uses quantizer {', '.join(map(repr, unknown))}, which neither "
                "Keras nor Larq defines; import the module that registers it with "
                "--custom-objects MODULE") from None
        for pattern in _UNKNOWN:
            found = pattern.search(message)
            if found:
                raise BibenchError(
                    f"{path}: the model uses {found[1]} {found[2]!r}, which neither Keras nor "
                    "Larq defines; import the module that registers it with --custom-objects "
                    "MODULE") from None
        first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
        raise BibenchError(f"{path}: cannot load it as a Keras model ({first[:200]}); give a "
                           "model saved with model.save()") from None


def _saved_config(path: Path) -> Optional[dict[str, Any]]:
    """The model config inside a .keras archive or an .h5 file, without building the model."""
    import json
    import zipfile
    try:
        if path.suffix == ".keras":
            return json.loads(zipfile.ZipFile(path).read("config.json"))
        if path.is_file():
            import h5py
            with h5py.File(path, "r") as f:
                return json.loads(f.attrs["model_config"])
    except Exception:  # an unreadable file: the caller reports the load error itself
        return None
    return None


def _quantizer_names(node: Any) -> list[str]:
    from bibench_deploy.sources.fp32_twin import QUANTIZER_KEYS, quantizer_name
    names = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in QUANTIZER_KEYS and value is not None:
                names.append(quantizer_name(value))
            else:
                names += _quantizer_names(value)
    elif isinstance(node, list):
        for value in node:
            names += _quantizer_names(value)
    return names


def _unknown_quantizers(path: Path) -> list[str]:
    """Quantizers named in the saved config that Larq cannot resolve."""
    import larq as lq
    unknown = []
    for name in _quantizer_names(_saved_config(path)):
        try:
            lq.quantizers.get(name)
        except ValueError:
            if name not in unknown:
                unknown.append(str(name))
    return unknown


def input_shape(model: Any, given: Optional[tuple[int, int, int]]) -> tuple[int, int, int]:
    shapes = model.input_shape
    if isinstance(shapes, list):
        raise BibenchError(f"{model.name}: {len(shapes)} inputs; only single-input models "
                           "can be added")
    saved = tuple(shapes[1:])
    if len(saved) != 3:
        raise BibenchError(f"{model.name}: input shape {shapes} is not an image (N, H, W, C)")
    if given is None:
        if None in saved:
            raise BibenchError(f"{model.name}: input shape {shapes} has free dimensions; "
                               "pass --input-shape H,W,C")
        return tuple(int(d) for d in saved)
    if any(s is not None and s != g for s, g in zip(saved, given)):
        raise BibenchError(f"--input-shape {','.join(map(str, given))} does not fit the "
                           f"model's input {shapes}")
    return given


def with_input_shape(model: Any, shape: tuple[int, int, int]) -> Any:
    """The model with a fixed input shape (the converter needs one), same weights."""
    import tensorflow as tf
    if tuple(model.input_shape[1:]) == shape:
        return model
    config = model.get_config()
    first = config["layers"][0]["config"]
    first["batch_input_shape"] = [None, *shape]
    rebuilt = (tf.keras.Sequential.from_config(config) if isinstance(model, tf.keras.Sequential)
               else tf.keras.Model.from_config(config))
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def audit_inputs(dataset: Optional[str], shape: tuple[int, int, int]) -> tuple[np.ndarray, str]:
    height, width, channels = shape
    samples = SMALL_INPUT_SAMPLES if height * width <= 64 * 64 else LARGE_INPUT_SAMPLES
    if dataset is None:
        x = np.random.default_rng(0).standard_normal((samples, *shape)).astype(np.float32)
        return x, f"{samples} inputs drawn from N(0, 1), seed 0"
    if height != width or channels != 3:
        raise BibenchError(f"--dataset {dataset}: images are square RGB, the model takes "
                           f"{height}x{width}x{channels}; leave --dataset out")
    from bibench_deploy.data import load_dataset
    from bibench_deploy.training.inputs import Preprocessing, audit_batch
    data = load_dataset(dataset)
    return audit_batch(data, Preprocessing(data, height))[:samples], \
        f"first {samples} test images of {dataset}, normalised, resized to {height}x{width}"


def larq_profile(model: Any) -> dict[str, Any]:
    """larq's own count (`lq.models.summary`), beside the project's convention."""
    import larq as lq
    profile = lq.models.ModelProfile(model)
    lines: list[str] = []
    lq.models.summary(model, print_fn=lines.append)
    return {"binary_macs": profile.op_count("mac", 1), "float32_macs": profile.op_count("mac", 32),
            "total_macs": profile.op_count("mac"), "weights": profile.weight_count(),
            "binary_weights": profile.weight_count(bitwidth=1),
            "memory_bytes": profile.memory / 8, "fp32_equivalent_bytes": profile.fp_equivalent_memory / 8,
            "summary_text": "\n".join(lines)}


def float64_clone(model: Any) -> Any:
    """`model` rebuilt from its config with every layer in float64, same weights: the reference
    of the numerical verdict."""
    import tensorflow as tf
    from bibench_deploy.deploy_graph.deploy import float64_keras
    config = _in_float64(model.get_config())
    with float64_keras():
        clone = (tf.keras.Sequential.from_config(config) if isinstance(model, tf.keras.Sequential)
                 else tf.keras.Model.from_config(config))
    clone.set_weights([np.asarray(w, np.float64) for w in model.get_weights()])
    return clone


def _in_float64(config: Any) -> Any:
    """A Keras config with every `dtype` (of layers and of their quantizers) set to float64."""
    if isinstance(config, dict):
        return {key: "float64" if key == "dtype" and isinstance(value, (str, dict))
                else _in_float64(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_in_float64(value) for value in config]
    return config


def lce_verdict(model: Any, flatbuffer: bytes, x: np.ndarray) -> dict[str, Any]:
    """The build's verdict (lce/verdict.py) with the Keras model in float64 as reference."""
    verdict = audit_mod.lce_verdict(float64_clone(model), x, flatbuffer, predict(model, x),
                                    search=True)
    verdict["reference"] = "the Keras model in float64"
    return verdict


def check_numerics(model: Any, flatbuffer: bytes, x: np.ndarray, name: str,
                   warnings: list[str]) -> dict[str, Any]:
    """Enforced: every disagreement of LCE with the model's float64 run is explained by float32
    rounding. A model that fails it, but whose randomised-BatchNorm twin passes, has outputs on
    its sign thresholds (untrained): recorded and warned about, not enforced."""
    numerics = lce_verdict(model, flatbuffer, x)
    numerics["numerics_enforced"] = True
    if audit_mod.verdict_pass(numerics):
        return numerics
    twin = twin_with_random_batchnorm(model)
    twin_numerics = lce_verdict(twin, convert(twin), x)
    mismatch = (f"{name}: the LCE flatbuffer does not compute the Keras model: "
                + audit_mod.verdict_mismatch(numerics))
    if not audit_mod.verdict_pass(twin_numerics):
        raise ConversionError(f"{mismatch}, nor does a twin with randomised BatchNorm statistics "
                              f"({twin_numerics['unexplained']} unexplained); the converter "
                              "changed the model's meaning")
    numerics.update(numerics_enforced=False, randomised_batchnorm_twin=twin_numerics,
                    numerics_warning=f"{mismatch}; a twin with randomised BatchNorm statistics "
                    "passes (every disagreement explained): outputs on sign thresholds "
                    "(untrained?), not enforced")
    warnings.append(numerics["numerics_warning"])
    return numerics


def fp32_baseline(request: AddRequest, twin: Any, removed: list, x: np.ndarray
                  ) -> tuple[Optional[bytes], dict[str, Any]]:
    """(FP32 flatbuffer or None, its audit entry) for --fp32 auto | none | FILE."""
    if request.fp32 == "none":
        return None, {"baseline": "none (--fp32 none)"}
    if request.fp32 == "auto":
        model, described = twin, {"baseline": "auto: " + removed_summary(removed),
                                  "removed_quantizers": removed}
    else:
        path = Path(request.fp32)
        entry = {"baseline": f"given: {path}", "source": source_entry(path, source_format(path))}
        if source_format(path) == "tflite":
            return path.read_bytes(), entry
        model, described = load_keras(path, request.custom_objects), entry
    flatbuffer = convert(model)
    numerics = audit_mod.compare_outputs(predict(model, x), interpret(flatbuffer, x))
    if not audit_mod.numerics_pass(numerics):
        raise ConversionError(f"the FP32 flatbuffer does not match its Keras model (top-1 "
                              f"agreement {numerics['top1_agreement']:.1%})")
    graph = read_graph(flatbuffer)
    audit = audit_mod.audit_graph(graph, count_model(model)["totals"], None)
    return flatbuffer, {**described, **audit, **numerics}


def add_keras(request: AddRequest, fmt: str, staging: Path, reporter: Reporter) -> dict[str, Any]:
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    name = request.resolved_name
    reporter.stage(f"loading {request.model}")
    model = load_keras(request.model, request.custom_objects)
    shape = input_shape(model, request.input_shape)
    model = with_input_shape(model, shape)
    warnings: list[str] = []
    counts = count_model(model)
    binarized = [e["name"] for e in counts["layers"] if e["kind"] == "binary"]
    if not binarized:
        warnings.append(f"{name}: nothing is binarized: no layer has binary inputs and binary "
                        "weights (no Larq quantizers with precision 1); measured as a float model")
    twin, removed = fp32_twin(model)
    complexity = compare_to_fp32(counts, count_model(twin))
    x, batch = audit_inputs(request.dataset, shape)

    reporter.stage("converting with the LCE converter")
    flatbuffer = convert(model)
    reporter.stage("auditing the flatbuffer and checking it against Keras")
    fp32_fb, fp32_audit = fp32_baseline(request, twin, removed, x)
    graph = read_graph(flatbuffer)
    audit = audit_mod.audit_graph(graph, counts["totals"],
                                  read_graph(fp32_fb) if fp32_fb is not None else None)
    audit.update(check_numerics(model, flatbuffer, x, name, warnings))
    fallbacks = float_fallbacks(graph, model, binarized)
    fallbacks["line"] = fallback_line(fallbacks, len(flatbuffer))
    audit["float_fallback"] = fallbacks
    if fallbacks["layers"]:
        reporter.stage(fallbacks["line"])

    files = formats.paths(staging, name, LCE, *((FP32,) if fp32_fb is not None else ()))
    files[LCE].write_bytes(flatbuffer)
    if fp32_fb is not None:
        files[FP32].write_bytes(fp32_fb)
    complexity["file_bytes"] = {LCE: len(flatbuffer),
                                FP32: len(fp32_fb) if fp32_fb is not None else None}
    complexity["file_size_ratio"] = len(fp32_fb) / len(flatbuffer) if fp32_fb else None
    complexity["larq_summary"] = larq_profile(model)
    manifest = added_manifest(request, fmt)
    manifest.update({
        "input_shape": [1, *shape], "num_classes": int(model.output_shape[-1]),
        "artefacts": artefacts(staging, files),
        "audit": {LCE: audit, FP32: fp32_audit, "audit_batch": batch,
                  "warnings": warnings},
        "complexity": complexity,
        "deploy": {DABNN: {"supported": False, "reason": "added models get no daBNN export "
                             "(daBNN needs the project's own deploy forms)"}},
    })
    return manifest
