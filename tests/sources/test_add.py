"""`add`: saved Larq models, flatbuffers and .dab files become model directories like `build`'s."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bibench_deploy.manifest import artefact_path, load_manifest, sha256_file
from bibench_deploy.sources.add import AddRequest, add
from tests.sources.larq_models import (binary_dense_net, float_net, quicknet_like,
                                        randomise_batchnorm)

pytestmark = pytest.mark.converts


def _saved(model, path: Path) -> Path:
    model.save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def small(models, tmp_path_factory) -> dict[str, dict]:
    """A model with a binary dense layer, one without quantizers: fast to convert."""
    import tensorflow as tf
    root = tmp_path_factory.mktemp("sources")
    tf.keras.backend.clear_session()  # layer names as in a fresh process (quant_dense)
    tf.keras.utils.set_random_seed(0)
    sources = {"dense": _saved(randomise_batchnorm(binary_dense_net()), root / "dense.h5"),
               "float": _saved(float_net(), root / "float_net.keras")}
    return {kind: add(AddRequest(path, out=models)) for kind, path in sources.items()}


@pytest.fixture(scope="module")
def quicknet(models, tmp_path_factory) -> tuple[Path, dict]:
    import tensorflow as tf
    tf.keras.backend.clear_session()  # layer names as in a fresh process (quant_dense)
    tf.keras.utils.set_random_seed(0)
    path = _saved(randomise_batchnorm(quicknet_like()),
                  tmp_path_factory.mktemp("quicknet") / "quicknet_like.keras")
    return path, add(AddRequest(path, out=models))


@pytest.mark.slow
def test_quicknet_like_runs_every_binarized_mac_in_lce_bconv2d(quicknet, models):
    source, manifest = quicknet
    audit = manifest["audit"]["lce"]
    assert audit["binary_mac_share"] == 1.0
    assert audit["op_histogram"]["LceBconv2d"] == 4  # two sections of two residual blocks
    assert audit["float_fallback"]["layers"] == [] and audit["float_fallback_macs"] == 0
    assert audit["numerics_enforced"] and audit["top1_agreement"] == 1.0
    assert manifest["source"]["kind"] == "added"
    assert manifest["source"]["sha256"] == sha256_file(source)
    assert load_manifest(models / "quicknet_like")["name"] == "quicknet_like"
    assert (manifest["arch"], manifest["algo"]) == ("quicknet_like", "added")


@pytest.mark.slow
def test_complexity_agrees_with_larq_summary(quicknet):
    complexity = quicknet[1]["complexity"]
    totals, larq = complexity["totals"], complexity["larq_summary"]
    assert totals["bops"] == larq["binary_macs"] > 0
    assert totals["mac_flops"] == larq["float32_macs"] > 0  # depthwise convs counted too
    assert complexity["uncounted"] == []
    assert totals["r_s"] == pytest.approx(totals["fp32_flops"] / (totals["bops"] / 64
                                                                  + totals["flops"]))
    assert "Ratio of MACs that are binarized" in larq["summary_text"]


@pytest.mark.slow
def test_fp32_twin_has_no_quantizers_and_the_same_weights(quicknet, models):
    from bibench_deploy.sources.add_keras import load_keras
    from bibench_deploy.sources.fp32_twin import fp32_twin
    source, manifest = quicknet
    fp32 = manifest["audit"]["fp32"]
    assert fp32["baseline"] == ("auto: 8 quantizers removed from 4 layers: input_quantizer "
                                "SteSign x4, kernel_quantizer SteSign x4")
    assert not any(op.startswith("Lce") for op in fp32["op_histogram"])
    assert fp32["top1_agreement"] == 1.0
    model = load_keras(source)
    twin, removed = fp32_twin(model)
    assert len(removed) == 8
    for layer in twin.layers:
        for key in ("input_quantizer", "kernel_quantizer", "depthwise_quantizer"):
            assert getattr(layer, key, None) is None
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    fp32_path = artefact_path(models / "quicknet_like", manifest, "fp32")
    assert fp32_path.stat().st_size > artefact_path(models / "quicknet_like", manifest,
                                                    "lce").stat().st_size


def test_binary_dense_layer_is_named_as_float_fallback(small):
    audit = small["dense"]["audit"]["lce"]
    fallback = audit["float_fallback"]
    assert [(e["layer"], e["op"]) for e in fallback["layers"]] == [("quant_dense",
                                                                    "FULLY_CONNECTED")]
    assert fallback["macs"] == 4 * 4 * 32 * 64
    assert fallback["bytes"] == (4 * 4 * 32 + 1) * 64 * 4  # float32 weights, folded BN bias
    assert audit["binary_mac_share"] == pytest.approx(1 - fallback["macs"] / audit[
        "binary_macs_expected"])
    line = fallback["line"]
    assert line.startswith("float fallback: 1 binarized layer(s) run as float FULLY_CONNECTED "
                           "(quant_dense): 32,768 MACs, 131,328 B of weights")
    assert "1x1 binary QuantConv2D" in line


def test_model_without_quantizers_warns_nothing_is_binarized(small):
    manifest = small["float"]
    assert any("nothing is binarized" in w for w in manifest["audit"]["warnings"])
    assert manifest["audit"]["lce"]["binary_mac_share"] is None
    assert manifest["audit"]["fp32"]["baseline"].startswith("auto: no quantizers to remove")


def test_tflite_alone_has_unknown_theory_and_its_own_bytes(tmp_path):
    import larq_compute_engine as lce
    from tests.fleet.tiny_models import _keras_model
    source = tmp_path / "tiny.tflite"
    source.write_bytes(lce.convert_keras_model(_keras_model(True, 16, 32)))
    manifest = add(AddRequest(source, name="tiny-tflite", out=tmp_path / "models"))
    assert "unknown" in manifest["complexity"] and "totals" not in manifest["complexity"]
    assert set(manifest["artefacts"]) == {"lce"}
    assert manifest["artefacts"]["lce"]["sha256"] == sha256_file(source)
    assert manifest["source"]["sha256"] == sha256_file(source)
    assert manifest["audit"]["lce"]["op_histogram"]["LceBconv2d"] == 2
    assert manifest["input_shape"] == [1, 16, 16, 3]
    assert (manifest["arch"], manifest["algo"]) == ("tiny", "tflite")
    # named ARCH-ALGO, `algos` reads it like a build, with '?' where the file alone says nothing
    from bibench_deploy.reports.deployability import collect
    add(AddRequest(source, name="resnet18-bnn", out=tmp_path / "models"))
    row = next(r for r in collect(tmp_path / "models", "resnet18") if r.algo == "bnn")
    cells = row.cells()
    assert cells[2] == "LceBconv2d x2, LceQuantize x1" and cells[3] == "?" and cells[6] == "?"


def test_dab_alone(tmp_path):
    from bibench_deploy.dabnn.convert import convert_onnx
    from tests.dabnn.onnx_graphs import binary_conv_graph
    dab = tmp_path / "one_conv.dab"
    dab.write_bytes(convert_onnx(binary_conv_graph(64, 64, size=6)).model.to_bytes())
    manifest = add(AddRequest(dab, out=tmp_path / "models"))
    assert set(manifest["artefacts"]) == {"dabnn"}
    assert manifest["audit"]["dabnn"]["layer_histogram"]["BinConv2D"] == 1
    assert manifest["input_shape"] == [1, 6, 6, 64]
    assert "unknown" in manifest["complexity"]
    assert json.loads((tmp_path / "models" / "one_conv" / "manifest.json").read_text()) == manifest


@pytest.mark.parametrize("config,name", [
    ("ste_sign", "ste_sign"),
    ({"class_name": "SteSign", "config": {"clip_value": 1.25}}, "SteSign"),
    ({"module": "builtins", "class_name": "function", "config": "xnor_weight_scale"},
     "xnor_weight_scale"),  # a function registered by larq-zoo, as a .keras file stores it
])
def test_removed_quantizers_are_named_as_saved(config, name):
    from bibench_deploy.sources.fp32_twin import quantizer_name
    assert quantizer_name(config) == name


def test_free_input_dimensions_need_input_shape(tmp_path):
    import tensorflow as tf
    from bibench_deploy.errors import BibenchError
    inputs = tf.keras.Input((None, None, 3))
    x = tf.keras.layers.GlobalAveragePooling2D()(tf.keras.layers.Conv2D(4, 3)(inputs))
    path = _saved(tf.keras.Model(inputs, tf.keras.layers.Dense(2)(x)), tmp_path / "free.keras")
    with pytest.raises(BibenchError, match="free dimensions; pass --input-shape H,W,C"):
        add(AddRequest(path, out=tmp_path / "models"))
    with pytest.raises(BibenchError, match="does not fit the model's input"):
        add(AddRequest(path, input_shape=(8, 8, 1), out=tmp_path / "models"))
    manifest = add(AddRequest(path, input_shape=(12, 10, 3), out=tmp_path / "models"))
    assert manifest["input_shape"] == [1, 12, 10, 3]
    assert manifest["audit"]["lce"]["top1_agreement"] == 1.0


def test_add_judges_lce_with_the_numerical_verdict(small):
    audit = small["dense"]["audit"]["lce"]
    assert audit["reference"] == "the Keras model in float64"
    assert audit["unexplained"] == 0 and audit["numerics_enforced"]
    assert audit["sign_quantizers"] == 2  # the binary conv's and the binary dense layer's


def test_logits_off_beyond_rounding_fail_the_verdict_at_full_top1(tmp_path):
    """A flatbuffer of the model with every classifier bias moved by 0.1: top-1 agrees on every
    image (the old 99 % rule passed it), the logits differ beyond float32 rounding, and the
    verdict counts each image as an unexplained disagreement (the twin, converted from itself,
    passes: recorded as not enforced, with the warning)."""
    import tensorflow as tf
    from bibench_deploy.sources.add_keras import check_numerics
    from bibench_deploy.lce.convert import convert
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(0)
    model = randomise_batchnorm(binary_dense_net())
    shifted = tf.keras.models.clone_model(model)
    weights = model.get_weights()
    shifted.set_weights(weights[:-1] + [weights[-1] + 0.1])
    x = np.random.default_rng(0).standard_normal((20, 16, 16, 3)).astype(np.float32)
    warnings = []
    numerics = check_numerics(model, convert(shifted), x, "shifted", warnings)
    assert numerics["top1_agreement"] == 1.0
    assert numerics["unexplained"] == 20 and not numerics["numerics_enforced"]
    assert warnings and "20 of 20 disagreements" in warnings[0]
    assert check_numerics(model, convert(model), x, "same", [])["numerics_enforced"]


def test_a_conversion_that_changes_the_model_stops_add(tmp_path):
    """LCE converts larq's ste_tern input quantizer as a binary sign (wrong outputs): the
    numerical check must catch it, on the model and on its randomised-BatchNorm twin."""
    import larq as lq
    import tensorflow as tf
    from bibench_deploy.errors import ConversionError
    tf.keras.backend.clear_session()  # layer names as in a fresh process (quant_dense)
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((8, 8, 3))
    x = tf.keras.layers.Conv2D(16, 3, padding="same")(inputs)
    x = lq.layers.QuantConv2D(16, 3, padding="same", pad_values=1.0, use_bias=False,
                              input_quantizer=lq.quantizers.SteTern(threshold_value=0.5),
                              kernel_quantizer="ste_sign")(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(tf.keras.layers.BatchNormalization()(x))
    path = _saved(tf.keras.Model(inputs, tf.keras.layers.Dense(10)(x)), tmp_path / "tern.keras")
    with pytest.raises(ConversionError, match="the converter changed the model's meaning"):
        add(AddRequest(path, out=tmp_path / "models"))
    assert not (tmp_path / "models" / "tern").exists()


# Operators of larq-zoo 2.4.0's QuickNetSmall (weights=None, 224x224) as the LCE converter wrote
# them: 4 sections of 4 residual blocks, a 3-conv stem, 3 transitions, pooled dense head.
ZOO_QUICKNET_SMALL_OPS = {"ADD": 16, "AVERAGE_POOL_2D": 1, "CONV_2D": 5, "DEPTHWISE_CONV_2D": 4,
                          "FULLY_CONNECTED": 1, "LceBconv2d": 16, "LceQuantize": 16,
                          "MAX_POOL_2D": 3, "SOFTMAX": 1}


@pytest.mark.slow
def test_quicknet_like_at_quicknet_depth_converts_to_the_zoo_models_operators(tmp_path):
    import tensorflow as tf
    tf.keras.backend.clear_session()  # layer names as in a fresh process (quant_dense)
    tf.keras.utils.set_random_seed(0)
    model = quicknet_like(size=64, blocks=4, filters=(16, 32, 64, 128))
    path = _saved(randomise_batchnorm(model), tmp_path / "deep.keras")
    manifest = add(AddRequest(path, fp32="none", out=tmp_path / "models"))
    audit = manifest["audit"]["lce"]
    assert audit["op_histogram"] == ZOO_QUICKNET_SMALL_OPS
    assert audit["binary_mac_share"] == 1.0 and audit["float_fallback"]["layers"] == []
