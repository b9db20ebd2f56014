"""The `dalil` program's entry point: light, so that `dalil parse` can start its parse child first.

`dalil parse ...` forks the parse child here (`isolate.standby`), before Typer, Rich and the
command modules are imported: the child imports the parse engine and gets ready on the other core
meanwhile, and takes the job once the options are read. `DALIL_STANDBY=0` turns this off (the
child is then forked when the options are known, as every other caller of `isolate.run` does).
`python -m triage.cli.main` does the same as this entry point.
"""

from __future__ import annotations

import os
import sys

from . import command_of


def early(args: list[str]) -> None:
    """Whatever must happen before the CLI is imported, for the command in `args` (sys.argv[1:])."""
    if (command_of(args) == "parse" and not {"-h", "--help"} & set(args)
            and os.environ.get("DALIL_STANDBY", "1") != "0"):
        from ..image import isolate

        isolate.standby()


def main() -> None:
    early(sys.argv[1:])
    from .main import main as cli

    cli()
