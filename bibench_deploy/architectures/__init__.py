"""Network architectures: one registered builder each, taking any algorithm.

BiBench's layer policy: full-precision stem, full-precision 1x1 downsample shortcuts and
classifier; every 3x3 conv inside a block is binarized; BatchNorm after every conv.
"""

from __future__ import annotations

import importlib
import pkgutil

from bibench_deploy.architectures.base import Architecture
from bibench_deploy.registry import Registry

ARCHITECTURES: Registry[Architecture] = Registry("architecture")

_NOT_ARCHITECTURES = {"base"}


def _import_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_ARCHITECTURES and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def get_architecture(name: str) -> Architecture:
    return ARCHITECTURES.get(name)


_import_all()

__all__ = ["ARCHITECTURES", "Architecture", "get_architecture"]
