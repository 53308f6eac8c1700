"""Help text: fast, flags without value placeholders, click-style argument names."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMANDS = [[], ["build"], ["run"], ["report"], ["algos"], ["convert"], ["devices"],
            ["devices", "check"], ["engines"], ["engines", "list"], ["engines", "fetch"]]


@pytest.mark.measures
def test_every_help_is_under_a_second():
    """Time from importing the CLI to the printed help, in a fresh interpreter per command
    (interpreter start-up itself excluded)."""
    code = ("import contextlib, io, json, sys, time; t = time.perf_counter(); "
            "from bibench_deploy.cli import run_app\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    rc = run_app(sys.argv[1:] + ['--help'])\n"
            "print(json.dumps([rc, time.perf_counter() - t]))")
    for command in COMMANDS:
        out = subprocess.run([sys.executable, "-c", code, *command], cwd=ROOT, capture_output=True,
                             text=True, timeout=60).stdout
        rc, seconds = json.loads(out.strip().splitlines()[-1])
        assert rc == 0 and seconds < 1.0, (command, seconds)


@pytest.mark.parametrize("command, flag", [("build", "--force"), ("run", "--trust-new-hosts"),
                                           ("algos", "--wide"), ("algos", "--markdown")])
def test_flags_show_no_value(cli, command, flag):
    line = next(line for line in cli(command, "--help").stdout.splitlines() if flag in line)
    assert "<bool>" not in line and "BOOLEAN" not in line


def test_arguments_read_as_in_click(cli):
    usage = cli("report", "--help").stdout
    assert "report [OPTIONS] RUN_DIR" in usage and "{" not in usage
    assert "convert [OPTIONS] MODEL" in cli("convert", "--help").stdout


def test_one_vocabulary_in_help(cli):
    for command in ("build", "run", "algos", "report"):
        assert "--models-dir" in cli(command, "--help").stdout, command
    run_help = cli("run", "--help").stdout
    assert "--reports-dir" in run_help and "--out" not in run_help  # the old name is hidden
    assert "--out" not in cli("build", "--help").stdout
