"""Every bad input is one `error:` line, the documented exit code, and no traceback."""

from __future__ import annotations

import pytest

from bibench_deploy.errors import EXIT_FAILURE, EXIT_USAGE


def assert_one_line(result, code: int, *needles: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]], result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    for needle in needles:
        assert needle in lines[-1], lines[-1]


@pytest.mark.parametrize("args, needle", [
    (["build", "--bogus"], "No such option: --bogus"),
    (["build"], "Missing option '--algo'"),
    (["build", "--algo", "bnn", "--epochs", "-1"], "'--epochs'"),
    (["build", "--algo", "nope"], "unknown algorithm 'nope'"),
    (["build", "--algo", "bnn", "--arch", "resnet99"], "unknown architecture 'resnet99'"),
    (["build", "--algo", "bnn", "--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'"),
    (["build", "--algo", "bnn", "--force", "true"], "unexpected extra argument(s) (true)"),
    (["build", "--algo", "bnn", "--data-dir", "."], "--data-dir is not used by the embedded"),
    (["run", "--threads", "1,x"], "--threads expects comma-separated integers"),
    (["run", "--repeats", "0"], "'--repeats'"),
    (["run", "--models-dir", "/nonexistent/models"], "--models-dir /nonexistent/models does not exist"),
    (["report", "/nonexistent/run"], "RUN_DIR /nonexistent/run does not exist"),
    (["report", ".", "--format", "jpeg"], "unknown format jpeg"),
    (["algos", "--models-dir", "/nonexistent/models"], "--models-dir /nonexistent/models does not exist"),
    (["algos", "--write", "/nonexistent/dir/x.md"], "directory /nonexistent/dir does not exist"),
    (["algos", "--arch", "resnet99"], "unknown architecture"),
    (["convert", "/nonexistent.onnx", "--to", "dabnn"], "'/nonexistent.onnx' does not exist"),
])
def test_usage_errors_exit_2(cli, args, needle):
    assert_one_line(cli(*args), EXIT_USAGE, needle)


def test_failures_exit_1(cli, tmp_path):
    (tmp_path / "resnet20-bnn").mkdir()
    result = cli("build", "--algo", "bnn", "--models-dir", str(tmp_path))
    assert_one_line(result, EXIT_FAILURE, "already exists; pass --force")
    result = cli("run", "--models-dir", str(tmp_path), "--reports-dir", str(tmp_path / "r"))
    assert_one_line(result, EXIT_FAILURE, "no built models match")


def test_old_option_names_still_work_with_a_note(cli, tmp_path):
    result = cli("build", "--algo", "bnn", "--out", str(tmp_path), "--arch", "resnet99")
    assert "note: --out is deprecated here and will be removed; use --models-dir" in result.stderr
    assert_one_line(result, EXIT_USAGE, "unknown architecture")  # parsed on, then refused
    result = cli("run", "--out", str(tmp_path / "r"), "--models-dir", str(tmp_path / "none"))
    assert "use --reports-dir" in result.stderr
    result = cli("build", "--algo", "bnn", "--out", "a", "--models-dir", "b")
    assert_one_line(result, EXIT_USAGE, "--out is the old name of --models-dir")


def test_no_arguments_print_help(cli):
    result = cli()
    assert result.returncode == 0 and "Usage: bibench-deploy" in result.stdout


@pytest.mark.long  # starts a real build process (TensorFlow import) and stops it mid-way
def test_a_terminated_build_leaves_nothing_behind(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from tests.conftest import ROOT
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "bibench_deploy", "build", "--algo", "bnn",
                                "--epochs", "0", "--models-dir", str(tmp_path)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".resnet20-bnn.") for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "stopped after" in stderr.splitlines()[-1] and "importing TensorFlow" in stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []
