"""The build pipeline end to end: real training, real LCE conversion, real interpreter."""

from __future__ import annotations

import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.stages.build import build
from bibench_deploy.stages.request import BuildRequest
from bibench_deploy.training.train import TrainConfig
from bibench_deploy.errors import ConversionError
from bibench_deploy.manifest import load_manifest, sha256_file

pytestmark = pytest.mark.trains


@pytest.fixture(scope="module")
def resnet20_bnn(tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    build(BuildRequest("bnn", "resnet20", train=TrainConfig(epochs=1), out=out))
    return out / "resnet20-bnn"


def test_build_writes_artefacts_with_matching_hashes(resnet20_bnn):
    manifest = load_manifest(resnet20_bnn)
    assert sorted(manifest["artefacts"]) == ["dabnn", "fp32", "keras", "lce", "onnx"]
    for entry in manifest["artefacts"].values():
        path = resnet20_bnn / entry["path"]
        assert sha256_file(path) == entry["sha256"] and path.stat().st_size == entry["bytes"]
    assert sorted(p.name for p in resnet20_bnn.iterdir()) == [
        "manifest.json", "resnet20-bnn-fp32.tflite", "resnet20-bnn.dab", "resnet20-bnn.keras",
        "resnet20-bnn.onnx", "resnet20-bnn.tflite"]


def test_dabnn_model_matches_keras(resnet20_bnn):
    manifest = load_manifest(resnet20_bnn)
    dabnn = manifest["audit"]["dabnn"]
    assert manifest["deploy"]["dabnn"] == {"supported": True, "reason": ""}
    assert dabnn["verified_on"] == "the built model"
    for check in ("onnx", "dabnn"):
        assert dabnn[check]["numerics_enforced"] and dabnn[check]["top1_agreement"] >= 0.99
    assert dabnn["dabnn"]["samples"] == 100
    assert dabnn["layer_histogram"]["BinConv2D"] == 18


def test_every_binarized_conv_runs_in_lce_bconv(resnet20_bnn):
    audit = load_manifest(resnet20_bnn)["audit"]["lce"]
    assert audit["op_histogram"]["LceBconv2d"] == 18
    assert audit["binary_macs_in_bconv"] == audit["binary_macs_expected"] == 40_108_032
    assert audit["binary_mac_share"] == 1.0
    assert audit["float_fallback_macs"] == 0
    # the residual Hardtanh runs as its own op (the FP32 twin fuses it into ADD), and the two
    # stride-2 binary convs pad symmetrically with an explicit PAD
    extra = audit["extra_float_ops"]
    assert sorted(extra) == ["PAD", "RELU_N1_TO_1"]
    assert extra["RELU_N1_TO_1"]["count"] == 9 and extra["PAD"]["count"] == 2
    assert audit["top1_agreement"] >= 0.99 and audit["samples"] == 100


def test_fp32_baseline_is_all_float(resnet20_bnn):
    audit = load_manifest(resnet20_bnn)["audit"]["fp32"]
    assert "LceBconv2d" not in audit["op_histogram"]
    assert audit["op_histogram"]["CONV_2D"] == 21
    assert audit["top1_agreement"] == 1.0 and audit["max_abs_diff"] < 1e-3


def test_manifest_records_training_and_complexity(resnet20_bnn):
    manifest = load_manifest(resnet20_bnn)
    training = manifest["training"]
    assert training["trained"] and training["epochs"] == 1 and len(training["history"]) == 1
    assert 0.0 <= training["test_accuracy"] <= 1.0
    assert manifest["dataset"]["name"] == "sklearn-digits-32"
    assert manifest["complexity"]["totals"]["r_s"] == pytest.approx(30.6, abs=0.05)
    sizes = manifest["complexity"]["file_bytes"]
    assert sizes["lce"] == (resnet20_bnn / "resnet20-bnn.tflite").stat().st_size
    assert sizes["fp32"] > 5 * sizes["lce"]
    assert set(manifest["versions"]) == {"tensorflow", "larq", "larq_compute_engine"}


def test_saved_keras_model_reloads_with_identical_outputs(resnet20_bnn):
    import numpy as np
    import tensorflow as tf
    model = tf.keras.models.load_model(resnet20_bnn / "resnet20-bnn.keras")
    x = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    again = tf.keras.models.load_model(resnet20_bnn / "resnet20-bnn.keras")
    assert np.array_equal(model(x, training=False), again(x, training=False))


@pytest.mark.parametrize("arch", ARCHITECTURES.names())
def test_every_architecture_builds_converts_and_matches(arch, tmp_path):
    manifest = build(BuildRequest("bnn", arch, train=TrainConfig(epochs=0), out=tmp_path))
    audit = manifest["audit"]["lce"]
    assert not manifest["training"]["trained"] and manifest["training"]["history"] == []
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback_macs"] == 0
    assert audit["deploy_graph_vs_keras"]["top1_agreement"] == 1.0  # float64, enforced
    # Untrained parameters are drawn, not identities, so the float parts round differently in
    # TF and TFLite and, without margins, near-threshold bits flip (resnet18_imagenet, seed 0:
    # 98 %): recorded and warned about, not enforced. Untrained disagreements are counted, not
    # attributed, so each one is unexplained and warned about.
    assert not audit["numerics_enforced"] and audit["samples"] == 100
    assert ("numerics_warning" in audit) == (audit["unexplained"] > 0)
    size = ARCHITECTURES.get(arch).input_size
    assert manifest["input_shape"] == [1, size, size, 3]


@pytest.fixture
def temporary_algorithm():
    added = []

    def register(algo):
        ALGORITHMS._items[algo.name] = algo
        added.append(algo.name)
        return algo
    yield register
    for name in added:
        ALGORITHMS._items.pop(name)


def test_audit_shows_a_conversion_that_falls_back_to_float():
    """2 * sign(a) in front of the conv (XNOR's naive form): binary values, float kernel."""
    import larq as lq
    import numpy as np
    import tensorflow as tf
    from bibench_deploy.lce.audit import audit_graph, compare_outputs
    from bibench_deploy.lce.convert import convert, interpret
    from bibench_deploy.lce.flatbuffer import read_graph
    from bibench_deploy.complexity import count_model

    class ScaledSign(lq.quantizers.Quantizer):
        precision = 1

        def call(self, inputs):
            return 2.0 * lq.quantizers.ste_sign(inputs)

    def model(input_quantizer):
        inputs = tf.keras.Input((8, 8, 32))
        x = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, use_bias=False,
                                  input_quantizer=input_quantizer, kernel_quantizer="ste_sign",
                                  name="bconv")(inputs)
        return tf.keras.Model(inputs, x)

    x = np.random.default_rng(0).normal(size=(4, 8, 8, 32)).astype("float32")
    for quantizer, share in (("ste_sign", 1.0), (ScaledSign(), 0.0)):
        keras_model = model(quantizer)
        flatbuffer = convert(keras_model)
        audit = audit_graph(read_graph(flatbuffer), count_model(keras_model)["totals"], None)
        assert audit["binary_macs_expected"] == 8 * 8 * 32 * 9 * 32
        assert audit["binary_mac_share"] == share
        assert audit["float_fallback_macs"] == (1.0 - share) * audit["binary_macs_expected"]
        assert compare_outputs(keras_model(x).numpy(), interpret(flatbuffer, x))["max_abs_diff"] < 1e-3


