"""The `dalil` command line: one module per command group, each with `register(app)`."""

from __future__ import annotations


def command_of(args: list[str]) -> str:
    """The command named in `args` (sys.argv[1:]): its first word that is not an option (the root
    options, `--debug` and `--version`, take no value); "" if none."""
    return next((a for a in args if not a.startswith("-")), "")
