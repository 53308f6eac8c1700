"""`import`: a BiBench PyTorch checkpoint -> the same `models/<arch>-<algo>/` that `build` writes.

The checkpoint's tensors are mapped onto the Keras training form (bibench_checkpoint), then the
build pipeline runs unchanged from the deploy graph on: LCE and FP32 flatbuffers, audit,
complexity, daBNN where possible, manifest. Two checks are added (`import` in the manifest):
- the Keras deploy form in float64 against a float64 numpy run of BiBench's eval forward
  (bibench_reference) on the audit batch;
- with `--reference`, the LCE flatbuffer against the logits PyTorch computed in the user's own
  BiBench environment (bibench_reference_script.py writes them), beside PyTorch's own float32 /
  float64 gap, and the build's numerical verdict on those inputs: LCE against the float64
  deploy graph, every disagreement attributed from LCE's own bits (lce/verdict.py).
With BiBench's zero padding the first must reach the build's top-1 agreement and the verdict
must have no unexplained disagreement (LCE's top-1 agreement with PyTorch's float32 logits is
recorded: two float32 engines flip different near-threshold bits of a network without margins,
so it may fall below 99 % where every disagreement is a rounding flip); with `--padding one`
the model computes something else at the borders, and everything is recorded, not enforced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from bibench_deploy.architectures import ARCHITECTURES, get_architecture
from bibench_deploy.lce.audit import compare_outputs, numerics_pass
from bibench_deploy.manifest import sha256_file
from bibench_deploy.reporter import Reporter
from bibench_deploy.sources.bibench_checkpoint import (Checkpoint, CheckpointError,
                                                       check_config, map_checkpoint,
                                                       read_checkpoint)
from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest

REFERENCE_KEYS = ("inputs", "logits", "logits_float64")


@dataclass
class CheckpointSource:
    """The `source` of a BuildRequest: loads a checkpoint and verifies the converted model."""

    checkpoint: Checkpoint
    arch: str
    reference: Optional[Path] = None

    def describe(self) -> str:
        return f"checkpoint {self.checkpoint.path.name}"

    def load(self, model: Any, algo: Any) -> dict[str, Any]:
        map_checkpoint(self.checkpoint, model, algo.name)
        return {"checkpoint": str(self.checkpoint.path),
                "checkpoint_sha256": sha256_file(self.checkpoint.path),
                "tensors": len(self.checkpoint.tensors), "notes": list(self.checkpoint.notes),
                "input": "the tensor the PyTorch model takes (normalised), NHWC"}

    def preprocessing(self, probe: dict[str, Any], dataset: str, samples: int) -> dict[str, Any]:
        """What the manifest can say about inputs: the checkpoint was trained with the user's
        own preprocessing, which the checkpoint does not hold; the audit dataset's is only how
        the probe inputs of the checks were made."""
        record = {"training": "the user's own (set in their BiBench config, not stored in the "
                              "checkpoint); the model takes the tensor the PyTorch model takes "
                              "after it, in NHWC",
                  "probe_inputs": {"inputs": f"first {samples} test images of {dataset}, "
                                             "preprocessed as follows, for the numerical checks "
                                             "only", **probe}}
        if self.reference is not None:
            record["reference_inputs"] = (f"the inputs stored in {self.reference} (written by "
                                          "bibench_reference_script.py: seeded N(0, 1))")
        return record

    def verify(self, algo: Any, flatbuffer: bytes, x: np.ndarray, deploy_logits64: np.ndarray,
               deploy64: Any) -> dict[str, Any]:
        """`deploy_logits64`: the Keras deploy form's float64 logits on `x` (built from the
        float64 training form, as the deploy-form check built it); `deploy64`: the converted
        deploy graph in float64, the verdict's reference."""
        from bibench_deploy.sources.bibench_reference import forward
        depths = get_architecture(self.arch).bibench_depths
        exact = algo.padding == "zero"
        reference = forward(self.checkpoint.tensors, algo.name, depths, x)
        record = {"bibench_semantics_exact": exact,
                  "keras_float64_vs_bibench_float64": compare_outputs(reference, deploy_logits64)}
        _enforce(exact, record["keras_float64_vs_bibench_float64"],
                 "the Keras deploy form does not compute BiBench's eval forward (float64)")
        if self.reference is not None:
            record["pytorch_reference"] = self._check_reference(algo, flatbuffer, depths, exact,
                                                                deploy64)
        return record

    def _check_reference(self, algo, flatbuffer, depths, exact, deploy64) -> dict[str, Any]:
        from bibench_deploy.lce.audit import lce_verdict, verdict_mismatch, verdict_pass
        from bibench_deploy.sources.bibench_reference import forward
        data = _read_reference(self.reference)
        # the verdict's second comparison, of LCE with the outputs given beside the reference,
        # is LCE against PyTorch's float32 logits here
        verdict = lce_verdict(deploy64, data["inputs"], flatbuffer, data["logits"], search=True)
        record = {"file": str(self.reference), "samples": int(len(data["inputs"])),
                  "lce_vs_pytorch_float32": verdict.pop("keras_float32"),
                  "pytorch_float32_vs_float64": compare_outputs(data["logits_float64"],
                                                                data["logits"]),
                  "bibench_float64_vs_pytorch_float64": compare_outputs(
                      data["logits_float64"], forward(self.checkpoint.tensors, algo.name,
                                                      depths, data["inputs"])),
                  "lce_verdict": verdict}
        record["lce_vs_pytorch_float32"]["enforced"] = False  # see the module docstring
        _enforce(exact, record["bibench_float64_vs_pytorch_float64"],
                 f"BiBench's eval forward (float64) does not match PyTorch's float64 logits in "
                 f"{self.reference}: the checkpoint is not the model that wrote them")
        record["lce_verdict"]["enforced"] = exact
        if exact and not verdict_pass(verdict):
            raise CheckpointError(f"the LCE flatbuffer does not compute the checkpoint on the "
                                  f"inputs of {self.reference}: {verdict_mismatch(verdict)}")
        return record


