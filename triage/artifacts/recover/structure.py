"""What every page of the current database is: live b-tree page (and whose), overflow page of a live
cell, freelist trunk or leaf, pointer-map page, or unaccounted for.

The current database is the main file with the WAL's committed frames laid over it. Walks are
iterative with visited sets and caps, so loops and wild pointers in a manipulated file end the walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .pages import (INDEX_INTERIOR, INDEX_LEAF, TABLE_INTERIOR, TABLE_LEAF, DbHeader, local_size, parse_btree,
                    table_leaf_cell, u32)
from .record import decode_body, read_header, read_varint
from .schema import SQLITE_MASTER, Column, Table, parse_create_table
from .wal import Wal

MAX_TREE_PAGES = 5_000_000


class PageView:
    """Pages of the current database: the latest committed WAL frame of a page, else the main file."""

    def __init__(self, main: memoryview, header: DbHeader, wal: Wal | None, wal_data: memoryview | None) -> None:
        self.main = main
        self.page_size = header.page_size
        self.usable = header.usable
        self.from_wal: dict[int, int] = {}   # pgno -> frame index
        self.wal_data = wal_data
        self._frame_offset: dict[int, int] = {}
        main_pages = len(main) // self.page_size
        if wal is not None and wal_data is not None and wal.page_size == self.page_size:
            for f in wal.frames:
                if f.committed:
                    self.from_wal[f.pgno] = f.index
                    self._frame_offset[f.pgno] = f.offset
        if wal is not None and wal.db_pages:
            self.npages = wal.db_pages
        else:
            self.npages = main_pages
        # pages past the in-use size still hold old content; they are scanned as unaccounted
        self.scan_pages = max(self.npages, main_pages)

    def page(self, pgno: int) -> memoryview | None:
        if pgno < 1 or pgno > self.scan_pages:
            return None
        off = self._frame_offset.get(pgno)
        if off is not None and self.wal_data is not None:
            return self.wal_data[off:off + self.page_size]
        base = (pgno - 1) * self.page_size
        if base + self.page_size > len(self.main):
            return None
        return self.main[base:base + self.page_size]

    def origin(self, pgno: int) -> tuple[str, int]:
        """("main" or "wal", offset of the page image in that file)."""
        off = self._frame_offset.get(pgno)
        if off is not None:
            return "wal", off
        return "main", (pgno - 1) * self.page_size


@dataclass
class PageMap:
    owner: dict[int, str] = field(default_factory=dict)        # live b-tree page -> table or index name
    kind: dict[int, str] = field(default_factory=dict)         # "table", "index", "overflow", "trunk", "freeleaf", "ptrmap"
    trunk_used: dict[int, int] = field(default_factory=dict)   # trunk page -> bytes its header and list overwrote
    schema_rows: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    leaves: dict[str, list[int]] = field(default_factory=dict)  # table -> its live leaf pages
    damaged: bool = False   # a b-tree pointer leads nowhere sane: some live pages may be unreachable


def walk_tree(view: PageView, root: int, name: str, pmap: PageMap, budget: list[int]) -> list[int]:
    """Mark the b-tree at `root` as `name`'s; returns its table leaf pages. A pointer out of range,
    to a page already claimed, or to a page that is not of the tree's kind marks the map damaged."""
    leaves: list[int] = []
    stack = [root]
    usable = view.usable
    family: tuple[int, ...] | None = None
    while stack and budget[0] > 0:
        pgno = stack.pop()
        if pgno < 1 or pgno > view.npages or pgno in pmap.kind:
            pmap.damaged = True
            continue
        page = view.page(pgno)
        bt = parse_btree(page, 100 if pgno == 1 else 0, usable) if page is not None else None
        if page is None or bt is None or (family is not None and bt.kind not in family):
            pmap.damaged = True
            continue
        if family is None:
            family = (INDEX_LEAF, INDEX_INTERIOR) if bt.kind in (INDEX_LEAF, INDEX_INTERIOR) else (TABLE_LEAF, TABLE_INTERIOR)
        budget[0] -= 1
        if len(bt.pointers) < bt.ncells:
            pmap.damaged = True
        index = bt.kind in (INDEX_LEAF, INDEX_INTERIOR)
        pmap.kind[pgno] = "index" if index else "table"
        pmap.owner[pgno] = name
        if bt.kind in (TABLE_INTERIOR, INDEX_INTERIOR):
            for p in bt.pointers:
                if p + 4 <= usable:
                    stack.append(u32(page, p))
            stack.append(bt.right)
        if bt.kind == TABLE_LEAF:
            leaves.append(pgno)
        for p in bt.pointers:
            _mark_overflow(view, page, p, bt.kind, pmap, budget)
    return leaves


