"""The heavy half of `build` (imports TensorFlow); see build.py for the contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any


from bibench_deploy.algorithms import FP32, get_algorithm
from bibench_deploy.architectures import get_architecture
from bibench_deploy.pipeline import audit as audit_mod
from bibench_deploy.pipeline.convert import convert, interpret
from bibench_deploy.pipeline.dabnn_step import build_dabnn, export_fp32_onnx
from bibench_deploy.pipeline.deploy import (build_deploy_model, deploy_form_numerics,
                                            float64_deploy, predict)
from bibench_deploy.pipeline.flatbuffer import read_graph
from bibench_deploy.pipeline.inputs import Preprocessing, audit_batch, test_dataset
from bibench_deploy.pipeline.build import BuildRequest, Reporter, artefacts, base_manifest, require
from bibench_deploy.pipeline.tracing import keras_without_autograph
from bibench_deploy.pipeline.train import compile_model, train, weights_sha256
from bibench_deploy.pipeline.untrained import randomize_untrained
from bibench_deploy.complexity import compare_to_fp32, count_model
from bibench_deploy.data.base import Dataset


def make_deterministic(seed: int) -> None:
    """Same seed and inputs, same weights and flatbuffer bytes (on the same machine and versions).

    Deterministic TF kernels, every random source seeded, and Keras' layer-name counters reset
    (auto-generated names end up in the flatbuffer's tensor names).
    """
    import tensorflow as tf
    keras_without_autograph()
    tf.keras.backend.clear_session()
    tf.config.experimental.enable_op_determinism()
    tf.keras.utils.set_random_seed(seed)


def run_steps(request: BuildRequest, dataset: Dataset, staging: Path,
              reporter: Reporter) -> dict[str, Any]:
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")  # AutoGraph notes about larq internals are not for users
    algo = get_algorithm(request.algo).with_padding(request.padding)
    arch = get_architecture(request.arch)
    prep = Preprocessing(dataset, arch.input_size)
    manifest = base_manifest(request)

    make_deterministic(request.train.seed)
    model = arch.build(algo, dataset.num_classes)
    history, imported, randomized = [], None, None
    if request.source is not None:
        reporter.stage(f"loading {request.source.describe()}")
        imported = request.source.load(model, algo)
        compile_model(model)
    elif request.train.epochs > 0:
        reporter.stage(f"training {request.name}, {request.train.epochs} epoch(s) "
                       "(graph tracing first)")
        history = train(model, algo, dataset, prep, request.train, reporter.progress,
                        reporter.epoch)
    else:
        compile_model(model)
        randomized = randomize_untrained(model, request.train.seed)
    trained = bool(history) or imported is not None
    test_accuracy = None  # an imported model's classes are not the audit dataset's
    if imported is None:
        reporter.stage("evaluating")
        test_accuracy = float(model.evaluate(test_dataset(dataset, prep, 256), verbose=0)[1])

    reporter.stage("building the deploy graph and checking it against the training graph "
                   "in float64")
    x = audit_batch(dataset, prep)
    deploy, dropped, centring = build_deploy_model(arch, algo, model, dataset.num_classes)
    deploy_numerics, deploy_logits64 = deploy_form_numerics(arch, algo, model,
                                                            dataset.num_classes, x)
    require(audit_mod.numerics_pass(deploy_numerics), lambda: (
        f"{request.name}: the deploy graph does not compute the trained model "
        f"(top-1 agreement {deploy_numerics['top1_agreement']:.1%} in float64); this is a bug "
        f"in the algorithm's deploy form"))
    reference = predict(deploy, x)  # float32 Keras: the daBNN checks' reference

    reporter.stage("converting the binary and FP32 models with the LCE converter")
    binary_fb = convert(deploy)
    fp32_model = arch.build(FP32, dataset.num_classes)
    fp32_fb = convert(fp32_model)

    reporter.stage("auditing the flatbuffers")
    binary_counts, fp32_counts = count_model(deploy), count_model(fp32_model)
    complexity = compare_to_fp32(binary_counts, fp32_counts)
    fp32_graph = read_graph(fp32_fb)
    binary_audit = audit_mod.audit_graph(read_graph(binary_fb), binary_counts["totals"],
                                         fp32_graph)
    missing = audit_mod.missing_declared_ops(binary_audit, algo.inference_float_ops)
    require(not missing, lambda: (
        f"{request.name}: the LCE flatbuffer runs no float {', '.join(missing)} beyond its FP32 "
        f"baseline, although {algo.name} declares {'it' if len(missing) == 1 else 'them'} in "
        f"inference_float_ops: the converter folded the operator away (identity parameters?), "
        f"so this graph would not measure {algo.name}; fix the deploy form or its parameters"))
    deploy64 = float64_deploy(arch, algo, deploy, dataset.num_classes)
    binary_audit.update(audit_mod.lce_verdict(deploy64, x, binary_fb, reference,
                                              search=trained))
    binary_audit["deploy_graph_vs_keras"] = deploy_numerics
    binary_audit["dropped_training_layers"] = dropped
    binary_audit["thresholds_centred"] = centring
    fp32_audit = audit_mod.audit_graph(fp32_graph, fp32_counts["totals"], None)
    fp32_reference = predict(fp32_model, x)
    fp32_audit.update(audit_mod.compare_outputs(fp32_reference, interpret(fp32_fb, x)))
    mismatch = (f"{request.name}: the LCE flatbuffer does not compute the deploy graph: "
                + audit_mod.verdict_mismatch(binary_audit))
    # An untrained network has no margins: its BatchNorm ties bits to thresholds exactly and
    # flips cascade beyond what the attribution follows. Its verdict is recorded and warned
    # about; a trained build must pass it.
    binary_audit["numerics_enforced"] = trained
    if trained:
        require(audit_mod.verdict_pass(binary_audit),
                lambda: f"{mismatch}; the converter changed the model's meaning")
    elif not audit_mod.verdict_pass(binary_audit):
        binary_audit["numerics_warning"] = f"{mismatch}; untrained, not enforced"
        reporter.warning(binary_audit["numerics_warning"])
    require(audit_mod.numerics_pass(fp32_audit), lambda: (
        f"{request.name}: the FP32 flatbuffer does not match Keras "
        f"(top-1 agreement {fp32_audit['top1_agreement']:.1%})"))

    reporter.stage("exporting ONNX and daBNN models")
    dabnn_files, dabnn_audit = build_dabnn(algo, deploy, reference, x, staging, request.name,
                                            trained=trained)
    if "numerics_warning" in dabnn_audit.get("dabnn", {}):
        reporter.warning(dabnn_audit["dabnn"]["numerics_warning"])
    fp32_onnx_path = staging / f"{request.name}-fp32.onnx"
    fp32_onnx = export_fp32_onnx(fp32_model, fp32_reference, x, fp32_onnx_path,
                                 request.name)

    reporter.stage("writing artefacts")
    files = {"lce": staging / f"{request.name}.tflite",
             "fp32": staging / f"{request.name}-fp32.tflite",
             "keras": staging / f"{request.name}.keras", **dabnn_files}
    if fp32_onnx["exported"]:
        files["onnx_fp32"] = fp32_onnx_path
    files["lce"].write_bytes(binary_fb)
    files["fp32"].write_bytes(fp32_fb)
    model.save(files["keras"])
    complexity["file_bytes"] = {"lce": len(binary_fb), "fp32": len(fp32_fb)}
    complexity["file_size_ratio"] = len(fp32_fb) / len(binary_fb)

    manifest.update({
        "dataset": dataset.summary(),
        "input_shape": [1, arch.input_size, arch.input_size, 3],
        "num_classes": dataset.num_classes,
        "preprocessing": prep.describe() if request.source is None else
        request.source.preprocessing(prep.describe(), dataset.name, len(x)),
        "training": {**request.train.describe(), "trained": trained,
                     "history": history, "test_accuracy": test_accuracy,
                     "untrained_parameters": randomized,
                     "weights_sha256": weights_sha256(model),
                     "fp32_baseline": "untrained (same architecture, random init): latency only"},
        "algorithm": {"name": algo.name, "title": algo.title, "paper": algo.paper,
                      "inference_operator": algo.inference_operator},
        "artefacts": artefacts(staging, files),
        "audit": {"lce": binary_audit, "fp32": fp32_audit, "dabnn": dabnn_audit,
                  "onnx_fp32": fp32_onnx,
                  "audit_batch": f"first {len(x)} test images of {dataset.name}"},
        "complexity": complexity,
        "deploy": {"dabnn": {"supported": dabnn_audit["supported"],
                             "reason": dabnn_audit["reason"]}},
    })
    if request.source is not None:
        reporter.stage("checking against BiBench's semantics")
        manifest["training"]["imported"] = True
        manifest["import"] = {**imported, **request.source.verify(algo, binary_fb, x,
                                                                   deploy_logits64, deploy64)}
    return manifest
