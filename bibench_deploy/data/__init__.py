"""Datasets: read from local files or from installed packages, never downloaded at run time."""

from bibench_deploy.data.base import DATASETS, Dataset, load_dataset
from bibench_deploy.data import cifar10, digits  # noqa: F401  (register)

__all__ = ["DATASETS", "Dataset", "load_dataset"]
