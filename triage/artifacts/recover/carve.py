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

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .pages import local_size, u16, u32
from .record import LOST, body_size, decode_body, read_header, read_types, read_varint, serial_size, varint_len
from .schema import Column, Table

# (first overflow page, bytes wanted) -> (bytes read, lost ranges within them)
OverflowReader = Callable[[int, int], tuple[bytes, list[tuple[int, int]]]]

_INT_TYPES = (1, 2, 3, 4, 5, 6, 8, 9)
_NUM_TYPES = (1, 2, 3, 4, 5, 6, 7, 8, 9)


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


def fit(col: Column, t: int) -> int:
    """1: the serial type is what the column normally holds; 0: possible; -1: impossible."""
    if col.ipk:
        return 1 if t == 0 else -1
    if t == 0:
        return -1 if col.not_null else 1
    aff = col.affinity
    if aff == "TEXT":
        return -1 if t < 12 else (1 if t & 1 else 0)
    if aff in ("INTEGER", "REAL"):
        return 1 if t <= 9 else 0
    return 1


_INT_BOUNDS = ((1, 127), (2, 32767), (3, 8388607), (4, 2147483647), (5, 140737488355327))


def _canonical_ints(types: list[int], values: list[Any], zero_one_types: bool) -> bool:
    """SQLite writes an integer in the smallest serial type that holds it, and 0 and 1 as types
    8 and 9 (schema format 4); a record that does otherwise was not written by SQLite."""
    for t, v in zip(types, values):
        if 1 <= t <= 6 and v.__class__ is int:
            if zero_one_types and (v == 0 or v == 1):
                return False
            for st, hi in _INT_BOUNDS:
                if -hi - 1 <= v <= hi:
                    if st != t:
                        return False
                    break
            else:
                if t != 6:
                    return False
    return True


def _addable(col: Column) -> bool:
    """ALTER TABLE ADD COLUMN can have added this column (not the rowid alias, NULL or a default)."""
    return not col.ipk and (not col.not_null or col.default is not None)


def _col_pattern(col: Column) -> str:
    if col.ipk:
        return r"\x00"
    null = "" if col.not_null else r"\x00"
    multi = r"[\x81-\xff]{1,2}[\x00-\x7f]"
    if col.affinity == "TEXT":
        return rf"(?:[{null}\x0c-\x7f]|{multi})"
    if col.affinity in ("INTEGER", "REAL"):
        return rf"[{null}\x01-\x09]"
    return rf"(?:[{null}\x01-\x09\x0c-\x7f]|{multi})"


def header_regex(tables: list[Table]) -> re.Pattern[bytes] | None:
    """Positions where an intact record header of one of `tables` may start."""
    alts: list[str] = []
    for t in tables:
        n = len(t.stored)
        if not 1 <= n <= 120:
            continue
        multi = sum(1 for c in t.stored if not c.ipk and c.affinity not in ("INTEGER", "REAL"))
        lo, hi = n + 1, min(127, n + 1 + 2 * multi)
        pat = rf"[\x{lo:02x}-\x{hi:02x}]" + "".join(_col_pattern(c) for c in t.stored)
        if pat not in alts:
            alts.append(pat)
    if not alts:
        return None
    return re.compile(("(?=(?:" + ")|(?:".join(alts) + "))").encode("latin-1"), re.S)


def stale_regex(tables: list[Table], usable: int) -> re.Pattern[bytes] | None:
    """Positions of a freeblock header (next offset inside the page, size >= 4) followed by the
    serial types of a record whose header-size byte (and maybe first type) it overwrote."""
    alts: list[str] = []
    for t in tables:
        n = len(t.stored)
        if not 2 <= n <= 120:
            continue
        for cols in (t.stored, t.stored[1:]):
            pat = "".join(_col_pattern(c) for c in cols)
            if pat not in alts:
                alts.append(pat)
    if not alts:
        return None
    top = min((usable - 1) >> 8, 255)
    head = rf"[\x00-\x{top:02x}][\x00-\xff](?:[\x01-\x{top:02x}][\x00-\xff]|\x00[\x04-\xff])"
    return re.compile((head + "(?=(?:" + ")|(?:".join(alts) + "))").encode("latin-1"), re.S)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _text_penalty(values: list[Any]) -> int:
    """Penalty for text values with control characters (misaligned or foreign bytes)."""
    bad = 0
    for v in values:
        if v.__class__ is str and v and _CONTROL.search(v):
            ctrl = len(_CONTROL.findall(v))
            if ctrl:
                bad += 10 + (20 * ctrl) // len(v)
    return bad


