import json

import pytest

from bibench_deploy.errors import ManifestError
from bibench_deploy.manifest import (SCHEMA_VERSION, artefact_entry, artefact_path,
                                     find_model_dirs, load_manifest, sha256_file, write_manifest)


def make_manifest(model_dir, name="resnet20-bnn"):
    model_dir.mkdir(parents=True)
    flat = model_dir / f"{name}.tflite"
    flat.write_bytes(b"abc")
    manifest = {"schema_version": SCHEMA_VERSION, "name": name, "arch": "resnet20", "algo": "bnn",
                "input_shape": [1, 32, 32, 3], "artefacts": {"lce": artefact_entry(model_dir, flat)},
                "audit": {"lce": {"binary_mac_share": 1.0}}}
    write_manifest(model_dir, manifest)
    return manifest


def test_round_trip(tmp_path):
    manifest = make_manifest(tmp_path / "resnet20-bnn")
    assert load_manifest(tmp_path / "resnet20-bnn") == manifest


def test_artefact_entry_hashes_the_bytes(tmp_path):
    manifest = make_manifest(tmp_path / "m")
    entry = manifest["artefacts"]["lce"]
    assert entry == {"path": "resnet20-bnn.tflite", "bytes": 3,
                     "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    assert artefact_path(tmp_path / "m", manifest, "lce").read_bytes() == b"abc"
    assert sha256_file(tmp_path / "m" / "resnet20-bnn.tflite") == entry["sha256"]


def test_missing_artefact_kind(tmp_path):
    manifest = make_manifest(tmp_path / "m")
    with pytest.raises(ManifestError, match="no 'fp32' artefact"):
        artefact_path(tmp_path / "m", manifest, "fp32")


def test_find_model_dirs_filters_by_glob(tmp_path):
    make_manifest(tmp_path / "resnet20-bnn")
    make_manifest(tmp_path / "vgg_small-bnn", "vgg_small-bnn")
    (tmp_path / "not-a-model").mkdir()
    assert [p.name for p in find_model_dirs(tmp_path)] == ["resnet20-bnn", "vgg_small-bnn"]
    assert [p.name for p in find_model_dirs(tmp_path, "resnet*")] == ["resnet20-bnn"]


@pytest.mark.parametrize("content,message", [
    (None, "no manifest"),
    ("{not json", "not valid JSON"),
    (json.dumps({"schema_version": 1}), "missing keys name"),
    (json.dumps({"schema_version": 99, "name": "x", "arch": "a", "algo": "b", "input_shape": [],
                 "artefacts": {}}), "schema_version 99"),
])
def test_bad_manifests_say_what_is_wrong(tmp_path, content, message):
    if content is not None:
        (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path)


@pytest.mark.parametrize("relative", ["../outside.tflite", "/etc/passwd", "sub/../../x.tflite",
                                      "", 7])
def test_an_artefact_path_that_leaves_the_model_dir_is_refused(tmp_path, relative):
    model_dir = tmp_path / "models" / "m"
    model_dir.mkdir(parents=True)
    with pytest.raises(ManifestError, match="leaves the model directory"):
        artefact_path(model_dir, {"artefacts": {"lce": {"path": relative}}}, "lce")


def test_a_linked_artefact_is_refused_not_followed(tmp_path):
    outside = tmp_path / "secret.tflite"
    outside.write_bytes(b"x")
    model_dir = tmp_path / "models" / "m"
    (model_dir / "sub").mkdir(parents=True)
    (model_dir / "m.tflite").symlink_to(outside)
    (model_dir / "linked").symlink_to(tmp_path)
    for relative in ("m.tflite", "linked/secret.tflite"):
        with pytest.raises(ManifestError, match="is a link"):
            artefact_path(model_dir, {"artefacts": {"lce": {"path": relative}}}, "lce")
    (model_dir / "sub" / "m.tflite").write_bytes(b"y")
    assert artefact_path(model_dir, {"artefacts": {"lce": {"path": "sub/m.tflite"}}},
                         "lce") == model_dir / "sub" / "m.tflite"


@pytest.mark.parametrize("key, value", [("name", "m\n[00:01] host: forged ok"), ("arch", "a\rb"),
                                        ("algo", "x" * 129), ("name", ""), ("name", 5),
                                        ("algo", "bell\x07")])
def test_a_name_that_is_not_one_printable_line_is_refused(tmp_path, key, value):
    manifest = make_manifest(tmp_path / "m")
    write_manifest(tmp_path / "m", {**manifest, key: value})
    with pytest.raises(ManifestError, match=f"{key} .* is not one printable line"):
        load_manifest(tmp_path / "m")