def _mark_overflow(view: PageView, page: memoryview, p: int, kind: int, pmap: PageMap, budget: list[int]) -> None:
    usable = view.usable
    if kind == TABLE_LEAF:
        cell = table_leaf_cell(page, p, usable)
        if cell is None:
            return
        payload, _, q, local = cell
    elif kind == TABLE_INTERIOR:
        return
    else:
        payload, q = read_varint(page, p + 4 if kind == INDEX_INTERIOR else p, usable)
        if q < 0:
            return
        local = local_size(payload, usable, table_leaf=False)
    if local >= payload or q + local + 4 > usable:
        return
    nxt = u32(page, q + local)
    remaining = payload - local
    while nxt and remaining > 0 and budget[0] > 0 and nxt not in pmap.kind and nxt <= view.npages:
        pmap.kind[nxt] = "overflow"
        budget[0] -= 1
        ov = view.page(nxt)
        if ov is None:
            return
        remaining -= usable - 4
        nxt = u32(ov, 0)


def walk_freelist(view: PageView, first_trunk: int, pmap: PageMap, budget: list[int]) -> None:
    trunk = first_trunk
    per_trunk = view.usable // 4 - 2
    while trunk and budget[0] > 0 and 1 <= trunk <= view.npages and trunk not in pmap.kind:
        page = view.page(trunk)
        if page is None:
            return
        budget[0] -= 1
        count = min(u32(page, 4), per_trunk)
        pmap.kind[trunk] = "trunk"
        pmap.trunk_used[trunk] = 8 + 4 * count
        for k in range(count):
            leaf = u32(page, 8 + 4 * k)
            if 1 <= leaf <= view.npages and leaf not in pmap.kind:
                pmap.kind[leaf] = "freeleaf"
        trunk = u32(page, 0)


def mark_ptrmap(view: PageView, header: DbHeader, pmap: PageMap) -> None:
    if not header.autovacuum:
        return
    step = view.usable // 5 + 1
    pgno = 2
    while pgno <= view.npages:
        pmap.kind.setdefault(pgno, "ptrmap")
        pgno += step


def read_schema(view: PageView, encoding: str, budget: list[int]) -> tuple[list[tuple[str, str, str, int, str]], PageMap]:
    """sqlite_master rows read from the b-tree at page 1, and the page map of that tree."""
    pmap = PageMap()
    leaves = walk_tree(view, 1, "sqlite_master", pmap, budget)
    rows: list[tuple[str, str, str, int, str]] = []
    for pgno in leaves:
        page = view.page(pgno)
        if page is None:
            continue
        bt = parse_btree(page, 100 if pgno == 1 else 0, view.usable)
        if bt is None:
            continue
        for p in bt.pointers:
            payload = _local_payload(view, page, p, budget)
            if payload is None:
                continue
            hdr = read_header(payload, 0, len(payload))
            if hdr is None or len(hdr[0]) != 5:
                continue
            dec = decode_body(hdr[0], payload, hdr[1], len(payload), encoding)
            if dec is None:
                continue
            vals = dec[0]
            if all(isinstance(v, str) for v in (vals[0], vals[1], vals[2])):
                root = vals[3] if isinstance(vals[3], int) else 0
                sql = vals[4] if isinstance(vals[4], str) else ""
                rows.append((vals[0], vals[1], vals[2], root, sql))
    pmap.schema_rows = rows
    return rows, pmap


def _local_payload(view: PageView, page: memoryview, p: int, budget: list[int]) -> bytes | None:
    """The whole payload of a live table leaf cell, following its overflow chain."""
    cell = table_leaf_cell(page, p, view.usable)
    if cell is None:
        return None
    payload, _, q, local = cell
    if q + min(local, payload) > view.usable:
        return None
    out = bytearray(page[q:q + min(local, payload)])
    if local < payload:
        if q + local + 4 > view.usable:
            return None
        nxt = u32(page, q + local)
        seen: set[int] = set()
        while len(out) < payload and nxt and nxt not in seen and budget[0] > 0:
            seen.add(nxt)
            budget[0] -= 1
            ov = view.page(nxt)
            if ov is None:
                return None
            out += ov[4:view.usable]
            nxt = u32(ov, 0)
        if len(out) < payload:
            return None
    return bytes(out[:payload])


def live_tables(rows: list[tuple[str, str, str, int, str]]) -> list[Table]:
    """Rowid tables of the schema that have a b-tree (virtual and WITHOUT ROWID tables left out)."""
    out: list[Table] = []
    for typ, name, _tbl, root, sql in rows:
        if typ != "table" or not sql or root <= 0:
            continue
        t = parse_create_table(sql, root)
        if t is None or t.without_rowid:
            continue
        columns = t.columns
        if name == "sqlite_sequence" and len(columns) == 2:   # declared untyped; SQLite writes text, integer
            columns = (Column("name", "", "TEXT"), Column("seq", "", "INTEGER"))
        out.append(Table.make(name, columns, False, root, sql))
    return out


def map_pages(view: PageView, header: DbHeader, encoding: str, budget: list[int]) -> tuple[list[Table], PageMap]:
    rows, pmap = read_schema(view, encoding, budget)
    for typ, name, _tbl, root, _sql in rows:
        if root > 0 and typ in ("table", "index"):
            leaves = walk_tree(view, root, name, pmap, budget)
            if typ == "table":
                pmap.leaves[name] = leaves
    walk_freelist(view, header.first_trunk, pmap, budget)
    mark_ptrmap(view, header, pmap)
    return [SQLITE_MASTER] + live_tables(rows), pmap
