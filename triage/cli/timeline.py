"""`dalil timeline --exhibit ID --format bodyfile|csv`: MACB times of every parsed file."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from ..image import query, schema  # noqa: F401  (schema registers the tables)
from ..image import timeline as engine
from . import common


class TimelineFormat(str, Enum):
    bodyfile = "bodyfile"
    csv = "csv"


def timeline(
    exhibit: Annotated[str, typer.Option("--exhibit", help="Exhibit whose files to put on the timeline.")],
    fmt: Annotated[TimelineFormat, typer.Option("--format", help="bodyfile (TSK mactime input) or csv.")]
    = TimelineFormat.bodyfile,
    case_dir: common.CaseOpt = None,
) -> None:
    """MACB times of every parsed file, and the dated phone records (messages, calls, visits…), as a TSK
    body file (for mactime; a phone record is one line with its time as 'b') or CSV; times are UTC."""
    from ..artifacts.events import events

    case = common.open_case(case_dir)
    rows = query.select(case, query.Filters(exhibit=exhibit))
    phone = events(case, exhibit)
    if fmt == TimelineFormat.bodyfile:
        for line in engine.bodyfile(rows):
            sys.stdout.write(line + "\n")
        for line in engine.event_lines(phone, multi=len({r["partition"] for r in rows}) > 1):
            sys.stdout.write(line + "\n")
        return
    common.emit(engine.macb_rows(rows, phone), "csv",
                ["time", "macb", "exhibit", "partition", "path", "inode", "size", "deleted", "mode", "sha256",
                 "source", "description"])


def register(app: typer.Typer) -> None:
    app.command("timeline")(timeline)