# which of two serial types of one size a lost first type was, by column affinity
_SAME_SIZE_PREFERENCE = {"INTEGER": 6, "REAL": 7}


@functools.lru_cache(maxsize=4096)
def _first_types_all(col: Column) -> tuple[tuple[int, bool], ...]:
    """Serial types the lost first type of a record can have had, for a column: (type, unsure).
    Types of one size read the same bytes; where they would read different values (NULL, 0 or 1;
    int64 or real) and the affinity does not decide, the value is taken as lost (unsure)."""
    cands: list[int] = []
    if col.affinity in ("INTEGER", "REAL", "NUMERIC", "BLOB"):
        cands += [0, *_NUM_TYPES]
    if col.affinity not in ("INTEGER", "REAL"):
        for size in range(58):
            cands += [13 + 2 * size, 12 + 2 * size]   # text first, then blob
    ok = [t for t in cands if fit(col, t) >= 0]
    out: list[tuple[int, bool]] = []
    numeric: dict[int, list[int]] = {}
    for t in ok:
        if t < 12:
            numeric.setdefault(serial_size(t), []).append(t)
    for size, types in numeric.items():
        pick = _SAME_SIZE_PREFERENCE.get(col.affinity)
        if len(types) == 1:
            out.append((types[0], False))
        else:
            out.append((pick, False) if pick in types else (types[0], True))
    out += [(t, False) for t in ok if t >= 12]
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _first_types_split(col: Column) -> tuple[list[tuple[int, bool]], dict[int, list[tuple[int, bool]]]]:
    numeric = [(t, u) for t, u in _first_types_all(col) if t < 12]
    by_size: dict[int, list[tuple[int, bool]]] = {}
    for t, u in _first_types_all(col):
        if t >= 12:
            by_size.setdefault(serial_size(t), []).append((t, u))
    return numeric, by_size


def _first_types(col: Column, size1: int) -> list[tuple[int, bool]]:
    """As _first_types_all; with the first value's size known (size1 >= 0), numbers of any size
    (the freeblock may hold more than this cell) and text or blob of that size only."""
    if size1 < 0:
        return list(_first_types_all(col))
    numeric, by_size = _first_types_split(col)
    return numeric + by_size.get(size1, [])