def _enforce(exact: bool, numerics: dict[str, Any], what: str) -> None:
    numerics["enforced"] = exact
    if exact and not numerics_pass(numerics):
        raise CheckpointError(f"{what} (top-1 agreement {numerics['top1_agreement']:.1%}, "
                              f"max |diff| {numerics['max_abs_diff']:.3g})")


def _read_reference(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as data:
            missing = [k for k in REFERENCE_KEYS if k not in data]
            if missing:
                raise CheckpointError(f"{path}: no {', '.join(missing)}; write it with "
                                      "bibench_reference_script.py")
            values = {k: np.asarray(data[k]) for k in REFERENCE_KEYS}
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a .npz reference file ({exc}); write it with "
                              "bibench_reference_script.py") from None
    values["inputs"] = values["inputs"].astype(np.float32)
    return values


def import_checkpoint(checkpoint: Path, request: BuildRequest, reference: Optional[Path] = None,
                      reporter: Reporter = Reporter()) -> dict[str, Any]:
    """Import `checkpoint` as `request.arch`-`request.algo` (padding from the request)."""
    if get_architecture(request.arch).bibench_depths is None:
        importable = [arch.name for arch in ARCHITECTURES.registered() if arch.bibench_depths]
        raise CheckpointError(f"--arch {request.arch} is not one of BiBench's CIFAR ResNets; "
                              f"use {', '.join(importable)} (BiBench's ResNet-20 has a "
                              "64-channel stem: resnet20_bibench)")
    if reference is not None and not Path(reference).is_file():
        raise CheckpointError(f"{reference}: no such reference file; write it with "
                              "bibench_reference_script.py or leave out --reference")
    loaded = read_checkpoint(checkpoint)
    check_config(loaded, request.algo)
    classes = loaded.tensors.get("head.fc.weight")
    if classes is not None and classes.shape[0] != 10:
        raise CheckpointError(f"{checkpoint}: {classes.shape[0]} classes; import checks against "
                              "a 10-class audit dataset (BiBench's CIFAR-10 configs)")
    source = CheckpointSource(loaded, request.arch, reference)
    return build(replace(request, source=source), reporter)
