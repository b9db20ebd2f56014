"""Shared CLI pieces: option types, output in table/jsonl/csv, progress bars, messages."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Iterator, Sequence

import typer
from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn, TransferSpeedColumn)
from rich.table import Table

from ..core.case import Case
from ..core.textsafe import csv_cell, csv_writer, display, json_line


@dataclass
class _State:
    debug: bool = False


STATE = _State()


class ListFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


CaseOpt = Annotated[
    Path | None,
    typer.Option("--case", help="Case directory (else $DALIL_CASE, else the current directory upwards).",
                 show_default=False),
]
PasswordOpt = Annotated[
    str | None,
    typer.Option("--password", envvar="DALIL_BACKUP_PASSWORD", show_default=False,
                 help="Password of encrypted evidence: an encrypted iTunes/Finder backup or Android .ab backup, "
                      "an encrypted volume (BitLocker, LUKS, FileVault, APFS; or $DALIL_VOLUME_PASSWORD). Prefer the environment variable: a command line can be seen "
                      "by other users. Never written to the case; the ledger only says that one was given."),
]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Reason or authority (warrant, request no.) recorded in the ledger.")
]


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def error(message: str) -> None:
    """One clear line on stderr."""
    stderr_console().print(f"[bold red]error:[/] {_escape(message)}", soft_wrap=True)


def warn(message: str) -> None:
    stderr_console().print(f"[yellow]warning:[/] {_escape(message)}", soft_wrap=True)


def info(message: str) -> None:
    stderr_console().print(_escape(message), soft_wrap=True)


def say(message: str) -> None:
    """A result line on stdout, controls and bidi shown as escapes (`display`): result lines name
    files, URLs and notes a suspect may have written. Data (jsonl, CSV, JSON) goes out by `emit`."""
    typer.echo(display(message))


def _escape(text: str) -> str:
    """Text for a rich console: controls and bidi shown as escapes (`display`), markup inert."""
    from rich.markup import escape

    return escape(display(text))


def open_case(path: Path | None) -> Case:
    return Case.open(path)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def emit(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None,
         title: str | None = None) -> None:
    """Print rows as a rich table, JSON lines or CSV (CSV and table use `columns`). jsonl and CSV
    keep the exact text (CSV quoted to round-trip, formulas neutralised); the table shows it escaped."""
    fmt = fmt.value if isinstance(fmt, Enum) else fmt
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json_line(row) + "\n")
        return
    if fmt == "csv":
        writer = csv_writer(sys.stdout)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in cols])
        return
    # Table cells are suspect text (names, paths, warnings): shown escaped, never as terminal controls.
    table = Table(title=_escape(title) if title else None, show_lines=False, highlight=False)
    for col in cols:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*[_escape(_cell(row.get(c))) for c in cols])
    Console(highlight=False).print(table)


@contextmanager
def progress_bytes(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A byte progress bar (rate, ETA) on stderr when it is a terminal; yields `advance(n)`."""
    console = stderr_console()
    if not console.is_terminal:
        yield lambda n: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(), console=console, transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def progress_items(total: int | None, description: str, unit: str = "files") -> Iterator[Callable[..., None]]:
    """An item progress bar on stderr when it is a terminal; yields `advance(n=1, **fields)`."""
    console = stderr_console()
    if not console.is_terminal:
        yield lambda n=1, **kw: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn(f"{unit}"), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(n: int = 1, **fields: Any) -> None:
            bar.update(task, advance=n, **fields)

        yield advance


def rows_of(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [i.as_dict() if hasattr(i, "as_dict") else dict(i) for i in items]
