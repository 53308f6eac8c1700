"""Help-text conventions: flags show no value placeholder, arguments read as in click (RUN_DIR).

Typer's rich help prints `<bool>` after flags (which take no value: `--force`, not
`--force true`) and wraps required arguments as `{run_dir}` in the usage line.
"""

from __future__ import annotations

from typer import core


def _flag_type(original):
    def display_type_rich(self, ctx):
        return None if self.is_flag else original(self, ctx)
    return display_type_rich


def _usage_name(self) -> str:
    name = (self.metavar or self.name or "").upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def apply() -> None:
    if getattr(core.TyperOption, "_bibench_style", False):
        return
    core.TyperOption.display_type_rich = _flag_type(core.TyperOption.display_type_rich)
    core.TyperArgument._usage_display_name = _usage_name
    core.TyperOption._bibench_style = True
