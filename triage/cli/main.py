"""Entry point: builds the Typer app from every command module and maps errors to exit codes.

Each module in `triage.cli` (other than this one and `common`) defines `register(app)`; they are
found automatically, so adding a command group never means editing a central list. A duplicate
command name fails loudly when the whole app is built (`app`, `--help`, any name not a module's).
`dalil NAME ...` where NAME is also a module's name (`parse`, `case`, ...) imports only that module
when it registers NAME: a command does not pay for importing every other command's libraries.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python -m triage.cli.main`: as the `dalil` program starts (launch.py)
    from triage.cli.launch import early

    early(sys.argv[1:])

import importlib  # noqa: E402 - after the early start above
import pkgutil  # noqa: E402
import traceback  # noqa: E402
from typing import Annotated, Any  # noqa: E402

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402
from typer.exceptions import TyperException  # noqa: E402

from .. import __version__  # noqa: E402
from ..core import invocation  # noqa: E402
from ..core.errors import DalilError  # noqa: E402
from . import command_of, common  # noqa: E402


class DalilGroup(TyperGroup):
    """Records the command line, and turns errors into one clear line and an exit code."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        if parent is None:
            invocation.set_command_line(list(args))
            common.STATE.debug = "--debug" in args
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except DalilError as exc:
            if common.STATE.debug:
                traceback.print_exc()
            common.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            common.error("interrupted: the case is left consistent (ledger entries are written whole)")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug or an unforeseen input: still one line, details with --debug
            if common.STATE.debug:
                traceback.print_exc()
            common.error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            raise typer.Exit(1) from None


_app = typer.Typer(
    cls=DalilGroup,
    name="dalil",
    help="Dalil (دليل): forensic triage, web capture of advertisements, and court bundles with a signed chain of custody.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dalil {__version__}")
        raise typer.Exit(0)


@_app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Dalil (دليل, "evidence")."""
    common.STATE.debug = debug


_registered: set[str] = set()  # modules whose register(app) ran


def _register(name: str) -> None:
    if name not in _registered:
        _registered.add(name)
        register = getattr(importlib.import_module(f"{__package__}.{name}"), "register", None)
        if register is not None:
            register(_app)


def _names() -> list[str]:
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in _app.registered_commands]
    return names + [g.name or "" for g in _app.registered_groups]


def _command_modules() -> list[str]:
    """The modules of `triage.cli` that may register commands (all but this one, `common` and `_*`)."""
    package = sys.modules[__package__]
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__)
                  if info.name not in ("main", "common") and not info.name.startswith("_"))


def _register_all() -> None:
    for name in _command_modules():
        _register(name)
    names = _names()
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"duplicate dalil command names: {sorted(dupes)}")


def _register_for(args: list[str]) -> None:
    """Only the module named like the command, when it registers that command; else every module."""
    name = command_of(args)
    if name in _command_modules():
        _register(name)
        if name in _names():
            return
    _register_all()


def __getattr__(attr: str) -> Any:
    """`app`: the whole Typer app, every command registered (for tests and embedding)."""
    if attr == "app":
        _register_all()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def main() -> None:
    """Console-script entry point.

    Output to a reader that went away (`dalil log | head`) is dropped, and the command still runs to
    its end: its ledger entries are written and its exit code is its own (a failed verify stays 1).
    The process then ends without the interpreter's teardown (`_exit.leave`).
    """
    sys.stdout = _PipeSafe(sys.stdout)  # type: ignore[assignment]
    _register_for(sys.argv[1:])
    try:
        _app()
    except SystemExit as stop:  # how Typer ends every command, with its exit status
        if stop.code is None or isinstance(stop.code, int):
            from ._exit import leave

            leave(stop.code or 0)
        raise


class _PipeSafe:
    """stdout that turns a closed pipe into /dev/null instead of an exception mid-command."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        """Point fd 1 at /dev/null so buffered output and the interpreter's final flush cannot fail again."""
        import os

        self._gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


if __name__ == "__main__":
    main()
