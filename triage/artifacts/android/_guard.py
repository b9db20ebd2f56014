"""A damaged database stops a parser with a warning naming the table it was reading, never a traceback."""

from __future__ import annotations

import sqlite3
from typing import Iterator, TypeVar

from ..context import Context

T = TypeVar("T")


class Reading:
    """What a parser is reading now (`reading.table = "calls"`), for the warning if SQLite gives up."""

    def __init__(self) -> None:
        self.table: str | None = None


def guarded(ctx: Context, reading: Reading, records: Iterator[T]) -> Iterator[T]:
    """Yield `records`; on a SQLite error (a truncated or corrupt page) warn, naming the table, and stop.
    The records yielded before the error are kept."""
    count = 0
    try:
        for record in records:
            count += 1
            yield record
    except sqlite3.DatabaseError as exc:
        ctx.warn(f"reading stopped after {count} record(s): SQLite: {exc} (damaged or truncated database)",
                 reading.table)
