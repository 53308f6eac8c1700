"""Which model files a run plans: one model directory per model name."""

from __future__ import annotations

import shutil

import pytest

from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.plan import load_models
from tests.fleet.helpers import placeholder_model_dir


def test_two_directories_with_one_model_name_are_refused_naming_both(tmp_path):
    models = tmp_path / "models"
    original = placeholder_model_dir(models, "tiny-bnn", with_dab=False)
    backup = models / "tiny-bnn.backup"
    shutil.copytree(original, backup)
    with pytest.raises(FleetError) as raised:
        load_models(models)
    message = str(raised.value)
    assert str(original) in message and str(backup) in message and "'tiny-bnn'" in message


def test_distinct_names_each_get_their_files(tmp_path):
    models = tmp_path / "models"
    placeholder_model_dir(models, "tiny-a", with_dab=True)
    placeholder_model_dir(models, "tiny-b", with_dab=False, manifest_name="tiny-b")
    files = load_models(models)
    assert sorted({(m.name, m.artefact) for m in files}) == [
        ("tiny-a", "dabnn"), ("tiny-a", "fp32"), ("tiny-a", "lce"),
        ("tiny-b", "dabnn"), ("tiny-b", "fp32"), ("tiny-b", "lce")]
