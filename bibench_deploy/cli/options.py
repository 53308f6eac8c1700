"""Options shared by commands, and the checks every command applies to its paths.

One vocabulary: `--models-dir` is the built-models directory (every command), `--reports-dir`
the directory that holds fleet runs, `--out` the output file or directory of the command itself
(`convert`, `report`). Older spellings still work and print a deprecation note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, TypeVar

import typer

from bibench_deploy.errors import UsageError

T = TypeVar("T")
MODELS_DIR = Path("models")
REPORTS_DIR = Path("reports")


def models_dir_option(help: str = "Directory of built models.") -> Path:
    return typer.Option(MODELS_DIR, "--models-dir", help=help)


def deprecated_option(old: str) -> Optional[Path]:
    """A hidden old spelling, kept for scripts; see `renamed`."""
    return typer.Option(None, old, hidden=True)


def renamed(new_value: T, old_value: Optional[T], new: str, old: str, default: T) -> T:
    """The value of an option that was renamed from `old` to `new`; the old one prints a note."""
    if old_value is None:
        return new_value
    if new_value != default and new_value != old_value:
        raise UsageError(f"{old} is the old name of {new}; give only {new}")
    note(f"{old} is deprecated here and will be removed; use {new} {old_value}")
    return old_value


def note(text: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[yellow]note:[/yellow] {escape(text)}")


def existing_dir(path: Path, option: str) -> Path:
    if not path.exists():
        raise UsageError(f"{option} {path} does not exist")
    if not path.is_dir():
        raise UsageError(f"{option} {path} is not a directory")
    return path


def writable_file(path: Path, option: str) -> Path:
    """An output file: its directory must exist and it must not be a directory itself."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: directory {parent} does not exist; create it first")
    return path


def names(text: Optional[str]) -> Optional[list[str]]:
    """A comma-separated list (device names, tag:<tag>); None when empty."""
    values = [n.strip() for n in text.split(",") if n.strip()] if text else []
    return values or None
