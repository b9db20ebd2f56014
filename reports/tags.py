"""Tagging a file or a capture: one function for `dalil tag` and the browser (`dalil serve`), so a
tag set from either is the same `tags` row and the same `tagged` ledger entry."""

from __future__ import annotations

from typing import Any

from triage.core.case import Case
from triage.core.clock import rfc3339
from triage.core.errors import NotFound, UsageError
from triage.core.ledger import subject

from . import schema as _schema  # noqa: F401  (registers the tags table)
from .data import table_columns

COLUMNS = ["id", "kind", "exhibit", "path", "url", "label", "note", "examiner", "created"]


def add_tag(case: Case, label: str, note: str | None = None, *, exhibit: str | None = None,
            path: str | None = None, capture: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Tag the file `path` of `exhibit`, or the captured page `capture` (a URL), as the acting
    examiner; records `tagged` in the ledger in the same transaction. Returns the tag row."""
    if not label.strip():
        raise UsageError("--label is required and must not be empty")
    if (capture is None) == (exhibit is None and path is None):
        raise UsageError("give either --exhibit ID PATH (a file) or --capture URL (a captured page)")
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
    created = rfc3339()
    with case.locked():
        with case.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO tags (kind, exhibit, path, url, label, note, examiner, created) VALUES (?,?,?,?,?,?,?,?)",
                (kind, ex, where.get("path"), where.get("url"), label, note, examiner.name, created))
            case.record("tagged", subject(ex, sha), details={"kind": kind, **where, "label": label, "note": note,
                                                            "tag_id": cur.lastrowid}, reason=reason, conn=conn)
    return {"id": cur.lastrowid, "kind": kind, "exhibit": ex, "path": where.get("path"), "url": where.get("url"),
            "label": label, "note": note, "examiner": examiner.name, "created": created}


def list_tags(case: Case) -> list[dict[str, Any]]:
    """Every tag of the case, oldest first ([] before the table exists)."""
    if not table_columns(case, "tags"):
        return []
    return [dict(r) for r in case.store.query("SELECT * FROM tags ORDER BY id")]
