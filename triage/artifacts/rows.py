"""Records to rows of the phone tables, and attachments resolved to the files the walk listed."""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Any, Iterable

from ..core.store import dumps
from .records import Attachment, Call, Contact, Item, Message, Record

COMMON = ("exhibit", "run_id", "parser", "app", "time", "recovered", "source_path", "source_partition",
          "source_table", "source_row", "source_where", "extra")
COLUMNS = {
    "messages": COMMON + ("thread", "thread_name", "direction", "sender", "sender_name", "recipients", "text",
                          "attachments", "lat", "lon"),
    "calls": COMMON + ("direction", "number", "name", "duration", "video"),
    "contacts": COMMON + ("name", "phones", "emails", "handles"),
    "phone_items": COMMON + ("kind", "title", "value", "lat", "lon"),
}
TABLE_OF = {Message: "messages", Call: "calls", Contact: "contacts", Item: "phone_items"}


def insert_sql(table: str) -> str:
    cols = COLUMNS[table]
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"


def _none_if_empty(value: dict[str, Any]) -> str | None:
    return dumps(value) if value else None


def _list(values: list[Any]) -> str:
    """A JSON list (most records have none, or a few strings: the common cases skip the encoder's set-up)."""
    if not values:
        return "[]"
    return dumps(values)


def row_of(record: Record, exhibit: str, run_id: int | None, parser: str) -> tuple[str, tuple[Any, ...]]:
    """(table, values in COLUMNS order) of one record."""
    src = record.source
    extra = record.data if isinstance(record, Item) else record.extra
    common = (exhibit, run_id, parser, record.app, record.time, int(record.recovered), src.path, src.partition,
              src.table, src.row, src.where, _none_if_empty(extra))
    if isinstance(record, Message):
        lat, lon = record.location if record.location else (None, None)
        return "messages", common + (
            record.thread, record.thread_name, record.direction, record.sender, record.sender_name,
            _list(record.recipients), record.text, _list([a.as_dict() for a in record.attachments]), lat, lon)
    if isinstance(record, Call):
        return "calls", common + (record.direction, record.number, record.name, record.duration,
                                  None if record.video is None else int(record.video))
    if isinstance(record, Contact):
        return "contacts", common + (record.name, _list(_unique(record.phones)), _list(_unique(record.emails)),
                                     _list(_unique(record.handles)))
    lat, lon = record.location if record.location else (None, None)
    return "phone_items", common + (record.kind, record.title, record.value, lat, lon)


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)


def resolve_attachments(conn: sqlite3.Connection, exhibit: str, records: list[Record]) -> int:
    """Give attachments that name a path on the phone the SHA-256 (and type) of the file the walk
    listed there. Listed paths may carry a prefix (a zip's top folder, a partition mounted at /data):
    the listed file whose path ends with the longest part of the phone's path wins. Returns how many
    were resolved."""
    wanted: list[Attachment] = [a for r in records if isinstance(r, Message) for a in r.attachments
                                if a.path and not a.sha256]
    if not wanted:
        return 0
    names = sorted({posixpath.basename(a.path or "") for a in wanted} - {""})
    listed: dict[str, list[tuple[str, str | None, str | None, int | None]]] = {}
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        for path, name, sha256, mime, size in conn.execute(
                f"SELECT path, name, sha256, mime, size FROM files WHERE exhibit = ? AND name IN "
                f"({','.join('?' for _ in chunk)}) AND sha256 IS NOT NULL", (exhibit, *chunk)):
            listed.setdefault(name, []).append((path, sha256, mime, size))
    resolved = 0
    for att in wanted:
        best = _best(att.path or "", listed.get(posixpath.basename(att.path or ""), []))
        if best is not None:
            _path, att.sha256, mime, size = best
            att.mime = att.mime or mime
            att.size = att.size if att.size is not None else size
            resolved += 1
    return resolved


def _best(phone_path: str, candidates: list[tuple[str, str | None, str | None, int | None]]
          ) -> tuple[str, str | None, str | None, int | None] | None:
    parts = [p for p in phone_path.split("/") if p]
    best, best_len = None, 0
    for cand in candidates:
        listed = [p for p in cand[0].split("/") if p]
        common = 0
        while common < min(len(parts), len(listed)) and parts[-1 - common] == listed[-1 - common]:
            common += 1
        # the name alone is not enough when the phone's path says more (PART_1 is in every phone)
        if common > best_len and (common >= min(len(parts), 2) or len(parts) == 1):
            best, best_len = cand, common
    return best
