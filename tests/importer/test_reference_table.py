"""BiBench's float64 eval forward has one conv reference per importable algorithm."""

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.sources.bibench_reference import REFERENCES


def test_every_importable_algorithm_has_a_reference_conv():
    importable = {name for name in ALGORITHMS if ALGORITHMS.get(name).bibench_conv}
    assert importable == set(REFERENCES)
