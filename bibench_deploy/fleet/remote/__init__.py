"""Scripts the tool pushes to devices. Each is self-contained: standard library, numpy and the
engine's own extension module only."""

from pathlib import Path

LCE_RUNNER = Path(__file__).with_name("lce_runner.py")
