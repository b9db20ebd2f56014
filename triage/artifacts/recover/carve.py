"""Carving table-leaf cells out of free bytes, FQLite-style.

Three readings of a position p, all checked against the table schemas:
* intact: [payload size][rowid][record header][body], as SQLite wrote it;
* damaged: a freeblock header overwrote p..p+3 (payload size, rowid and possibly the header-size
  byte and the first serial type). The record header is rebuilt from the schema's column count and
  the serial types each column can hold; the freeblock size (or a stale one left by a merge) and
  what follows the cell choose between the candidates;
* truncated: the tail of the cell is gone (a later cell was written over it): values past the end
  are LOST and the row is partial.
A decoded record must fit a table: same number of stored columns, no number in a TEXT column,
no NULL in a NOT NULL column, NULL for the INTEGER PRIMARY KEY alias, text that decodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from . import damaged as damaged_cells
from .pages import local_size, u16, u32
from .record import LOST, body_size, decode_body, read_header, read_varint, serial_size, varint_len
from .rules import addable, canonical_ints, fit, header_regex, stale_regex, text_penalty
from .schema import Table

# (first overflow page, bytes wanted) -> (bytes read, lost ranges within them)
OverflowReader = Callable[[int, int], tuple[bytes, list[tuple[int, int]]]]


@dataclass
class Carved:
    table: Table
    rowid: int | None
    values: list[Any]   # one per stored column; LOST where the bytes are gone
    start: int          # page offset of the cell
    end: int            # page offset after the cell's bytes on this page
    score: int
    intact: bool        # read with its original cell header

    @property
    def partial(self) -> bool:
        return any(v is LOST for v in self.values)


class Carver:
    """Reads cells for a set of candidate tables; `budget[0]` counts parse attempts left."""

    def __init__(self, tables: list[Table], usable: int, encoding: str, overflow: OverflowReader,
                 budget: list[int], ranges: dict[str, list[tuple[float, float] | None]] | None = None,
                 schema_format: int = 4) -> None:
        self.tables = [t for t in tables if t.stored and not t.without_rowid]
        self.usable = usable
        self.encoding = encoding
        self.overflow = overflow
        self.budget = budget
        self.by_n: dict[int, list[Table]] = {}
        # tables that can hold records of fewer columns (written before ALTER TABLE ADD COLUMN)
        self.shorter: dict[int, list[Table]] = {}
        for t in self.tables:
            n = len(t.stored)
            self.by_n.setdefault(n, []).append(t)
            k = n
            while k > 2 and n - k < max(3, n // 3) and addable(t.stored[k - 1]):
                k -= 1
                self.shorter.setdefault(k, []).append(t)
        self.counts = sorted(set(self.by_n) | set(self.shorter))
        self.exact_counts = sorted(self.by_n)
        # the range of header-size bytes (one-byte varints) a record of these tables can have
        self.h_lo = min(self.counts, default=1) + 1
        self.h_hi = min(127, 3 * max(self.counts, default=1) + 1)
        self.regex = header_regex(self.tables)
        self.stale = stale_regex(self.tables, usable)
        # per table, per stored column: the span of live numeric values (a weak prior for ties)
        self.ranges = ranges or {}
        self.zero_one_types = schema_format >= 4
        self._cache: dict[tuple[tuple[int, ...], str], tuple[Table, int] | None] = {}

    # -- schema match ---------------------------------------------------------------------------

    def match(self, types: list[int], prefer: Table | None) -> tuple[Table, int] | None:
        key = (tuple(types), prefer.name if prefer is not None else "")
        if key in self._cache:
            return self._cache[key]
        best: tuple[Table, int] | None = None
        for cands in (self.by_n.get(len(types), []), self.shorter.get(len(types), [])):
            if prefer is not None and prefer in cands:
                cands = [prefer] + [t for t in cands if t is not prefer]
            for table in cands:
                score = 0
                for col, t in zip(table.stored, types):
                    f = fit(col, t)
                    if f < 0:
                        break
                    score += f
                else:
                    if best is None or score > best[1]:
                        best = (table, score)
            if best is not None:
                break
        if len(self._cache) < 100_000:
            self._cache[key] = best
        return best

    # -- one cell -------------------------------------------------------------------------------

    def finish(self, page: memoryview, start: int, q: int, types: list[int], hsize: int, rowid: int | None,
                limit: int, prefer: Table | None, intact: bool) -> Carved | None:
        """Decode the record whose header (size `hsize`) starts at q and whose types are known."""
        m = self.match(types, prefer)
        if m is None:
            return None
        table, score = m
        payload = hsize + body_size(types)
        local = local_size(payload, self.usable)
        body = q + hsize
        if local >= payload:
            end = q + payload
            vals = decode_body(types, page, body, min(end, limit), self.encoding)
        else:
            end = q + local + 4
            if end <= limit:
                data = bytes(page[q:q + local])
                more, lost = self.overflow(u32(page, q + local), payload - local)
                data += more
                lost = [(a + local, b + local) for a, b in lost]
                vals = decode_body(types, data, hsize, len(data), self.encoding, lost)
            else:
                vals = decode_body(types, page, body, min(q + local, limit), self.encoding)
        if vals is None:
            return None
        values = vals[0]
        if len(values) < len(table.stored):   # a record older than ALTER TABLE ADD COLUMN
            values += [c.default for c in table.stored[len(values):]]
            score -= 1
        lost_count = values.count(LOST)
        if lost_count + values.count(None) == len(values) or payload == hsize:
            return None   # nothing but NULLs and lost values, or no content at all
        if not canonical_ints(types, values, self.zero_one_types):
            return None
        if not intact:
            # a rebuilt header is a guess: it must fit the schema without oddities and say something
            if score < len(types) or (local >= payload and not any(page[body:min(end, limit)])):
                return None
            # values with content bytes (not NULL, not the constants 0 and 1, not ''): two of them,
            # or text of four bytes or more
            known = [t for t, v in zip(types, values) if v is not LOST and (1 <= t <= 7 or t >= 14)]
            text = sum(serial_size(t) for t in known if t >= 13 and t & 1)
            if len(known) < min(2, sum(1 for c in table.stored if not c.ipk)) and text < 4:
                return None
            if len(table.stored) < 4 and all(c.affinity == "BLOB" for c in table.stored):
                return None   # untyped columns and a short header: any bytes would do
            if any(v.__class__ is str and "\x00" in v for v in values):
                return None   # NUL in text: the header was read over foreign bytes
        score = 4 * score - 10 * (len(types) - score) - text_penalty(values) - 2 * lost_count
        return Carved(table, rowid, values, start, min(end, limit), score, intact)

    def prior(self, table: Table, values: list[Any]) -> int:
        """Tie-breakers between readings of one damaged cell: numbers inside the span of the live
        column, text starting with a letter or digit (a misaligned read starts mid-value)."""
        bonus = 0
        spans = self.ranges.get(table.name)
        for i, v in enumerate(values):
            if isinstance(v, str):
                bonus += 1 if v[:1].isalnum() else 0
            elif spans and isinstance(v, (int, float)) and i < len(spans):
                span = spans[i]
                if span is not None:
                    lo, hi = span
                    width = max(hi - lo, 1.0)
                    bonus += 1 if lo - width <= v <= hi + width else 0
        return bonus

    @staticmethod
    def min_score(c: Carved) -> int:
        """Carved (not structurally found) cells below this score are taken for garbage."""
        return 2 * len(c.values)

    def intact(self, page: memoryview, p: int, limit: int, prefer: Table | None,
               truncate_ok: bool = False) -> Carved | None:
        """A cell read with its own header at p."""
        self.budget[0] -= 1
        payload, i = read_varint(page, p, limit)
        if i < 0 or payload < 2:
            return None
        rowid, q = read_varint(page, i, limit)
        if q < 0:
            return None
        hdr = read_header(page, q, limit)
        if hdr is None:
            return None
        types, body = hdr
        hsize = body - q
        if hsize + body_size(types) != payload:
            return None
        local = local_size(payload, self.usable)
        if not truncate_ok and q + min(local, payload) + (4 if local < payload else 0) > limit:
            return None
        return self.finish(page, p, q, types, hsize, rowid, limit, prefer, True)

    def damaged(self, page: memoryview, p: int, limit: int, prefer: Table | None,
                hint: int | None, header_lost: bool = False) -> Carved | None:
        """The best reading of a cell at p whose first four bytes a freeblock header overwrote."""
        return damaged_cells.damaged(self, page, p, limit, prefer, hint, header_lost)

    def carve(self, page: memoryview, s: int, e: int, hints: dict[int, int], prefer: Table | None) -> list[Carved]:
        """Cells in the free bytes [s, e) of a page; `hints` are freeblock starts -> sizes."""
        out: list[Carved] = []
        pos = s
        try_here = True
        while pos + 4 <= e and self.budget[0] > 0:
            c: Carved | None = None
            if pos in hints:
                c = self.damaged(page, pos, e, prefer, hints[pos])
            elif try_here:
                c = self.intact(page, pos, e, prefer, truncate_ok=True)
                if c is not None and c.score < self.min_score(c):
                    c = None
                if (c is None or c.partial) and self.stale_header(page, pos, e):
                    d = self.damaged(page, pos, e, prefer, u16(page, pos + 2))
                    if d is not None and (c is None or d.score > c.score):
                        c = d
            if c is not None and c.end > pos:
                out.append(c)
                pos = c.end
                try_here = True
                continue
            floor = out[-1].end if out else s
            before = len(out)
            nxt = self._next_candidate(page, pos + 1, e, floor, hints, out, prefer)
            if nxt < 0:
                break
            pos, try_here = nxt, len(out) > before
        return out

    def stale_header(self, page: memoryview, p: int, e: int) -> bool:
        """Bytes at p can be a freeblock header: a next offset of 0 or past p, a size that fits."""
        nxt, size = u16(page, p), u16(page, p + 2)
        return 4 <= size <= self.usable - p and (nxt == 0 or p < nxt < self.usable)

    def _next_candidate(self, page: memoryview, pos: int, e: int, floor: int, hints: dict[int, int],
                        out: list[Carved], prefer: Table | None) -> int:
        """Position of the next freeblock start, or (having appended it to `out`) the end of the next
        cell found from a record header, or from a stale freeblock header followed by serial types,
        that the schema regexes find; -1 when there is none."""
        next_hint = min((h for h in hints if h >= pos), default=e)
        found: dict[str, re.Match[bytes] | None] = {}
        while pos < next_hint and self.budget[0] > 0:
            for name, rx in (("head", self.regex), ("stale", self.stale)):
                m = found.get(name)
                if rx is not None and (name not in found or (m is not None and m.start() < pos)):
                    found[name] = rx.search(page, pos, next_hint)
            hits = [(m.start(), name) for name, m in found.items() if m is not None]
            if not hits:
                break
            at, kind = min(hits)
            c = self._candidate_at(page, at, kind, e, floor, prefer)
            if c is not None:
                out.append(c)
                return c.end
            pos = at + 1
        return next_hint if next_hint < e else -1

    def _candidate_at(self, page: memoryview, at: int, kind: str, e: int, floor: int,
                      prefer: Table | None) -> Carved | None:
        if kind == "stale":
            if at < floor or not self.stale_header(page, at, e):
                return None
            c = self.damaged(page, at, e, prefer, u16(page, at + 2), header_lost=True)
            if c is None:
                return None
            for start in range(at + 1, at + 5):   # "stale header" bytes that are an intact cell's start
                i = self.intact(page, start, e, prefer, truncate_ok=True)
                if i is not None and i.end == c.end:
                    return i
            return c
        for start in self._starts_before(page, at, floor):
            c = self.intact(page, start, e, prefer, truncate_ok=True)
            if c is not None and c.score >= self.min_score(c):
                return c
        if at - 4 >= floor:
            return self._header_only(page, at, e, prefer)
        return None

    def _starts_before(self, page: memoryview, hq: int, floor: int) -> list[int]:
        """Cell starts whose rowid and payload-size varints end right before the header at hq."""
        if hq - 2 < floor or page[hq - 1] >= 0x80:
            return []
        j = hq - 2
        while j >= 0 and page[j] >= 0x80 and hq - 1 - j < 8:
            j -= 1
        # j is the last byte of the payload-size varint
        if j < 0 or page[j] >= 0x80:
            return []
        k = j - 1
        while k >= 0 and page[k] >= 0x80 and j - k < 3:
            k -= 1
        start = k + 1
        return [start] if start >= floor else []

    def _header_only(self, page: memoryview, hq: int, e: int, prefer: Table | None) -> Carved | None:
        """A record header with intact serial types whose cell start is lost (rowid unknown)."""
        self.budget[0] -= 1
        hdr = read_header(page, hq, e)
        if hdr is None:
            return None
        types, body = hdr
        hsize = body - hq
        payload = hsize + body_size(types)
        start = hq - max(4, varint_len(payload) + 1)
        c = self.finish(page, start, hq, types, hsize, None, e, prefer, False)
        if c is None or c.partial or c.score < self.min_score(c):
            return None
        return c
