"""TFLite's aarch64 float kernels (ai-edge-litert in the aarch64 userland) under qemu: a tiny
Keras model's instructions per inference repeat, and its outputs equal the host interpreter's on
the same seeded inputs."""

from __future__ import annotations

import pytest

from bibench_deploy.emulation import litert
from tests.emulation.conftest import needs
from tests.emulation.float_model import assert_outputs_match, build_float_model

pytestmark = pytest.mark.slow
SEED = 7


@pytest.fixture(scope="module")
def userland():
    needs("qemu-aarch64", "cc")
    root = litert.default_userland()
    if not (root / litert.MARKER).is_file():
        pytest.skip(f"no aarch64 userland at {root}: make aarch64-userland builds it")
    return root


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    return build_float_model(tmp_path_factory.mktemp("litert"))


def test_instructions_per_inference_repeat(userland, float_model):
    # Python's and numpy's start-up varies by a few thousand instructions from run to run (it
    # reads clocks); 10,000 inferences between N1 and N2 bring that well below 1e-5 per inference.
    result = litert.measure_model(float_model, 100, 10_100, userland, seed=SEED, repeats=2,
                                  rel_tol=1e-5)
    assert result.instructions > 1_000 and result.spread <= 1e-5
    print(f"\n{float_model.name}: {result.instructions:.1f} guest instructions per inference; "
          f"counts {result.counts}")


def test_aarch64_outputs_equal_the_host_interpreter(userland, float_model):
    guest, result = litert.run_model(float_model, 1, userland, seed=SEED)
    assert "XNNPACK delegate" in guest.stderr     # the kernels a board runs by default
    assert_outputs_match(result["outputs"], float_model, SEED)
