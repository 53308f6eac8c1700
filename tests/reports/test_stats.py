"""The statistics against hand computations."""

import math

import pytest

from bibench_deploy.reports.stats import bootstrap_ratio_ci, geomean, om_infer, parse_repeat_medians, ratio


def test_bootstrap_interval_of_three_repeats_spans_the_extreme_ratios():
    # Median of 3 resampled values is the smallest with probability 7/27, so both tails of the
    # 10,000 ratios sit on the extreme pairs: min(fp32) / max(binary) and max(fp32) / min(binary).
    fp32, binary = [10.0, 10.4, 11.0], [2.0, 2.1, 2.5]
    low, high = bootstrap_ratio_ci(fp32, binary)
    assert low == pytest.approx(10.0 / 2.5)
    assert high == pytest.approx(11.0 / 2.0)


def test_bootstrap_is_seeded_and_narrows_with_agreeing_repeats():
    wide = bootstrap_ratio_ci([10, 12, 9, 11, 13], [2, 3, 2.5, 2.2, 2.8])
    assert wide == bootstrap_ratio_ci([10, 12, 9, 11, 13], [2, 3, 2.5, 2.2, 2.8])
    assert wide[0] < 11 / 2.5 < wide[1]
    assert bootstrap_ratio_ci([10, 10, 10], [2, 2, 2]) == (5.0, 5.0)


def test_bootstrap_needs_two_repeats_per_side():
    assert bootstrap_ratio_ci([10.0], [2.0, 2.1]) is None


def test_geomean_and_om_infer_by_hand():
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        geomean([2.0, 0.0])
    # BiBench: sqrt((mean speedup^2 + mean size ratio^2) / 2)
    assert om_infer([2.0, 4.0], [20.0, 20.0]) == pytest.approx(math.sqrt((3.0 ** 2 + 20.0 ** 2) / 2))


def test_ratio_and_repeat_medians():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, 0.0) is None
    assert parse_repeat_medians("1.5;2.5; 3") == [1.5, 2.5, 3.0]
    assert parse_repeat_medians("") == [] and parse_repeat_medians(None) == []
