"""The command line of the running Dalil invocation, recorded in every ledger entry.

Credentials written into a URL (`--proxy socks5h://user:secret@host:9050`, `https://user:pw@site/`)
and the value of a secret option (`--password TEXT`, `--password=TEXT`, `--recovery-key KEY`) are replaced by `<redacted>`
before the command line is kept: the ledger travels in court bundles.
"""

from __future__ import annotations

import re
import sys

_ARGV: list[str] | None = None
# scheme://userinfo@ — userinfo runs to the last '@' before the path (a password may hold a raw '@')
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s]*)@")


# a password given as a query parameter (redis-py reads `redis://host/0?password=…`)
_QUERY_SECRET = re.compile(r"(?P<key>[?&](?:password|passwd|pass|pwd)=)[^&#\s]*", re.IGNORECASE)


def redact(arg: str) -> str:
    """`arg` with any URL user-info (user:password) and `password=` query value replaced by `<redacted>`."""
    arg = _USERINFO.sub(lambda m: f"{m.group('scheme')}<redacted>@", arg)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('key')}<redacted>", arg) if "://" in arg else arg


SECRET_OPTIONS = ("--password", "--recovery-key")  # options whose value is never kept


def redact_argv(argv: list[str]) -> list[str]:
    """`argv` with URL user-info redacted and the values of SECRET_OPTIONS replaced."""
    out: list[str] = []
    hide_next = False
    for arg in map(str, argv):
        if hide_next:
            out.append("<redacted>")
            hide_next = False
        elif arg in SECRET_OPTIONS:
            out.append(arg)
            hide_next = True
        elif arg.split("=", 1)[0] in SECRET_OPTIONS and "=" in arg:
            out.append(arg.split("=", 1)[0] + "=<redacted>")
        else:
            out.append(redact(arg))
    return out


def set_command_line(argv: list[str]) -> None:
    """Called by the CLI with the arguments it parsed (the program name is added)."""
    global _ARGV
    _ARGV = ["dalil", *redact_argv(argv)]


def set_recorded(line: list[str]) -> None:
    """The command line as `command_line()` gave it in the process this one works for (the parse
    child forked ahead of the options, triage.image.isolate): already redacted, kept as it is."""
    global _ARGV
    _ARGV = list(line)


def command_line() -> list[str]:
    return list(_ARGV) if _ARGV is not None else redact_argv(sys.argv)
