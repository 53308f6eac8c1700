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

def _one_error_line(result, code: int, needle: str) -> None:
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error:") and needle in result.stderr, result.stderr


def test_output_in_a_missing_directory_is_one_line(tmp_path):
    onnx_path = tmp_path / "net.onnx"
    onnx_path.write_bytes(onnx_graphs.binary_conv_graph(32, 8).SerializeToString())
    result = run_cli("convert", str(onnx_path), "--to", "dabnn", "--out", "/nonexistent/dir/x.dab",
                     cwd=tmp_path)
    _one_error_line(result, 2, "--out /nonexistent/dir/x.dab: directory /nonexistent/dir does "
                               "not exist")


def test_a_model_without_binary_convs_is_refused(tmp_path):
    onnx_path = tmp_path / "float.onnx"
    onnx_path.write_bytes(onnx_graphs.residual_relu_graph().SerializeToString())
    result = run_cli("convert", str(onnx_path), "--to", "dabnn", cwd=tmp_path)
    _one_error_line(result, 1, "has no binary convolution")
    assert not (tmp_path / "float.dab").exists()


def _mean_graph(tmp_path, axes):
    from onnx import helper
    model = onnx_graphs.binary_conv_graph(32, 8)
    graph = model.graph
    graph.node[-1].output[0] = "bn"
    graph.node.append(helper.make_node("ReduceMean", ["bn"], ["output"], axes=axes, keepdims=0))
    onnx_path = tmp_path / "mean.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    return onnx_path


def test_a_global_mean_is_a_global_average_pool(tmp_path):
    """`x.mean((2, 3))` after a binary conv (how PyTorch code often pools) is no runtime scale:
    it converts to a fixed-kernel AvePool over the whole map."""
    result = run_cli("convert", str(_mean_graph(tmp_path, [2, 3])), "--to", "dabnn", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    dab = DabModel.from_bytes((tmp_path / "mean.dab").read_bytes())
    pool = dab.layers[-1]
    assert pool.type == "AvePool" and pool.params["kernel_shape"] == [6, 6]  # the 6 x 6 map


def test_a_channel_mean_is_refused_with_the_axes(tmp_path):
    result = run_cli("convert", str(_mean_graph(tmp_path, [1])), "--to", "dabnn", cwd=tmp_path)
    _one_error_line(result, 1, "averages over height and width only")
    assert "runtime activation scale" not in result.stderr
