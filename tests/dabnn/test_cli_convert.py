import os
import subprocess
from pathlib import Path
import sys

from bibench_deploy.dabnn.model import DabModel
from tests.dabnn import onnx_graphs


def run_cli(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "bibench_deploy", *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path.cwd())})


def test_convert_writes_a_dab_file(tmp_path):
    onnx_path = tmp_path / "net.onnx"
    onnx_path.write_bytes(onnx_graphs.binary_conv_graph(32, 8).SerializeToString())
    result = run_cli("convert", str(onnx_path), "--to", "dabnn", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 binary convs" in result.stdout
    model = DabModel.from_bytes((tmp_path / "net.dab").read_bytes())
    assert [layer.type for layer in model.layers] == ["BinConv2D", "Affine"]


def test_refusal_is_one_line_and_exit_1(tmp_path):
    onnx_path = tmp_path / "net.onnx"
    onnx_path.write_bytes(onnx_graphs.binary_conv_graph(128, 64).SerializeToString())
    result = run_cli("convert", str(onnx_path), "--to", "dabnn", "--out",
                     str(tmp_path / "x.dab"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:") and "out % 128" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.dab").exists()


def test_non_square_model_is_refused_with_the_reason(tmp_path):
    onnx_path = tmp_path / "wide.onnx"
    onnx_path.write_bytes(onnx_graphs.binary_conv_graph(32, 8, size=16, height=8)
                          .SerializeToString())
    result = run_cli("convert", str(onnx_path), "--to", "dabnn", cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "8x16" in result.stderr and "swaps height and width" in result.stderr
    assert not (tmp_path / "wide.dab").exists()
