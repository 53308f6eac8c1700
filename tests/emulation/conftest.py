"""Emulation fixtures: a tiny static aarch64 loop program, built here with the cross compiler,
and a plugin cache private to the test session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CROSS_CC = "aarch64-linux-gnu-gcc"
LOOP_SOURCE = r"""
#include <stdlib.h>
int main(int argc, char **argv)
{
    volatile unsigned long sum = 0;
    long n = argc > 1 ? atol(argv[1]) : 0;
    for (long i = 0; i < n; i++)
        sum += i;
    return 0;
}
"""


def needs(*tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (make system-deps installs qemu-user, "
                    f"gcc, gcc-aarch64-linux-gnu)")


@pytest.fixture(autouse=True)
def plugin_cache(tmp_path_factory, monkeypatch) -> Path:
    """Compiled plugins go to the session's own cache, never the user's."""
    cache = tmp_path_factory.getbasetemp() / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture(scope="session")
def loop_program(tmp_path_factory) -> Path:
    """A static aarch64 program that adds 0..N-1, N from its first argument."""
    needs("qemu-aarch64", "cc", CROSS_CC)
    directory = tmp_path_factory.mktemp("aarch64")
    (directory / "loop.c").write_text(LOOP_SOURCE)
    program = directory / "loop"
    subprocess.run([CROSS_CC, "-static", "-O1", "-o", str(program), str(directory / "loop.c")],
                   check=True, capture_output=True)
    return program
