"""recover(): deleted rows of a SQLite database, its WAL and its rollback journal.

1. Map the current database (main file + committed WAL frames): live b-tree pages and their
   tables, overflow pages, freelist trunks and leaves, pages nobody uses.
2. Rebuild dropped tables from deleted sqlite_master rows.
3. Carve every free area and every old page image with all table schemas.
4. Drop what equals a live row (read by SQLite from a copy) or another recovered row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .carve import Carved, Carver
from .journal import parse_journal
from .live import LiveTable, norm, projector, read_live
from .pages import TABLE_INTERIOR, TABLE_LEAF, RecoveryError, parse_btree, parse_header, u32
from .record import LOST
from .schema import SQLITE_MASTER, Table, parse_create_table
from .sources import Image, current_images, journal_images, old_images, regions
from .structure import PageMap, PageView, map_pages
from .wal import parse_wal

log = logging.getLogger(__name__)

_FILE_ORDER = {"main": 0, "wal": 1, "journal": 2}


@dataclass(frozen=True)
class RecoveredRow:
    table: str                 # table name from the schema
    rowid: int | None          # when it could be read
    values: dict[str, Any]     # column name -> value (None where lost); INTEGER PRIMARY KEY alias gets the rowid
    offset: int                # byte offset of the cell in `file`
    file: str                  # "main", "wal" or "journal"
    where: str                 # human text: "freeblock in page 12", "WAL frame 9 (older version of page 5)"
    partial: bool              # some columns could not be recovered


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def recover(db: Path, wal: Path | None = None, journal: Path | None = None,
            tables: Iterable[str] | None = None) -> list[RecoveredRow]:
    """Deleted and superseded rows of `db` (and of its `wal` / rollback `journal` when given).

    The inputs are only read. Raises RecoveryError only when `db` is not a SQLite database."""
    return select(recover_all(db, wal, journal), tables)


def recover_all(db: Path, wal: Path | None = None, journal: Path | None = None) -> list[RecoveredRow]:
    """Every row `recover` can find in `db`, SQLite's own tables included, in file order: what
    `select` picks from for any list of tables (a parser asking for two tables of one database
    does not make the database be read and carved twice)."""
    db = Path(db)
    try:
        with open(db, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise RecoveryError(f"cannot read {db}: {exc}") from exc
    header = parse_header(data)
    return _Recovery(db, data, header.page_size, wal, journal).run()


def select(rows: list[RecoveredRow], tables: Iterable[str] | None = None) -> list[RecoveredRow]:
    """The rows of `tables` (all tables but SQLite's own when None), in the order given."""
    if isinstance(tables, str):
        tables = [tables]
    if tables is not None:
        wanted = set(tables)
        return [r for r in rows if r.table in wanted]
    # SQLite's own tables (schema, sequence counters, statistics) only when asked for
    return [r for r in rows if not r.table.startswith("sqlite_")]


class _Recovery:
    def __init__(self, db: Path, data: bytes, page_size: int, wal: Path | None, journal: Path | None) -> None:
        self.db = db
        self.wal_path = Path(wal) if wal is not None else None
        self.main = memoryview(data)
        header = parse_header(data)
        wal_bytes = _read(self.wal_path)
        try:
            self.wal = parse_wal(memoryview(wal_bytes), page_size) if wal_bytes else None
        except Exception:   # an unreadable WAL: recover from the main file alone
            log.warning("recover: cannot read the WAL %s", self.wal_path, exc_info=True)
            self.wal = None
        self.view = PageView(self.main, header, self.wal, memoryview(wal_bytes) if wal_bytes else None)
        page1 = self.view.page(1)
        try:
            self.header = parse_header(page1) if page1 is not None else header
        except RecoveryError:
            self.header = header
        if self.header.page_size != page_size:
            self.header = header
        self.usable = self.header.usable
        self.encoding = self.header.encoding
        pages = max(self.view.scan_pages, 1)
        self.budget = [2_000_000 + 400 * pages]
        self.journal_data = _read(Path(journal)) if journal is not None else None
        self.pmap = PageMap()

    # -- overflow chains of deleted cells ------------------------------------------------------

    def read_overflow(self, first: int, need: int) -> tuple[bytes, list[tuple[int, int]]]:
        out = bytearray()
        lost: list[tuple[int, int]] = []
        pgno = first
        seen: set[int] = set()
        room = self.usable - 4
        while len(out) < need and pgno and pgno not in seen and self.budget[0] > 0:
            seen.add(pgno)
            self.budget[0] -= 1
            kind = self.pmap.kind.get(pgno)
            page = self.view.page(pgno)
            if page is None or kind in ("table", "index", "overflow", "ptrmap"):
                break   # reused since: the rest of the payload is gone
            start = len(out)
            out += page[4:self.usable]
            if kind == "trunk":   # its next-page pointer and leaf list overwrote the start
                lost.append((start, start + min(self.pmap.trunk_used.get(pgno, 8) - 4, room)))
                break
            pgno = u32(page, 0)
        if len(out) < need:
            lost.append((len(out), need))
            out += bytes(need - len(out))
        return bytes(out[:need]), lost

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> list[RecoveredRow]:
        try:
            schema, self.pmap = map_pages(self.view, self.header, self.encoding, self.budget)
        except Exception:  # a schema we cannot walk: carve with what we have
            log.warning("recover: cannot map %s", self.db, exc_info=True)
            schema = [SQLITE_MASTER]
        user = [t for t in schema if t is not SQLITE_MASTER]
        images = self._images()
        dropped = self._dropped_tables(images, user)
        live, failed = read_live(self.db, self.wal_path, user)
        if failed:
            self.pmap.damaged = True
        for name in failed:
            self._live_fallback(name, user, live)
        spans = {name: lt.spans() for name, lt in live.items()}
        carver = Carver([*user, *dropped], self.usable, self.encoding, self.read_overflow, self.budget, spans,
                         self.header.schema_format)
        # pages of the schema table (all versions of page 1) are read with sqlite_master among the
        # tables, so that deleted schema rows are not taken for rows of a table of the same shape
        schema_carver = Carver([SQLITE_MASTER, *user, *dropped], self.usable, self.encoding, self.read_overflow,
                               self.budget, spans, self.header.schema_format)
        hints = self._dropped_hints(dropped)
        found: list[tuple[Image, Carved, str]] = []
        for img in images:
            prefer = self._owner(img.pgno, user) or hints.get(img.pgno)
            schema_page = img.pgno == 1 or self.pmap.owner.get(img.pgno) == "sqlite_master"
            try:
                found += self._carve_image(schema_carver if schema_page else carver, img, prefer, live)
            except Exception:
                log.warning("recover: carving %s of %s failed", img.where, self.db, exc_info=True)
        rows = [r for r in (self._row(c, img, what, live) for img, c, what in found) if r is not None]
        out = _dedup(rows)
        out.sort(key=lambda r: (_FILE_ORDER.get(r.file, 9), r.offset))  # stable: `select` keeps this order
        return out

    def _images(self) -> list[Image]:
        """Every page image to search; a source that cannot be read is left out (and logged)."""
        images: list[Image] = []
        try:
            images += current_images(self.view, self.pmap)
            images += old_images(self.view, self.wal, self.main, self.header.page_size)
        except Exception:
            log.warning("recover: reading the pages of %s failed", self.db, exc_info=True)
        if self.journal_data:
            try:
                jd = memoryview(self.journal_data)
                max_pgno = max(self.view.scan_pages, 1) * 2 + 64
                recs = parse_journal(jd, self.header.page_size, max_pgno)
                images += journal_images(jd, [(r.index, r.pgno, r.offset) for r in recs], self.header.page_size)
            except Exception:
                log.warning("recover: reading the journal of %s failed", self.db, exc_info=True)
        return images

    def _owner(self, pgno: int, user: list[Table]) -> Table | None:
        if self.pmap.kind.get(pgno) != "table":
            return None
        name = self.pmap.owner.get(pgno)
        if name == "sqlite_master":
            return SQLITE_MASTER
        for t in user:
            if t.name == name:
                return t
        return None

    def _carve_image(self, carver: Carver, img: Image, prefer: Table | None,
                     live: dict[str, LiveTable] | None = None) -> list[tuple[Image, Carved, str]]:
        """Cells of an image. With `live` given, cells that are live rows SQLite cannot reach go to
        `live` instead: those in the cell array of a page nothing uses when a b-tree is damaged, and
        intact cells in unlisted space of a live page whose cell pointers are broken."""
        bt, regs, broken = regions(img, self.usable)
        out: list[tuple[Image, Carved, str]] = []
        lost_live = live is not None and img.role == "unused" and self.pmap.damaged
        if img.whole and bt is not None and bt.kind == TABLE_LEAF:
            for p in bt.pointers:
                c = carver.intact(img.page, p, self.usable, prefer)
                if c is None:
                    continue
                if lost_live and live is not None:
                    _add_live(live, c)
                else:
                    out.append((img, c, "cell"))
        broken = broken if img.role == "live" and bt is not None and bt.kind == TABLE_LEAF else 0
        for r in regs:
            for c in carver.carve(img.page, r.start, r.end, r.hints, prefer):
                if broken and live is not None and r.what == "unlisted space" and c.intact and not c.partial:
                    _add_live(live, c)
                    broken -= 1
                else:
                    out.append((img, c, r.what))
        return out

    def _dropped_tables(self, images: list[Image], user: list[Table]) -> list[Table]:
        """Tables whose CREATE statement survives only in a deleted sqlite_master row."""
        carver = Carver([SQLITE_MASTER], self.usable, self.encoding, self.read_overflow, self.budget)
        live_sql = {(t.name, t.sql) for t in user}
        live_sig = {t.name: tuple((c.name, c.affinity) for c in t.stored) for t in user}
        out: list[Table] = []
        seen: set[tuple[str, str]] = set()
        for img in images:
            if not (img.pgno == 1 or img.whole or self.pmap.owner.get(img.pgno) == "sqlite_master"):
                continue
            try:
                found = self._carve_image(carver, img, SQLITE_MASTER)
            except Exception:
                log.warning("recover: schema carving of %s failed", img.where, exc_info=True)
                continue
            for _img, c, _what in found:
                typ, name, _tbl, root, sql = c.values
                if typ != "table" or not isinstance(name, str) or not isinstance(sql, str):
                    continue
                if (name, sql) in live_sql or (name, sql) in seen:
                    continue
                seen.add((name, sql))
                t = parse_create_table(sql, root if isinstance(root, int) else 0, dropped=True)
                if t is None or t.without_rowid or name.startswith("sqlite_"):
                    continue
                sig = tuple((col.name, col.affinity) for col in t.stored)
                if live_sig.get(name, ())[:len(sig)] == sig:
                    continue   # an older schema row of a table that still exists (maybe before ADD COLUMN)
                out.append(Table.make(name, t.columns, False, t.root, sql, True))
        return out

    def _dropped_hints(self, dropped: list[Table]) -> dict[int, Table]:
        """Pages of a dropped table's b-tree that nobody uses now: its rows most likely."""
        hints: dict[int, Table] = {}
        for t in dropped:
            if self.pmap.kind.get(t.root) in (None, "freeleaf", "trunk"):
                hints[t.root] = t   # even when its header is gone (a freelist trunk now)
            stack = [t.root]
            while stack and len(hints) < 1_000_000:
                pgno = stack.pop()
                if (pgno in hints and pgno != t.root) or self.pmap.kind.get(pgno) not in (None, "freeleaf", "trunk"):
                    continue
                page = self.view.page(pgno)
                if page is None:
                    continue
                bt = parse_btree(page, 0, self.usable)
                if bt is None or bt.kind not in (TABLE_LEAF, TABLE_INTERIOR):
                    continue
                hints[pgno] = t
                if bt.kind == TABLE_INTERIOR:
                    stack.extend(u32(page, p) for p in bt.pointers if p + 4 <= self.usable)
                    stack.append(bt.right)
        return hints

    def _live_fallback(self, name: str, user: list[Table], live: dict[str, LiveTable]) -> None:
        """SQLite could not read a table: take its cells from our own walk of the b-tree."""
        table = next((t for t in user if t.name == name), None)
        if table is None:
            return
        carver = Carver([table], self.usable, self.encoding, self.read_overflow, self.budget)
        lt = live.setdefault(name, LiveTable.of(table))
        for pgno in self.pmap.leaves.get(name, []):
            page = self.view.page(pgno)
            if page is None:
                continue
            bt = parse_btree(page, 100 if pgno == 1 else 0, self.usable)
            if bt is None:
                continue
            for p in bt.pointers:
                c = carver.intact(page, p, self.usable, table)
                if c is not None and c.table is table and not c.partial:
                    lt.add(c.rowid, tuple(_values(c)))

    def _row(self, c: Carved, img: Image, what: str,
             live: dict[str, LiveTable]) -> tuple[RecoveredRow, tuple[bool, ...], tuple[Any, ...]] | None:
        table = c.table
        vals = _values(c)
        if LOST in c.values or (c.rowid is None and table.has_ipk):
            known = tuple(not (v is LOST or (col.ipk and c.rowid is None)) for v, col in zip(c.values, table.stored))
        else:
            known = (True,) * len(vals)
        normed = tuple(norm(v) for v in vals) if float in map(type, vals) else tuple(vals)
        where = _where(img, what)
        lt = live.get(table.name)
        if lt is not None:
            if lt.covers(c.rowid, normed, known):
                return None
            if c.rowid is not None and c.rowid in lt.by_rowid:
                where += " (older version of a live row)"
        if table.dropped:
            where += f" (table {table.name} was dropped)"
        values = {col.name: v for col, v in zip(table.stored, vals)}
        row = RecoveredRow(table.name, c.rowid, values, img.base + c.start, img.file, where, not all(known))
        return row, known, normed


def _add_live(live: dict[str, LiveTable], c: Carved) -> None:
    live.setdefault(c.table.name, LiveTable.of(c.table)).add(c.rowid, tuple(_values(c)))


def _values(c: Carved) -> list[Any]:
    """Values as SQLite reads them: lost ones None, the rowid alias the rowid, REAL columns float."""
    table = c.table
    if not table.has_ipk and not table.has_real and LOST not in c.values:
        return list(c.values)
    out: list[Any] = []
    for col, v in zip(table.stored, c.values):
        if v is LOST:
            v = None
        elif col.ipk:
            v = c.rowid
        elif col.affinity == "REAL" and isinstance(v, int):
            v = float(v)
        out.append(v)
    return out


def _where(img: Image, what: str) -> str:
    if what == "cell" or what == "free page":
        return img.where
    joiner = "in" if what == "freeblock" else "of"
    return f"{what} {joiner} {img.where}"


def _dedup(rows: list[tuple[RecoveredRow, tuple[bool, ...], tuple[Any, ...]]]) -> list[RecoveredRow]:
    """Keep one row per (table, rowid, values); drop a row that another recovered row covers: it
    agrees on every value the row has, on the rowid if the row has one, and tells more (more
    values, or the rowid where the row has none)."""
    seen: set[tuple[str, int | None, tuple[Any, ...], tuple[bool, ...]]] = set()
    unique: list[tuple[RecoveredRow, tuple[bool, ...], tuple[Any, ...]]] = []
    for r in rows:
        key = (r[0].table, r[0].rowid, r[2], r[1])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    by_rowid: dict[tuple[str, int], list[int]] = {}
    by_table: dict[str, list[int]] = {}
    for n, (row, _known, _normed) in enumerate(unique):
        by_table.setdefault(row.table, []).append(n)
        if row.rowid is not None:
            by_rowid.setdefault((row.table, row.rowid), []).append(n)
    projections: dict[tuple[str, tuple[bool, ...]], set[tuple[Any, ...]]] = {}
    out: list[RecoveredRow] = []
    for n, (row, known, normed) in enumerate(unique):
        complete = all(known)
        if row.rowid is not None:
            if complete:
                out.append(row)
                continue
            covered = any(m != n and _covers(unique[m], known, normed) and sum(unique[m][1]) > sum(known)
                          for m in by_rowid.get((row.table, row.rowid), ()))
        else:
            pick = projector(known)
            proj = projections.get((row.table, known))
            if proj is None:
                proj = set()
                for m in by_table[row.table]:
                    other, oknown, onormed = unique[m]
                    if len(oknown) != len(known) or not all(ok or not k for k, ok in zip(known, oknown)):
                        continue
                    if oknown == known and other.rowid is None:
                        continue   # no more than this row: an equal one was already dropped
                    proj.add(pick(onormed))
                projections[(row.table, known)] = proj
            covered = pick(normed) in proj
        if not covered:
            out.append(row)
    return out


def _covers(other: tuple[RecoveredRow, tuple[bool, ...], tuple[Any, ...]], known: tuple[bool, ...],
            normed: tuple[Any, ...]) -> bool:
    _row, oknown, onormed = other
    return len(oknown) == len(known) and all(
        not k or (ok and a == b and type(a) is type(b)) for k, ok, a, b in zip(known, oknown, normed, onormed))
