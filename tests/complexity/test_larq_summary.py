"""Layer-by-layer counts of the deploy graph against larq's own profile (`lq.models.summary`).

larq counts MACs per layer by precision, as this project does, so every layer must agree. For
parameters larq follows the other convention (it counts BatchNorm's folded scale and shift and
the statistics-based alpha_c): our convention's counts plus the excluded ones must equal it.
"""

from __future__ import annotations

import pytest

import bibench_deploy  # noqa: F401  (sets TF_USE_LEGACY_KERAS before larq imports TensorFlow)
import larq as lq

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.complexity.counting import count_layer

# Every algorithm on one architecture and one algorithm on every architecture by default; all
# pairs (40 models, a few minutes) with -m slow.
DEFAULT = sorted({(a, "resnet20") for a in ALGORITHMS.names()}
                 | {("xnor", arch) for arch in ARCHITECTURES.names()})
ALL_PAIRS = [(a, arch) for a in ALGORITHMS.names() for arch in ARCHITECTURES.names()]
PAIRS = [pytest.param(a, arch, marks=() if (a, arch) in DEFAULT else pytest.mark.slow,
                      id=f"{arch}-{a}") for a, arch in ALL_PAIRS]


def larq_rows(model):
    """Per layer: (1-bit MACs, 32-bit MACs, 1-bit params, 32-bit params) from larq's profile."""
    profile = lq.models.ModelProfile(model)
    return {p.name: (p.op_count("mac", 1) or 0, p.op_count("mac", 32) or 0,
                     p.weight_count(1), p.weight_count(32)) for p in profile.layer_profiles}


def our_rows(model):
    rows = {}
    for layer in model.layers:
        e = count_layer(layer)
        macs = (e["bops"], e["macs"] - e["bops"])
        rows[layer.name] = (*macs, e["binary_params"],
                            e["fp_params"] + e["batchnorm_params"] + e["derived_scale_params"])
    return rows


@pytest.mark.parametrize("algo, arch", PAIRS)
def test_layer_macs_and_params_agree_with_larq_summary(algo, arch):
    model = ARCHITECTURES.get(arch).build(ALGORITHMS.get(algo), 10, deploy=True)
    ours, larqs = our_rows(model), larq_rows(model)
    assert ours.keys() == larqs.keys()
    differ = {name: (ours[name], larqs[name]) for name in ours if ours[name] != larqs[name]}
    assert differ == {}
    assert sum(row[0] for row in ours.values()) > 0  # the binarized convs were seen as 1-bit
