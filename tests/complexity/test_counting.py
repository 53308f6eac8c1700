"""Complexity against the worked numbers of the reference sheet (BiBench convention)."""

import pytest

from bibench_deploy.algorithms import ALGORITHMS, FP32
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.complexity import compare_to_fp32, count_model


def totals(arch: str, algo: str = "bnn") -> dict:
    architecture = ARCHITECTURES.get(arch)
    binary = count_model(architecture.build(ALGORITHMS.get(algo), 10))
    return compare_to_fp32(binary, count_model(architecture.build(FP32, 10)))


def test_resnet18_cifar_matches_the_worked_example():
    result = totals("resnet18")
    t = result["totals"]
    assert t["bops"] == 547_356_672           # 547.36 M BOPs
    assert t["flops"] == 8_066_048            # 8.066 M FLOPs: stem, 3 shortcuts, classifier
    assert t["ops"] == pytest.approx(16.618e6, rel=1e-4)
    assert t["fp32_flops"] == 555_422_720     # 555.42 MFLOPs
    assert t["fp32_params"] == 11_164_362     # 11.164 M params
    assert t["r_s"] == pytest.approx(33.4, abs=0.05)
    assert t["r_c"] == pytest.approx(21.4, abs=0.05)
    assert result["uncounted"] == []


def test_resnet34_cifar_matches_the_reference():
    t = totals("resnet34")["totals"]
    assert t["r_s"] == pytest.approx(44.5, abs=0.05)
    assert t["r_c"] == pytest.approx(25.4, abs=0.05)


def test_textbook_resnet20_matches_the_reference():
    assert totals("resnet20")["totals"]["r_s"] == pytest.approx(30.6, abs=0.05)


def test_binary_layers_are_the_3x3_block_convs():
    layers = totals("resnet20")["layers"]
    binary = [e["name"] for e in layers if e["kind"] == "binary"]
    assert len(binary) == 18 and all("_conv" in n for n in binary)
    floats = {e["name"] for e in layers if e["kind"] == "float"}
    assert floats == {"stem", "stage2_block1_downsample", "stage3_block1_downsample",
                      "classifier"}


def test_a_layer_it_cannot_count_is_reported_not_guessed():
    import tensorflow as tf
    inputs = tf.keras.Input((8, 8, 3))
    x = tf.keras.layers.Conv2D(4, 3)(inputs)
    x = tf.keras.layers.LSTM(2)(tf.keras.layers.Reshape((36, 4))(x))
    result = count_model(tf.keras.Model(inputs, x))
    assert any("LSTM" in name for name in result["uncounted"])
    assert result["totals"]["flops"] == 6 * 6 * 4 * 27  # only the conv


@pytest.mark.parametrize("arch", ARCHITECTURES.names())
def test_every_architecture_counts_everything(arch):
    result = totals(arch)
    assert result["uncounted"] == []
    assert result["totals"]["r_s"] > 1 and result["totals"]["r_c"] > 1


@pytest.mark.parametrize("algo, r_s", [("xnor", 28.93), ("xnorpp", 30.70), ("reactnet", 32.35)])
def test_batchnorm_behind_a_runtime_or_spatial_scale_costs_a_mul_and_an_add(algo, r_s):
    """CIFAR ResNet-18: 491,520 binary conv outputs, each a MUL and an ADD behind beta / Gamma."""
    t = totals("resnet18", algo)["totals"]
    expected = 2 * 491_520 if algo in ("xnor", "xnorpp") else 0
    assert t["unfolded_batchnorm_flops"] == expected
    assert t["r_s"] == pytest.approx(r_s, abs=0.005)


def test_both_parameter_conventions_are_counted():
    """BatchNorm: a folded scale and shift per channel (as larq counts them); alpha_c = mean|W|
    of the deploy graph's KernelScale is the statistics-based scale."""
    t = totals("resnet18", "xnor")["totals"]
    assert t["batchnorm_params"] == t["fp32_batchnorm_params"] == 9_600
    assert t["derived_scale_params"] == 0  # the training graph has no KernelScale layer
    architecture = ARCHITECTURES.get("resnet18")
    deploy = compare_to_fp32(count_model(architecture.build(ALGORITHMS.get("xnor"), 10, deploy=True)),
                             count_model(architecture.build(FP32, 10)))["totals"]
    assert deploy["derived_scale_params"] == 3_840  # 16 binary convs' output channels
    assert deploy["r_c"] == pytest.approx(21.4, abs=0.05)
    assert deploy["r_c_all_params"] == pytest.approx(
        (11_164_362 + 9_600) / (deploy["params_equiv"] + 9_600 + 3_840))


@pytest.mark.parametrize("algo", ["bnn", "xnor", "xnorpp"])
def test_unfolded_batchnorms_are_the_flatbuffers_adds(algo):
    """What is counted is what LCE keeps: one ADD per unfolded BatchNorm output element."""
    from bibench_deploy.lce.convert import convert
    from bibench_deploy.deploy_graph.deploy import build_deploy_model
    from bibench_deploy.lce.flatbuffer import read_graph
    from bibench_deploy.training.untrained import randomize_untrained
    from tests.algorithms.conftest import TINY  # no residual ADD: every ADD is a BatchNorm's
    model = TINY.build(ALGORITHMS.get(algo), 10)
    randomize_untrained(model, seed=0)
    deploy, _, _ = build_deploy_model(TINY, ALGORITHMS.get(algo), model, 10)
    adds = sum(op.output_elements for op in read_graph(convert(deploy)).ops if op.type == "ADD")
    unfolded = count_model(deploy)["totals"]["unfolded_batchnorm_flops"]
    assert adds == unfolded // 2 and (adds > 0) == (algo != "bnn")

def test_depthwise_convs_and_functional_additions_are_counted():
    import larq as lq
    import tensorflow as tf
    inputs = tf.keras.Input((8, 8, 4))
    x = tf.keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(inputs)
    x = lq.layers.QuantDepthwiseConv2D(3, padding="same", input_quantizer="ste_sign",
                                       depthwise_quantizer="ste_sign", use_bias=False)(x) + x
    model = tf.keras.Model(inputs, x)
    result = count_model(model)
    assert result["uncounted"] == []
    assert result["totals"]["flops"] == 8 * 8 * 3 * 3 * 4   # float depthwise MACs
    assert result["totals"]["bops"] == 8 * 8 * 3 * 3 * 4    # binarized depthwise MACs
    profile = lq.models.ModelProfile(model)                 # larq's own count agrees
    assert (profile.op_count("mac", 32), profile.op_count("mac", 1)) == (2304, 2304)


def test_other_functional_ops_stay_uncounted():
    import tensorflow as tf
    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, tf.math.exp(inputs))
    assert len(count_model(model)["uncounted"]) == 1
