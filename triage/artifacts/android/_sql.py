"""Rows as plain dicts, fast: tuples from SQLite zipped with the column names once (a `sqlite3.Row`
turned into a dict costs a lookup per column, which shows at a hundred thousand rows)."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from ..context import Context


def dicts(ctx: Context, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
    cursor = ctx.file.sqlite().cursor()
    cursor.row_factory = None
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values))
