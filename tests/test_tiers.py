"""The unit tier stays one: `make test`'s parts select every test once, its markers are declared."""

from __future__ import annotations

import itertools
import re
import tomllib

from _pytest.mark.expression import Expression

from tests.conftest import ROOT
from tests.tiers import REASONS, UNIT


def make_test_parts() -> dict[str, str]:
    """Each prerequisite of the Makefile's `test` target that runs pytest, and the `-m`
    expression it runs (system-deps, which installs, runs none)."""
    makefile = (ROOT / "Makefile").read_text()
    parts = re.search(r"^test:(.*)$", makefile, re.M).group(1).split()
    found = {part: re.search(rf"^{part}:.*\n(?:\t.*\n)*?\t.* -m (\"[^\"]*\"|\S+)", makefile,
                             re.M) for part in parts}
    return {part: match.group(1).strip('"') for part, match in found.items() if match}


def marker_sets():
    """Every combination of the tier's markers a test can carry: `unit` exactly when no reason."""
    for carried in itertools.product((False, True), repeat=len(REASONS)):
        reasons = {name for name, on in zip(REASONS, carried) if on}
        yield reasons or {UNIT}


def test_make_test_runs_every_test_exactly_once():
    parts = {part: Expression.compile(expr) for part, expr in make_test_parts().items()}
    assert "test-unit" in parts, parts
    for markers in marker_sets():
        chosen = [part for part, expr in parts.items()
                  if expr.evaluate(lambda name, **_: name in markers)]
        assert len(chosen) == 1, f"a test marked {sorted(markers)} runs in {chosen}"


def test_the_tiers_markers_are_declared():
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = {line.split(":")[0] for line in markers["markers"]}
    assert {UNIT, *REASONS} <= declared
