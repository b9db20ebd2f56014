"""Live rows, read by SQLite itself from a private copy of the database (+ its WAL).

The given files are never opened with sqlite3: opening a WAL database checkpoints and deletes the
-wal on close. A copy in a temporary folder is opened instead, and a progress handler stops any
query that runs away on a manipulated file.
"""

from __future__ import annotations

import functools
import itertools
import operator
import math
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .schema import Table

MAX_SECONDS_PER_TABLE = 60.0


def norm(value: Any) -> Any:
    """A hashable, comparable form of a value (NaN equals NaN; 1 and 1.0 stay apart from '1')."""
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


@dataclass
class LiveTable:
    """Live rows of a table: by rowid, and as a set of value tuples in which the rowid alias
    column (if any) holds None, so that a recovered row whose rowid was lost is looked up as is."""
    ipk: int | None = None
    by_rowid: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    rows: set[tuple[Any, ...]] = field(default_factory=set)
    _projections: dict[tuple[bool, ...], set[tuple[Any, ...]]] = field(default_factory=dict)

    @staticmethod
    def of(table: Table) -> LiveTable:
        return LiveTable(next((i for i, c in enumerate(table.stored) if c.ipk), None))

    def _blank(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        i = self.ipk
        return values if i is None or i >= len(values) else values[:i] + (None,) + values[i + 1:]

    def add(self, rowid: int | None, values: tuple[Any, ...]) -> None:
        values = tuple(norm(v) for v in values)
        if rowid is not None:
            self.by_rowid[rowid] = values
        self.rows.add(self._blank(values))
        self._projections.clear()

    def add_many(self, rows: list[tuple[Any, ...]]) -> None:
        """(rowid, value, ...) rows as sqlite3 returns them (no NaN, no memoryview: nothing to norm)."""
        by_rowid = {r[0]: r[1:] for r in rows}
        self.by_rowid.update(by_rowid)
        if self.ipk is None:
            self.rows.update(by_rowid.values())
        else:
            i = self.ipk + 1
            self.rows.update(r[1:i] + (None,) + r[i + 1:] for r in rows)
        self._projections.clear()

    def spans(self, sample: int = 5000) -> list[tuple[float, float] | None]:
        """(min, max) of the numbers in each column (None for a column without numbers), from at
        most `sample` rows."""
        rows = list(itertools.islice(self.rows, sample))
        out: list[tuple[float, float] | None] = []
        width = max((len(r) for r in rows), default=0)
        for i in range(width):
            nums = [r[i] for r in rows if i < len(r) and isinstance(r[i], (int, float))
                    and not isinstance(r[i], bool)]
            out.append((min(nums), max(nums)) if nums else None)
        return out

    def covers(self, rowid: int | None, values: tuple[Any, ...], known: tuple[bool, ...]) -> bool:
        """A live row agrees with `values` on every known column (and on the rowid, if known)."""
        if rowid is not None:
            live = self.by_rowid.get(rowid)
            if live is None:
                return False
            return live == values if False not in known else _agrees(live, values, known)
        if all(known):
            return self._blank(values) in self.rows
        if self.ipk is not None and known.count(False) == 1 and not known[self.ipk]:
            return values in self.rows   # only the rowid alias is unknown: it is None in both
        proj = self._projections.get(known)
        if proj is None:
            if len(self._projections) >= 64:   # many different holes: check each the slow way
                return any(_agrees(live, values, known) for live in self.rows)
            pick = projector(known)
            proj = set(map(pick, (r for r in self.rows if len(r) == len(known))))
            self._projections[known] = proj
        return projector(known)(values) in proj


@functools.lru_cache(maxsize=256)
def projector(known: tuple[bool, ...]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function that keeps the values of a row where `known` is True, as a tuple."""
    idx = [i for i, k in enumerate(known) if k]
    if len(idx) == 1:
        i = idx[0]
        return lambda r: (r[i],)
    if not idx:
        return lambda r: ()
    return operator.itemgetter(*idx)


def _agrees(live: tuple[Any, ...], values: tuple[Any, ...], known: tuple[bool, ...]) -> bool:
    return len(live) == len(values) and all(not k or a == b and type(a) is type(b)
                                            for a, b, k in zip(live, values, known))


def _escaped(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_live(db: Path, wal: Path | None, tables: list[Table]) -> tuple[dict[str, LiveTable], list[str]]:
    """Live rows per table name, and the names of tables SQLite could not read in full."""
    out: dict[str, LiveTable] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dalil-recover-") as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(db, copy)
        if wal is not None and wal.is_file():
            shutil.copyfile(wal, Path(tmp) / "copy.db-wal")
        try:
            con = sqlite3.connect(str(copy), isolation_level=None)
        except sqlite3.Error:
            return out, [t.name for t in tables]
        try:
            for table in tables:
                # SQLite's own decoding first (in C; the same strings for valid UTF-8); a table it
                # cannot read so (bad UTF-8, or damage) is read again as before, bytes kept as escapes
                con.text_factory = str
                live = LiveTable.of(table)
                if not _read_table(con, table, live):
                    con.text_factory = _escaped
                    live = LiveTable.of(table)
                    if not _read_table(con, table, live):
                        failed.append(table.name)
                out[table.name] = live
        finally:
            con.close()
    return out, failed


def _read_table(con: sqlite3.Connection, table: Table, live: LiveTable) -> bool:
    deadline = time.monotonic() + MAX_SECONDS_PER_TABLE
    con.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 100_000)
    cols = ", ".join(_quote(c.name) for c in table.stored)
    ok = False
    for rowid_name in ("rowid", "_rowid_", "oid"):
        if any(c.name.lower() == rowid_name for c in table.columns):
            continue
        ok = True
        sql = f"SELECT {rowid_name}, {cols} FROM {_quote(table.name)}"
        # on a damaged b-tree a forward scan stops at the fault; a backward one gets the rows after it
        for order in ("", f" ORDER BY {rowid_name} DESC"):
            cur = con.execute("SELECT 1")
            try:
                cur = con.execute(sql + order)
                while True:
                    batch = cur.fetchmany(10_000)
                    if not batch:
                        break
                    live.add_many(batch)
                break
            except (sqlite3.Error, OverflowError, MemoryError):
                ok = False
        break
    con.set_progress_handler(None, 0)
    return ok
