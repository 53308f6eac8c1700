"""The difference method's arithmetic and checks (no qemu), then the runner on the static
aarch64 loop, where one iteration's instructions are known exactly."""

from __future__ import annotations

import pytest

from bibench_deploy.emulation.errors import EmulationError, UnstableCountError
from bibench_deploy.emulation.per_inference import combine, instructions_per_inference, measure
from bibench_deploy.emulation.qemu import GuestRun, parse_count


def test_difference_cancels_fixed_costs():
    assert instructions_per_inference(10, 5_000 + 10 * 700, 30, 5_000 + 30 * 700) == 700


@pytest.mark.parametrize("n1, n2", [(5, 5), (6, 5), (0, 5), (1.0, 5)])
def test_iterations_must_grow(n1, n2):
    with pytest.raises(EmulationError, match="0 < N1 < N2"):
        instructions_per_inference(n1, 100, n2, 200)


@pytest.mark.parametrize("count1, count2", [(0, 10), (10, -1)])
def test_counts_must_be_positive(count1, count2):
    with pytest.raises(EmulationError, match="positive"):
        instructions_per_inference(1, count1, 2, count2)


def test_a_count_that_does_not_grow_says_the_iterations_are_ignored():
    with pytest.raises(EmulationError, match="does not reach the engine"):
        instructions_per_inference(1, 1_000, 2, 1_000)


def test_repeats_within_tolerance_average():
    result = combine(1, 3, [(1_000, 3_000), (1_000, 3_000 + 2 * 0.001)], rel_tol=1e-5)
    assert result.instructions == pytest.approx(1_000.0005)
    assert result.spread == pytest.approx(0.0005 / 1_000.0005)


def test_repeats_that_disagree_are_an_error():
    with pytest.raises(UnstableCountError, match="differ between repeats"):
        combine(1, 3, [(1_000, 3_000), (1_000, 3_100)], rel_tol=1e-5)


@pytest.mark.parametrize("text", [None, "", "abc\n", "0\n", "-5\n", "12 13\n"])
def test_missing_or_garbled_counts_are_errors(text):
    with pytest.raises(EmulationError, match="instruction count"):
        parse_count(text, 139, "qemu: uncaught target signal 11\n")


def test_count_is_one_positive_integer():
    assert parse_count("6022980\n") == 6_022_980


def test_runner_gives_the_loop_body_exactly(loop_program):
    result = measure(lambda n: [str(loop_program), str(n)], 1_000, 3_000, repeats=2, rel_tol=0)
    assert result.instructions == int(result.instructions) > 0
    assert result.spread == 0 and len(result.runs) == 4


def test_an_engine_that_fails_stops_the_measurement():
    def failing(argv, **options):
        return GuestRun(1, "", "model not found\n", 12_345)

    with pytest.raises(EmulationError, match="model not found .exit status 1"):
        measure(lambda n: ["engine", str(n)], 1, 2, run=failing)


def test_runner_counts_each_iteration_count_repeats_times():
    seen = []

    def fake(argv, **options):
        seen.append((argv, options))
        n = int(argv[1])
        return GuestRun(0, "", "", 1_000 + 250 * n)

    result = measure(lambda n: ["engine", str(n)], 4, 8, repeats=3, run=fake, sysroot="/r")
    assert result.instructions == 250 and result.counts == ((2_000, 3_000),) * 3
    assert [a for a, _ in seen] == [["engine", "4"], ["engine", "8"]] * 3
    assert all(o == {"sysroot": "/r"} for _, o in seen)
