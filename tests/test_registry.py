import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.data import DATASETS
from bibench_deploy.errors import UnknownNameError
from bibench_deploy.registry import Registry


def test_lookup_returns_registered_item():
    registry = Registry("thing")
    registry.register("alpha", 1)
    assert registry.get("alpha") == 1
    assert "alpha" in registry and list(registry) == ["alpha"]


def test_unknown_name_suggests_the_closest():
    registry = Registry("thing")
    registry.register("resnet18", 1)
    registry.register("vgg_small", 2)
    with pytest.raises(UnknownNameError, match="unknown thing 'resnet81': did you mean 'resnet18'"):
        registry.get("resnet81")


def test_unknown_name_without_close_match_lists_choices():
    registry = Registry("thing")
    registry.register("a", 1)
    with pytest.raises(UnknownNameError) as err:
        registry.get("zzzzzz")
    assert "did you mean" not in str(err.value) and "choose one of a" in str(err.value)


def test_double_registration_is_refused():
    registry = Registry("thing")
    registry.register("a", 1)
    with pytest.raises(ValueError):
        registry.register("a", 2)


def test_glob_listing():
    assert ARCHITECTURES.names("resnet*") == ["resnet18", "resnet18_imagenet", "resnet20",
                                              "resnet20_bibench", "resnet34"]


def test_project_registries_hold_the_basics():
    assert {"bnn", "dorefa"} <= set(ALGORITHMS.names())
    assert {"resnet18", "resnet20", "resnet34", "vgg_small", "resnet18_imagenet"} <= set(ARCHITECTURES)
    assert {"sklearn-digits-32", "cifar10"} <= set(DATASETS)


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_algorithm_name_matches_registration(name):
    algo = ALGORITHMS.get(name)
    assert algo.name == name and algo.title and algo.inference_operator
