"""The counting plugin: builds once per source and compiler, counts a static aarch64 loop
exactly, and tools that are missing end in one line that names the packages."""

from __future__ import annotations

import os
import stat

import pytest

from bibench_deploy.emulation import plugin
from bibench_deploy.emulation.errors import GuestTimeoutError, PluginBuildError, ToolMissingError
from bibench_deploy.emulation.qemu import run_aarch64
from tests.emulation.conftest import needs


def test_count_repeats_and_grows_exactly_with_the_loop(loop_program):
    counts = {n: run_aarch64([str(loop_program), str(n)]).guest_instructions
              for n in (1000, 2000, 3000)}
    assert run_aarch64([str(loop_program), "2000"]).guest_instructions == counts[2000]
    per_iteration = counts[2000] - counts[1000]
    assert per_iteration > 0 and per_iteration % 1000 == 0
    assert counts[3000] - counts[2000] == per_iteration


def test_guest_output_and_status_are_its_own(loop_program):
    result = run_aarch64([str(loop_program), "10"])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_plugin_is_built_once_and_reused(plugin_cache):
    needs("cc")
    first = plugin.plugin_path()
    mtime = first.stat().st_mtime_ns
    assert first.parent == plugin_cache / "bibench-deploy" / "qemu-plugins"
    assert plugin.plugin_path() == first and first.stat().st_mtime_ns == mtime
    assert [p.name for p in first.parent.iterdir()] == [first.name]


def test_a_planted_link_is_replaced_not_followed(plugin_cache, tmp_path):
    needs("cc")
    target = plugin.plugin_path()
    target.unlink()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    target.symlink_to(victim)
    assert plugin.plugin_path() == target
    assert stat.S_ISREG(os.lstat(target).st_mode) and victim.read_text() == "keep"


def test_a_cache_others_can_write_is_refused(plugin_cache):
    needs("cc")
    directory = plugin.plugin_path().parent
    directory.chmod(0o777)
    try:
        with pytest.raises(PluginBuildError, match="writable by others"):
            plugin.plugin_path()
    finally:
        directory.chmod(0o700)


def test_key_follows_source_and_compiler():
    assert plugin.plugin_key(b"a", "gcc 12") != plugin.plugin_key(b"b", "gcc 12")
    assert plugin.plugin_key(b"a", "gcc 12") != plugin.plugin_key(b"a", "gcc 13")


@pytest.mark.parametrize("missing", [plugin.find_qemu, plugin.find_compiler])
def test_missing_tools_name_the_packages(missing, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError) as caught:
        missing()
    message = str(caught.value)
    assert "\n" not in message and "apt-get install qemu-user gcc" in message


def test_a_guest_past_its_time_limit_is_stopped(loop_program):
    with pytest.raises(GuestTimeoutError, match="ran past 0.5 s"):
        run_aarch64([str(loop_program), str(10**12)], timeout_s=0.5)
