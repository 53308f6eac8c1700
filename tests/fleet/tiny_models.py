"""Small real models for fleet tests: one binarized LCE flatbuffer and its float twin each."""

from __future__ import annotations

from pathlib import Path

from bibench_deploy.manifest import SCHEMA_VERSION, artefact_entry, write_manifest


def _keras_model(binary: bool, size: int, filters: int):
    import larq as lq
    import tensorflow as tf
    inputs = tf.keras.Input((size, size, 3))
    x = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization()(x)
    for _ in range(2):
        if binary:
            x = lq.layers.QuantConv2D(filters, 3, padding="same", pad_values=1.0, use_bias=False,
                                      input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                      kernel_constraint="weight_clip")(x)
        else:
            x = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(10)(x)
    return tf.keras.Model(inputs, outputs)


def build_model_dir(models_dir: Path, name: str, size: int = 16, filters: int = 32) -> Path:
    """`models_dir/name/` with an LCE and an FP32 flatbuffer and a manifest."""
    import larq_compute_engine as lce
    arch, _, algo = name.partition("-")
    model_dir = Path(models_dir) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    lce_path, fp32_path = model_dir / f"{name}.tflite", model_dir / f"{name}-fp32.tflite"
    lce_path.write_bytes(lce.convert_keras_model(_keras_model(True, size, filters)))
    fp32_path.write_bytes(lce.convert_keras_model(_keras_model(False, size, filters)))
    write_manifest(model_dir, {
        "schema_version": SCHEMA_VERSION, "name": name, "arch": arch, "algo": algo or "test",
        "input_shape": [1, size, size, 3],
        "artefacts": {"lce": artefact_entry(model_dir, lce_path),
                      "fp32": artefact_entry(model_dir, fp32_path)}})
    return model_dir


def copy_model_dir(source: Path, models_dir: Path, name: str) -> Path:
    """A second model directory under a new name, with the same flatbuffers (no conversion)."""
    import json
    import shutil
    target = Path(models_dir) / name
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["name"] = name
    write_manifest(target, manifest)
    return target
