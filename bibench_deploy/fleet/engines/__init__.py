"""Engines: one runner module each, with a pure `parse(stdout)`."""

from __future__ import annotations

from bibench_deploy.fleet.engines import dabnn, lce_benchmark_model, lce_interpreter
from bibench_deploy.registry import Registry

ENGINES: Registry = Registry("engine")
ENGINES.register(lce_interpreter.NAME, lce_interpreter)
ENGINES.register(lce_benchmark_model.NAME, lce_benchmark_model)
ENGINES.register(dabnn.NAME, dabnn)
