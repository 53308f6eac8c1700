"""Command-line entry point. Commands import their heavy dependencies lazily.

Exit codes (the same for every command, documented in the README):
0 success; 1 the work failed or found a problem (a model, a device, a conversion, a file);
2 the command line is wrong (unknown option or name, missing, malformed or out-of-range value,
a path that does not exist); 130 interrupted. Every error is one line on stderr, `error: ...`.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from bibench_deploy import __version__
from bibench_deploy.cli import helpstyle
from bibench_deploy.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, BibenchError

PROG = "bibench-deploy"

app = typer.Typer(
    name=PROG,
    help="Binarized neural networks from training to measured latency on edge hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
helpstyle.apply()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


def _register() -> None:
    from bibench_deploy.cli import (add, algos, build, convert, devices,  # noqa: F401
                                    engines, import_checkpoint, report, run)


def error_line(message: str) -> None:
    """The one line every error is printed as."""
    from rich.console import Console
    from rich.markup import escape
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]error:[/red] {escape(message)}")


def run_app(args: Optional[list[str]] = None) -> int:
    """Run the CLI on `args` and return its exit code (the scheme of this module's docstring)."""
    from typer._click import exceptions as click_errors
    from bibench_deploy.cli.logs import route_library_logs
    _register()
    route_library_logs()
    _interrupt_on_termination()
    command = typer.main.get_command(app)
    try:
        code = command.main(args, prog_name=PROG, standalone_mode=False)
        return code if isinstance(code, int) else EXIT_OK
    except click_errors.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help())
        return EXIT_OK
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else PROG
        error_line(f"{exc.format_message()} (see '{where} --help')")
        return EXIT_USAGE
    except click_errors.ClickException as exc:
        error_line(exc.format_message())
        return exc.exit_code
    except BibenchError as exc:
        error_line(str(exc))
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        error_line("interrupted")
        return EXIT_INTERRUPTED


def _interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP (a closed terminal, `kill`) stop a command as Ctrl-C does, so a
    build removes its staging directory and a run journals what it finished."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupt)


def main() -> None:
    sys.exit(run_app())
