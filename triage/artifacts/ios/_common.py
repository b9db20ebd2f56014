"""Small helpers the iOS parsers share: live and recovered rows through one path, numbers read in
the country the phone recorded, Core Data text that may be stored as a blob."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from .. import normalise
from ..context import Context
from ..records import Source

Row = dict[str, Any]


def text(value: Any) -> str | None:
    """A column that holds text, whether SQLite stored it as TEXT or as a BLOB of UTF-8 (Core Data
    `ZADDRESS` is either); empty text is None."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace").rstrip("\x00")
    out = str(value).strip()
    return out or None


def body(value: Any) -> str | None:
    """Message text exactly as stored (never trimmed), or None when it holds nothing visible."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace")
    if value is None or not str(value).strip():
        return None
    return str(value)


def number(ctx: Context, raw: Any, country: str | None = None) -> str | None:
    """A phone number or handle as E.164 where it reads as a number. Where the store records the
    country the number was dialled or received in (`handle.country`, `ZISO_COUNTRY_CODE`), a number
    written in national form is read in that country rather than in the case's region."""
    value = text(raw)
    if value is None:
        return None
    if "@" in value:
        return value.lower() if value.count("@") == 1 and " " not in value else value
    region = (country or "").strip().upper()
    if len(region) == 2 and region.isalpha():
        return normalise.phone(value, region)
    return ctx.phone(value)


def live_and_recovered(ctx: Context, table: str, sql: str, key: str, recover: Sequence[str] | None = None
                       ) -> Iterator[tuple[Row, Any]]:
    """The rows of `sql` (as dicts, with None for the recovery), then the rows of `table` recovered
    from the file's free space (with their RecoveredRow). `key` is the table's rowid column: a
    recovered row whose stored key is NULL (an INTEGER PRIMARY KEY is kept as the rowid) gets it."""
    for row in ctx.rows(sql):
        yield dict(row), None
    for rec in ctx.file.recovered(list(recover) if recover else [table]):
        if rec.table != table:
            continue
        values = dict(rec.values)
        if values.get(key) is None:
            values[key] = rec.rowid
        yield values, rec


def source(ctx: Context, table: str, row: int | None, rec: Any) -> Source:
    return ctx.recovered_source(rec) if rec is not None else ctx.source(table, row)


def mapped(ctx: Context, sql: str, key: str, value: str) -> dict[Any, Any]:
    """A {key: value} lookup from a query (a small table read once)."""
    return {r[key]: r[value] for r in ctx.rows(sql)}


def compact(values: dict[str, Any]) -> dict[str, Any]:
    """`extra` without empty values (None, '', 0-length)."""
    return {k: v for k, v in values.items() if v is not None and v != "" and v != [] and v != {}}
