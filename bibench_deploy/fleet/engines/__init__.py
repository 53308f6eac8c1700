"""Engines: one module each, defining an `Engine` subclass (engines/base.py) with a pure
`parse(stdout)`, and its instance `ENGINE`.

`ENGINES` is the one list of engine names (the fleet file's `engines:` keys are checked against
it). Adding an engine = its module + one `_register` line below.
"""

from __future__ import annotations

from importlib import import_module

from bibench_deploy.fleet.engines.base import Engine
from bibench_deploy.registry import Registry

ENGINES: Registry[Engine] = Registry("engine")


def _register(module: str) -> None:
    engine = import_module(f"{__name__}.{module}").ENGINE
    ENGINES.register(engine.NAME, engine)


_register("lce_interpreter")
_register("lce_benchmark_model")
_register("dabnn")
_register("litert")
