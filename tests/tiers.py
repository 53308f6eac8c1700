"""The unit tier (`make test-unit`, `-m unit`): every test that trains nothing, converts nothing,
starts no sshd or labgrid and measures no latency, so that it answers in a minute or two.

A test leaves the tier by carrying the marker that says why (REASONS, declared in pyproject.toml).
A fixture that needs one of these requests the fixture of the same name (`def lab(..., sshd)`),
which hands the marker to every test that uses it, wherever that test lives; a test or module
that does it inline carries the marker itself. Every other test is marked `unit` at collection.

While a unit test runs, starting an sshd or labgrid process, or using more than UNIT_CPU_S of CPU
(its own process's and its finished subprocesses'), fails it with the marker it lacks: the tier
cannot quietly take in a slow test. CPU time rather than wall time, which other work on a shared
machine stretches.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import pytest

# Why a test is not a unit test: the markers' meanings are in pyproject.toml.
REASONS = ("slow", "trains", "converts", "sshd", "labgrid", "measures", "long")
UNIT = "unit"
# Above the ~5 s the first test to build a Keras model in a process pays for TensorFlow's set-up.
UNIT_CPU_S = 8.0
# Programs whose start takes a test out of the tier, by the marker it then needs.
PROGRAMS = {"sshd": "sshd", "labgrid-coordinator": "labgrid", "labgrid-exporter": "labgrid",
            "labgrid-client": "labgrid"}

_START = pytest.StashKey[float]()
_VIOLATIONS = pytest.StashKey[list]()
_running: list[pytest.Item | None] = [None]  # the unit test running now, for the audit hook


def _reason_fixture(name: str):
    @pytest.fixture(scope="session", name=name)
    def reason() -> None:
        """Requested by a fixture whose tests are not unit tests; see tests/tiers.py."""
    return reason


# A fixture for each reason a fixture can hand on (`slow` is a test's own).
FIXTURE_REASONS = REASONS[1:]
trains, converts, sshd, labgrid, measures, long = map(_reason_fixture, FIXTURE_REASONS)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the markers it adds
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Hands each reason fixture's marker to the tests that use it; the rest become `unit`."""
    for item in items:
        for reason in set(FIXTURE_REASONS) & set(item.fixturenames):
            item.add_marker(reason)
        reasons = [name for name in REASONS if item.get_closest_marker(name)]
        if item.get_closest_marker(UNIT) and reasons:
            raise pytest.UsageError(f"{item.nodeid}: `unit` is given at collection "
                                    f"(tests/tiers.py), not by hand; it is marked {reasons}")
        if not reasons:
            item.add_marker(UNIT)


def cpu_seconds() -> float:
    """CPU time of this process and of its subprocesses that have ended."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _program(args) -> str:
    first = args if isinstance(args, (str, bytes)) else next(iter(args), "")
    first = first.decode() if isinstance(first, bytes) else str(first)
    return Path(first.split()[0] if first.strip() else "").name


def _audit(event: str, args: tuple) -> None:
    item = _running[0]
    if event != "subprocess.Popen" or item is None:
        return
    program = _program(args[1] if args[1] is not None else args[0])
    reason = PROGRAMS.get(program)
    if reason:
        message = f"a unit test starts {program}: mark it `{reason}`"
        item.stash[_VIOLATIONS].append(message)
        raise RuntimeError(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item):
    is_unit = item.get_closest_marker(UNIT) is not None
    item.stash[_START], item.stash[_VIOLATIONS] = cpu_seconds(), []
    _running[0] = item if is_unit else None
    try:
        return (yield)
    finally:
        _running[0] = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when == "call" and report.passed and item.get_closest_marker(UNIT):
        problems = list(item.stash[_VIOLATIONS])
        used = cpu_seconds() - item.stash[_START]
        if used > UNIT_CPU_S:
            problems.append(f"a unit test used {used:.1f} s of CPU (tier budget {UNIT_CPU_S:.0f} s):"
                            f" mark why it is not a unit test, one of {', '.join(REASONS)}")
        if problems:
            report.outcome, report.longrepr = "failed", "\n".join(problems)
    return report


sys.addaudithook(_audit)
