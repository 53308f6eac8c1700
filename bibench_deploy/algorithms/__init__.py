"""The binarization algorithms: one module each, registered in `ALGORITHMS` on import.

Adding an algorithm = adding a module here that subclasses `Algorithm` and calls
`ALGORITHMS.register(name, instance)`. Every module in this package is imported below.
"""

from __future__ import annotations

import importlib
import pkgutil

from bibench_deploy.algorithms.base import FP32, Algorithm, DabnnSupport
from bibench_deploy.registry import Registry

ALGORITHMS: Registry[Algorithm] = Registry("algorithm")

_NOT_ALGORITHMS = {"base", "fourier", "layers", "quantizers", "schedules"}


def _import_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_ALGORITHMS and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def get_algorithm(name: str) -> Algorithm:
    return ALGORITHMS.get(name)


_import_all()

__all__ = ["ALGORITHMS", "FP32", "Algorithm", "DabnnSupport", "get_algorithm"]
