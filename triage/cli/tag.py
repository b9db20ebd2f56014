"""`dalil tag --exhibit ID PATH | --capture URL --label TEXT [--note TEXT]` and `dalil tags`."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.errors import UsageError
from . import common

COLUMNS = ["id", "kind", "exhibit", "path", "url", "label", "note", "examiner", "created"]


def tag(
    path: Annotated[str | None, typer.Argument(help="Path of a parsed file inside the exhibit.")] = None,
    exhibit: Annotated[str | None, typer.Option("--exhibit", help="Exhibit holding the file.")] = None,
    capture: Annotated[str | None, typer.Option("--capture", help="URL of a captured page.")] = None,
    label: Annotated[str, typer.Option("--label", help="Tag label, e.g. 'price list'.")] = "",
    note: Annotated[str | None, typer.Option("--note", help="Free text note.")] = None,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Mark a file or a capture as of interest (tagged items come first in reports and bundles)."""
    from reports.tags import add_tag

    if not label.strip():
        raise UsageError("--label is required and must not be empty")
    if (capture is None) == (exhibit is None and path is None):
        raise UsageError("give either --exhibit ID PATH (a file) or --capture URL (a captured page)")
    case = common.open_case(case_dir)
    row = add_tag(case, label, note, exhibit=exhibit, path=path, capture=capture, reason=reason)
    common.say(f"tagged {row['kind']} {row['path'] or row['url']} ({row['exhibit']}): {label}")  # say() escapes


def tags(
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """List the tags of the case."""
    from reports import schema as _schema  # noqa: F401  (registers the tags table before the case opens)
    from reports.tags import list_tags

    case = common.open_case(case_dir)
    rows = list_tags(case)
    common.emit(rows, fmt, COLUMNS, title="Tags")


def register(app: typer.Typer) -> None:
    app.command("tag")(tag)
    app.command("tags")(tags)
