"""Network architectures: one registered builder each, taking any algorithm.

BiBench's layer policy: full-precision stem, full-precision 1x1 downsample shortcuts and
classifier; every 3x3 conv inside a block is binarized; BatchNorm after every conv.
"""

from __future__ import annotations

from bibench_deploy.architectures.base import Architecture
from bibench_deploy.registry import Registry, import_plugins

ARCHITECTURES: Registry[Architecture] = Registry("architecture")

_NOT_ARCHITECTURES = {"base"}


def get_architecture(name: str) -> Architecture:
    return ARCHITECTURES.get(name)


import_plugins(__name__, __path__, _NOT_ARCHITECTURES)

__all__ = ["ARCHITECTURES", "Architecture", "get_architecture"]
