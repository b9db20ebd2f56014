"""`dalil tag --exhibit ID PATH | --capture URL --label TEXT [--note TEXT]` and `dalil tags`."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.clock import rfc3339
from ..core.errors import NotFound, UsageError
from ..core.ledger import subject
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
    from reports import schema as _schema  # noqa: F401  (registers the tags table before the case opens)
    from reports.data import table_columns

    if not label.strip():
        raise UsageError("--label is required and must not be empty")
    if (capture is None) == (exhibit is None and path is None):
        raise UsageError("give either --exhibit ID PATH (a file) or --capture URL (a captured page)")
    case = common.open_case(case_dir)
    if capture is not None:
        found = table_columns(case, "captures") and case.store.query(
            "SELECT exhibit, sha256 FROM captures WHERE url = ? ORDER BY captured_at DESC LIMIT 1", (capture,))
        if not found:
            raise NotFound(f"no capture of {capture} in this case")
        kind, ex, sha, where = "capture", found[0]["exhibit"], found[0]["sha256"], {"url": capture}
    else:
        if not exhibit or not path:
            raise UsageError("a file tag needs both --exhibit ID and PATH")
        found = table_columns(case, "files") and case.store.query(
            "SELECT sha256 FROM files WHERE exhibit = ? AND path = ? LIMIT 1", (exhibit, path))
        if not found:
            raise NotFound(f"no file {path} in exhibit {exhibit} (run dalil parse first, or check the path)")
        kind, ex, sha, where = "file", exhibit, found[0]["sha256"], {"path": path}
    examiner = case.ensure_examiner_registered()
    with case.locked():
        with case.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO tags (kind, exhibit, path, url, label, note, examiner, created) VALUES (?,?,?,?,?,?,?,?)",
                (kind, ex, where.get("path"), where.get("url"), label, note, examiner.name, rfc3339()))
            case.record("tagged", subject(ex, sha), details={"kind": kind, **where, "label": label, "note": note,
                                                            "tag_id": cur.lastrowid}, reason=reason, conn=conn)
    common.say(f"tagged {kind} {where.get('path') or where.get('url')} ({ex}): {label}")  # say() escapes


def tags(
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """List the tags of the case."""
    from reports import schema as _schema  # noqa: F401  (registers the tags table before the case opens)

    case = common.open_case(case_dir)
    rows = [dict(r) for r in case.store.query("SELECT * FROM tags ORDER BY id")]
    common.emit(rows, fmt, COLUMNS, title="Tags")


def register(app: typer.Typer) -> None:
    app.command("tag")(tag)
    app.command("tags")(tags)
