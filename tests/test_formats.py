"""The table of artefact formats: consistent with the engines, and looked up by key or file."""

import pytest

from bibench_deploy import formats
from bibench_deploy.errors import UnknownNameError
from bibench_deploy.fleet.engines import ENGINES

FORMATS = formats.FORMATS


def test_keys_and_suffixes_are_unique():
    assert len({f.key for f in FORMATS}) == len(FORMATS)
    assert len({f.suffix for f in FORMATS}) == len(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_every_engine_named_is_registered(fmt):
    for engine in fmt.engines:
        assert engine in ENGINES


@pytest.mark.parametrize("engine", ENGINES.names())
def test_engines_run_what_the_table_says(engine):
    assert ENGINES.get(engine).ARTEFACTS == formats.run_by(engine)
    assert formats.run_by(engine), f"{engine} runs no format"


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.engines and f.variant == "binary"],
                         ids=lambda f: f.key)
def test_every_measured_binary_format_pairs_with_an_fp32_format(fmt):
    twin = formats.get(fmt.fp32_twin)
    assert twin.variant == "fp32" and twin.engines


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_every_entry_is_described(fmt):
    assert fmt.variant in formats.VARIANTS
    assert fmt.label and fmt.description and fmt.verified
    assert not fmt.fp32_twin or formats.get(fmt.fp32_twin).variant == "fp32"


def test_the_manifest_keys():
    assert [f.key for f in FORMATS] == ["lce", "fp32", "keras", "onnx", "dabnn", "onnx_fp32"]
    assert [f.key for f in formats.measured()] == ["lce", "fp32", "dabnn"]
    assert formats.run_by("lce_interpreter") == ("lce", "fp32")
    assert formats.run_by("dabnn") == ("dabnn",)


def test_lookup_by_key():
    lce = formats.get("lce")
    assert (lce.suffix, lce.variant, lce.fp32_twin) == (".tflite", "binary", "fp32")
    assert lce.file_name("resnet20-bnn") == "resnet20-bnn.tflite"
    assert formats.get("fp32").file_name("resnet20-bnn") == "resnet20-bnn-fp32.tflite"


@pytest.mark.parametrize("name, key", [
    ("resnet20-bnn.tflite", "lce"), ("models/m/resnet20-bnn-fp32.tflite", "fp32"),
    ("m.dab", "dabnn"), ("m.onnx", "onnx"), ("m-fp32.onnx", "onnx_fp32"), ("m.keras", "keras")])
def test_lookup_by_file(name, key):
    assert formats.for_path(name).key == key


def test_an_unknown_key_names_the_choices():
    with pytest.raises(UnknownNameError, match=r"unknown artefact format 'dab': .*choose one of "
                                               r"dabnn, fp32, keras, lce, onnx, onnx_fp32"):
        formats.get("dab")


def test_an_unknown_suffix_names_the_choices():
    with pytest.raises(UnknownNameError, match=r"m\.h5: no artefact format has its suffix; "
                                               r"choose one of \.tflite, -fp32\.tflite"):
        formats.for_path("m.h5")
    with pytest.raises(UnknownNameError):
        formats.for_path(".tflite")  # a suffix alone names no model


def test_dabnn_borrows_its_fp32_twin_and_lce_measures_its_own():
    assert formats.twin_is_borrowed("dabnn")
    assert not formats.twin_is_borrowed("lce")
    assert not formats.twin_is_borrowed("fp32")  # an FP32 format has no twin