def test_a_conversion_that_changes_the_model_fails_the_build(temporary_algorithm, tmp_path):
    from bibench_deploy.algorithms.base import Algorithm

    class Ternary(Algorithm):
        """larq's ste_tern as an input quantizer is silently converted to a binary sign."""
        name, title, paper, inference_operator = "ternary_trap", "trap", "", "tern(a) * sign(W)"

        def input_quantizer(self, deploy):
            return "ste_tern"
    temporary_algorithm(Ternary())
    with pytest.raises(ConversionError, match="not explained by float32 rounding"):
        build(BuildRequest("ternary_trap", "resnet20", train=TrainConfig(epochs=1), out=tmp_path))
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.slow
def test_a_few_epochs_on_the_default_dataset_land_clearly_above_chance(tmp_path):
    manifest = build(BuildRequest("bnn", "resnet20", train=TrainConfig(epochs=5), out=tmp_path))
    history = manifest["training"]["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5]
    assert manifest["training"]["test_accuracy"] > 0.5  # chance is 0.1 on ten digits


def test_numerical_check_catches_lce_fusing_explicit_padding_into_a_float_conv():
    """LCE 0.16 turns ZeroPadding2D(1) -> Conv2D(3, stride 2, valid) into one SAME CONV_2D."""
    import numpy as np
    import tensorflow as tf
    from bibench_deploy.lce.audit import compare_outputs, numerics_pass
    from bibench_deploy.lce.convert import convert, interpret
    from bibench_deploy.deploy_graph.deploy import float64_keras
    from bibench_deploy.lce.flatbuffer import read_graph
    from bibench_deploy.lce.verdict import rounding_verdict

    def padded_conv():
        inputs = tf.keras.Input((16, 16, 8))
        x = tf.keras.layers.ZeroPadding2D(1)(inputs)
        x = tf.keras.layers.Conv2D(8, 3, strides=2, padding="valid", use_bias=False)(x)
        return tf.keras.Model(inputs, tf.keras.layers.GlobalAveragePooling2D()(x))

    model = padded_conv()
    with float64_keras():
        model64 = padded_conv()
    model64.set_weights(model.get_weights())
    flatbuffer = convert(model)
    assert read_graph(flatbuffer).histogram() == {"CONV_2D": 1, "MEAN": 1}  # the PAD is gone
    x = np.random.default_rng(0).normal(size=(50, 16, 16, 8)).astype("float32")
    lce = interpret(flatbuffer, x)
    numerics = compare_outputs(model(x).numpy(), lce)
    assert numerics["max_abs_diff"] > 0.01 and not numerics_pass(numerics)
    verdict = rounding_verdict(model64, x, lce)
    assert verdict["sign_quantizers"] == 0
    assert verdict["disagreements"] == verdict["unexplained"] == 50
