"""The binarization algorithms: one module each, registered in `ALGORITHMS` on import.

Adding an algorithm = adding a module here that subclasses `Algorithm` and calls
`ALGORITHMS.register(name, instance)`. Every module in this package is imported below.
"""

from __future__ import annotations

from bibench_deploy.algorithms.base import FP32, Algorithm, DabnnSupport
from bibench_deploy.registry import Registry, import_plugins

ALGORITHMS: Registry[Algorithm] = Registry("algorithm")

_NOT_ALGORITHMS = {"base", "fourier", "layers", "quantizers", "schedules"}


def get_algorithm(name: str) -> Algorithm:
    return ALGORITHMS.get(name)


import_plugins(__name__, __path__, _NOT_ALGORITHMS)

__all__ = ["ALGORITHMS", "FP32", "Algorithm", "DabnnSupport", "get_algorithm"]
