"""Bad input to `add`: one clear line that names the problem and the fix, exit 1, nothing written."""

from __future__ import annotations

import pytest

from tests.stages.test_build_cli import one_error_line

CUSTOM_LAYER_MODEL = """
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf

@tf.keras.utils.register_keras_serializable(package="mine")
class MyScale(tf.keras.layers.Layer):
    def call(self, x):
        return 2.0 * x

inputs = tf.keras.Input((8, 8, 3))
model = tf.keras.Model(inputs, tf.keras.layers.Dense(4)(MyScale()(inputs)))
model.save(sys.argv[1])
"""


@pytest.mark.long
def test_custom_layer_is_named(cli, tmp_path):
    import subprocess
    import sys
    path = tmp_path / "custom.keras"
    subprocess.run([sys.executable, "-c", CUSTOM_LAYER_MODEL, str(path)], check=True,
                   capture_output=True)
    line = one_error_line(cli("add", str(path), "--out", str(tmp_path / "models")))
    assert "MyScale" in line and "neither Keras nor Larq" in line and "--custom-objects" in line
    assert not (tmp_path / "models" / "custom").exists()


@pytest.mark.parametrize("filename,content,expected", [
    ("broken.keras", b"not a zip archive", "cannot load it as a Keras model"),
    ("broken.tflite", b"\x00" * 64, "not a TFLite flatbuffer"),
    ("broken.dab", b"garbage", "not a daBNN model"),
    ("model.onnx", b"", "unknown model format '.onnx'"),
])
def test_unreadable_files(cli, tmp_path, filename, content, expected):
    path = tmp_path / filename
    path.write_bytes(content)
    line = one_error_line(cli("add", str(path), "--out", str(tmp_path / "models")))
    assert expected in line and str(path) in line
    assert not (tmp_path / "models" / path.stem).exists()


def test_missing_file(cli, tmp_path):
    line = one_error_line(cli("add", str(tmp_path / "absent.keras")), code=2)  # a path that does not exist
    assert "no such file or directory" in line


def test_unreadable_permissions(cli, tmp_path):
    import os
    path = tmp_path / "locked.tflite"
    path.write_bytes(b"x")
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as a user that reads any file (root)")
    line = one_error_line(cli("add", str(path)))
    assert "cannot read it" in line


def test_existing_name_without_force(cli, tmp_path):
    (tmp_path / "models" / "taken").mkdir(parents=True)
    path = tmp_path / "taken.tflite"
    path.write_bytes(b"x")
    line = one_error_line(cli("add", str(path), "--out", str(tmp_path / "models")))
    assert "already exists; pass --force" in line


@pytest.mark.parametrize("args,expected", [
    (["--input-shape", "32,32"], "--input-shape expects H,W,C"),
    (["--name", "-bad"], "--name '-bad'"),
    (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["--fp32", "missing.tflite"], "missing.tflite: no such file"),
])
def test_bad_options(cli, tmp_path, args, expected):
    path = tmp_path / "model.tflite"
    path.write_bytes(b"x")
    # a wrong command line: exit 2 (README, conventions)
    line = one_error_line(cli("add", str(path), *args, "--out", str(tmp_path / "models")), code=2)
    assert expected in line