def _read_type_prefix(page: memoryview, i: int, count: int, end: int) -> tuple[list[int], list[int]]:
    """Up to `count` serial types from i (stopping at one that cannot be) and the offset after each."""
    raw = bytes(page[i:min(i + 2 * count, end)])
    types: list[int] = []
    ends: list[int] = []
    k, n = 0, len(raw)
    while len(types) < count and k < n:
        b = raw[k]
        if b < 0x80:
            t = b
            k += 1
        elif k + 1 < n and raw[k + 1] < 0x80:
            t = ((b & 0x7F) << 7) | raw[k + 1]
            k += 2
        else:
            t, j = read_varint(page, i + k, end)   # three bytes or more: rare, read in place
            if j < 0:
                break
            k = j - i
            raw = bytes(page[i:min(i + k + 2 * count, end)])
            n = len(raw)
        if t == 10 or t == 11 or t < 0:
            break
        types.append(t)
        ends.append(i + k)
    return types, ends


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
            while k > 2 and n - k < max(3, n // 3) and _addable(t.stored[k - 1]):
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

    def _finish(self, page: memoryview, start: int, q: int, types: list[int], hsize: int, rowid: int | None,
                limit: int, prefer: Table | None, intact: bool, lost_head: int = 0) -> Carved | None:
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
        if not _canonical_ints(types, values, self.zero_one_types):
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
        score = 4 * score - 10 * (len(types) - score) - _text_penalty(values) - 2 * lost_count
        return Carved(table, rowid, values, start, min(end, limit), score, intact)

    def _prior(self, table: Table, values: list[Any]) -> int:
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
        return self._finish(page, p, q, types, hsize, rowid, limit, prefer, True)

    def damaged(self, page: memoryview, p: int, limit: int, prefer: Table | None,
                hint: int | None, header_lost: bool = False) -> Carved | None:
        """The best reading of a cell at p whose first four bytes were overwritten. Readings with
        more of the header intact come first; one that fills the freeblock exactly ends the search.
        `header_lost`: serial types are known to start at p+4, so skip the intact-header readings."""
        self.budget[0] -= 1
        prefix = _read_type_prefix(page, p + 4, self.exact_counts[-1] if self.exact_counts else 0, limit)
        if hint is not None and 4 <= hint <= limit - p:
            fitting = self._exact_fit(page, p, limit, prefer, hint, header_lost, prefix)
            if fitting is not None:
                return fitting
        best: Carved | None = None
        groups = [self._size_byte_lost(page, p, limit, prefer, prefix),
                  self._first_type_lost(page, p, limit, prefer, hint, prefix)]
        if not header_lost:
            groups.insert(0, self._header_intact(page, p, limit, prefer))
        for readings in groups:
            exact = False
            for cand in readings:
                if cand.score < self.min_score(cand):
                    continue
                cand.score += self._fit_bonus(page, cand, p, limit, hint) + self._prior(cand.table, cand.values)
                if best is None or cand.score > best.score:
                    best = cand
                if hint is not None and cand.end == p + hint and not cand.partial and cand is best:
                    exact = True
                    break
            if exact:
                break
        return best

    def _exact_fit(self, page: memoryview, p: int, limit: int, prefer: Table | None, hint: int,
                   header_lost: bool, prefix: tuple[list[int], list[int]]) -> Carved | None:
        """The common case, cheaply: one freed cell alone in its freeblock, so the cell is exactly
        `hint` bytes long. Sizes are checked before anything is decoded."""
        types_all, ends = prefix
        for n in self.exact_counts:   # header-size byte lost (q = p+3)
            if n > len(types_all):
                break
            types = types_all[:n]
            hsize = ends[n - 1] - (p + 3)
            payload = hsize + body_size(types)
            if hsize < 128 and 3 + payload == hint and varint_len(payload) <= 2:
                c = self._finish(page, p, p + 3, types, hsize, None, limit, prefer, False)
                if c is not None and c.score >= self.min_score(c):
                    return c
        for n in self.exact_counts:   # header-size byte and first type lost (q = p+2)
            if n < 2 or n - 1 > len(types_all):
                continue
            rest = types_all[:n - 1]
            hsize = ends[n - 2] - (p + 2)
            size1 = hint - 2 - hsize - body_size(rest)
            if size1 < 0 or hint - 2 >= 128:
                continue
            for table in self.by_n.get(n, []):
                for t1, unsure in _first_types(table.stored[0], size1):
                    if serial_size(t1) != size1:
                        continue
                    c = self._finish(page, p, p + 2, [t1, *rest], hsize, None, limit, prefer, False)
                    if c is not None and c.score >= self.min_score(c):
                        if unsure:
                            c.values[0] = LOST
                        return c
        if header_lost:
            return None
        for q in range(p + 4, min(p + 13, limit)):   # the record header survived
            if not self.h_lo <= page[q] <= self.h_hi and page[q] < 0x80:
                continue
            hdr = read_header(page, q, limit)
            if hdr is None:
                continue
            types, body = hdr
            payload = body - q + body_size(types)
            local = local_size(payload, self.usable)
            size = q - p + (payload if local >= payload else local + 4)
            a = varint_len(payload)
            if size != hint or not 1 <= q - p - a <= 9:
                continue
            c = self._finish(page, p, q, types, body - q, None, limit, prefer, False)
            if c is not None and c.score >= self.min_score(c):
                return c
        return None

    def _header_intact(self, page: memoryview, p: int, limit: int, prefer: Table | None) -> Iterator[Carved]:
        """Payload-size and rowid varints took 4..12 bytes: the record header starts at q >= p+4."""
        for q in range(p + 4, min(p + 13, limit)):
            if not self.h_lo <= page[q] <= self.h_hi and page[q] < 0x80:
                continue
            hdr = read_header(page, q, limit)
            if hdr is None:
                continue
            types, body = hdr
            hsize = body - q
            payload = hsize + body_size(types)
            a = varint_len(payload)
            b = q - p - a
            if not 1 <= b <= 9 or (q - 1 >= p + 4 and page[q - 1] >= 0x80 and b < 9):
                continue
            if p + a - 1 >= p + 4 and page[p + a - 1] >= 0x80:
                continue
            c = self._finish(page, p, q, types, hsize, None, limit, prefer, False)
            if c is not None:
                yield c

    def _size_byte_lost(self, page: memoryview, p: int, limit: int, prefer: Table | None,
                        prefix: tuple[list[int], list[int]]) -> Iterator[Carved]:
        """Header-size byte overwritten (q = p+3): the serial types start at p+4."""
        types_all, ends = prefix
        for n in self.exact_counts:
            if n > len(types_all):
                break
            types, body = types_all[:n], ends[n - 1]
            hsize = body - (p + 3)
            if hsize >= 128:
                break
            payload = hsize + body_size(types)
            if varint_len(payload) > 2:
                continue
            end = p + 3 + payload + (4 if local_size(payload, self.usable) < payload else 0)
            if end <= limit and not self._end_plausible(page, end, limit, p, None):
                continue
            c = self._finish(page, p, p + 3, types, hsize, None, limit, prefer, False)
            if c is not None:
                yield c

    def _first_type_lost(self, page: memoryview, p: int, limit: int, prefer: Table | None,
                         hint: int | None, prefix: tuple[list[int], list[int]]) -> Iterator[Carved]:
        """Header-size byte and first serial type overwritten (q = p+2; payload and rowid took one
        byte each, so the payload is below 128): the first type is tried from what the column can
        hold; a reading must end where the free space does, or where a next cell can start."""
        types_all, ends = prefix
        for n in self.exact_counts:
            if n < 2:
                continue
            if n - 1 > len(types_all):
                break
            rest, body = types_all[:n - 1], ends[n - 2]
            hsize = body - (p + 2)
            rest_size = body_size(rest)
            if hsize + rest_size >= 128:
                break
            size1 = hint - 2 - hsize - rest_size if hint is not None else -1
            tried: set[tuple[int, bool]] = set()
            for table in self.by_n.get(n, []):
                for t1, unsure in _first_types(table.stored[0], size1):
                    if (t1, unsure) in tried:
                        continue
                    tried.add((t1, unsure))
                    size = serial_size(t1)
                    end = body + size + rest_size
                    if end - p - 2 >= 128 or body + size > limit:
                        continue
                    if end <= limit and not self._end_plausible(page, end, limit, p, hint):
                        continue
                    c = self._finish(page, p, p + 2, [t1, *rest], hsize, None, limit, prefer, False)
                    if c is not None:
                        if unsure:
                            c.values[0] = LOST
                        yield c

    def _end_plausible(self, page: memoryview, end: int, limit: int, p: int, hint: int | None) -> bool:
        """Something a cell can be followed by in free space starts at `end`."""
        if end == limit or (hint is not None and end == p + hint):
            return True
        if end + 4 > limit:
            return False
        if self._stale_header(page, end, limit) or not any(page[end:end + 4]):
            return True
        return self._looks_like_cell(page, end, limit)

    def _looks_like_cell(self, page: memoryview, p: int, limit: int) -> bool:
        """A cheap test for an intact cell start: two varints, then a header size these tables
        can have, no larger than the payload."""
        payload, i = read_varint(page, p, limit)
        if i < 0 or i - p > 3:
            return False
        _rowid, q = read_varint(page, i, limit)
        if q < 0 or q >= limit:
            return False
        h = page[q]
        return self.h_lo <= h <= self.h_hi and h < payload

    def _fit_bonus(self, page: memoryview, c: Carved, p: int, limit: int, hint: int | None) -> int:
        """How well the cell's end lines up with what we know of the free space around it."""
        if c.partial:
            return -4 if c.end < limit else 0
        bonus = 0
        if hint is not None and c.end == p + hint:
            bonus += 12
        if c.end == limit:
            bonus += 6
        elif c.end + 4 <= limit:
            nxt, size = u16(page, c.end), u16(page, c.end + 2)
            if size >= 4 and c.end + size <= limit and (nxt == 0 or c.end < nxt < self.usable):
                bonus += 6   # a stale freeblock header: the next freed cell starts here
            elif bytes(page[c.end:c.end + 4]) == b"\x00\x00\x00\x00":
                bonus += 2
            elif self.intact(page, c.end, limit, None) is not None:
                bonus += 6
        else:
            bonus -= 2
        return bonus

    # -- regions --------------------------------------------------------------------------------

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
                if (c is None or c.partial) and self._stale_header(page, pos, e):
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

    def _stale_header(self, page: memoryview, p: int, e: int) -> bool:
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
            if at < floor or not self._stale_header(page, at, e):
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
        c = self._finish(page, start, hq, types, hsize, None, e, prefer, False)
        if c is None or c.partial or c.score < self.min_score(c):
            return None
        return c
