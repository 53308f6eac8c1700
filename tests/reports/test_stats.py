"""The statistics against hand computations."""

import math

import pytest

from bibench_deploy.paired import paired_interval, paired_ratios
from bibench_deploy.reports.stats import geomean, om_infer, parse_repeat_medians, ratio


def test_paired_interval_by_hand():
    # ratios 5.0, 5.2, 4.8, 5.1: logs, their mean and sd, t(0.975, 3) = 3.182446305284263
    fp32, binary = [10.0, 10.4, 9.6, 10.2], [2.0, 2.0, 2.0, 2.0]
    logs = [math.log(f / b) for f, b in zip(fp32, binary)]
    mean = sum(logs) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / 3)
    half = 3.182446305284263 * sd / 2
    interval = paired_interval(paired_ratios(fp32, binary))
    assert (interval.low, interval.high, interval.pairs) == (
        pytest.approx(math.exp(mean - half)), pytest.approx(math.exp(mean + half)), 4)
    assert interval.estimate == pytest.approx(math.exp(mean))
    assert interval.halfwidth_pct == pytest.approx((math.exp(half) - 1) * 100)


def test_pairing_cancels_drift_that_hits_both_sides():
    # both sides slow down together (a warming device): the ratios are all 5, the interval is 0 wide
    binary = [2.0, 2.2, 2.6, 3.0]
    interval = paired_interval(paired_ratios([5 * b for b in binary], binary))
    assert interval.low == pytest.approx(5.0) and interval.high == pytest.approx(5.0)


def test_paired_interval_needs_two_pairs_and_pairs_by_launch():
    assert paired_interval(paired_ratios([10.0], [2.0, 2.1])) is None
    assert paired_ratios([10.0, 12.0, 14.0], [2.0, 3.0]) == [5.0, 4.0]  # the k-th with the k-th


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
