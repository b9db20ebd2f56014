"""Cells whose first four bytes a freeblock header overwrote (payload size, rowid and maybe the
record's header-size byte and first serial type): the readings FQLite makes, most header intact
first, each checked against the schema, the freeblock size and what follows the cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .pages import local_size, u16
from .record import LOST, body_size, read_header, read_varint, serial_size, varint_len
from .rules import first_types, read_type_prefix
from .schema import Table

if TYPE_CHECKING:
    from .carve import Carved, Carver


def damaged(cv: Carver, page: memoryview, p: int, limit: int, prefer: Table | None,
            hint: int | None, header_lost: bool = False) -> Carved | None:
    """The best reading of a cell at p whose first four bytes were overwritten. Readings with
    more of the header intact come first; one that fills the freeblock exactly ends the search.
    `header_lost`: serial types are known to start at p+4, so skip the intact-header readings."""
    cv.budget[0] -= 1
    prefix = read_type_prefix(page, p + 4, cv.exact_counts[-1] if cv.exact_counts else 0, limit)
    if hint is not None and 4 <= hint <= limit - p:
        fitting = exact_fit(cv, page, p, limit, prefer, hint, header_lost, prefix)
        if fitting is not None:
            return fitting
    best: Carved | None = None
    groups = [size_byte_lost(cv, page, p, limit, prefer, prefix),
              first_type_lost(cv, page, p, limit, prefer, hint, prefix)]
    if not header_lost:
        groups.insert(0, header_intact(cv, page, p, limit, prefer))
    for readings in groups:
        exact = False
        for cand in readings:
            if cand.score < cv.min_score(cand):
                continue
            cand.score += fit_bonus(cv, page, cand, p, limit, hint) + cv.prior(cand.table, cand.values)
            if best is None or cand.score > best.score:
                best = cand
            if hint is not None and cand.end == p + hint and not cand.partial and cand is best:
                exact = True
                break
        if exact:
            break
    return best

def exact_fit(cv: Carver, page: memoryview, p: int, limit: int, prefer: Table | None, hint: int,
               header_lost: bool, prefix: tuple[list[int], list[int]]) -> Carved | None:
    """The common case, cheaply: one freed cell alone in its freeblock, so the cell is exactly
    `hint` bytes long. Sizes are checked before anything is decoded."""
    types_all, ends = prefix
    for n in cv.exact_counts:   # header-size byte lost (q = p+3)
        if n > len(types_all):
            break
        types = types_all[:n]
        hsize = ends[n - 1] - (p + 3)
        payload = hsize + body_size(types)
        if hsize < 128 and 3 + payload == hint and varint_len(payload) <= 2:
            c = cv.finish(page, p, p + 3, types, hsize, None, limit, prefer, False)
            if c is not None and c.score >= cv.min_score(c):
                return c
    for n in cv.exact_counts:   # header-size byte and first type lost (q = p+2)
        if n < 2 or n - 1 > len(types_all):
            continue
        rest = types_all[:n - 1]
        hsize = ends[n - 2] - (p + 2)
        size1 = hint - 2 - hsize - body_size(rest)
        if size1 < 0 or hint - 2 >= 128:
            continue
        for table in cv.by_n.get(n, []):
            for t1, unsure in first_types(table.stored[0], size1):
                if serial_size(t1) != size1:
                    continue
                c = cv.finish(page, p, p + 2, [t1, *rest], hsize, None, limit, prefer, False)
                if c is not None and c.score >= cv.min_score(c):
                    if unsure:
                        c.values[0] = LOST
                    return c
    if header_lost:
        return None
    for q in range(p + 4, min(p + 13, limit)):   # the record header survived
        if not cv.h_lo <= page[q] <= cv.h_hi and page[q] < 0x80:
            continue
        hdr = read_header(page, q, limit)
        if hdr is None:
            continue
        types, body = hdr
        payload = body - q + body_size(types)
        local = local_size(payload, cv.usable)
        size = q - p + (payload if local >= payload else local + 4)
        a = varint_len(payload)
        if size != hint or not 1 <= q - p - a <= 9:
            continue
        c = cv.finish(page, p, q, types, body - q, None, limit, prefer, False)
        if c is not None and c.score >= cv.min_score(c):
            return c
    return None

def header_intact(cv: Carver, page: memoryview, p: int, limit: int, prefer: Table | None) -> Iterator[Carved]:
    """Payload-size and rowid varints took 4..12 bytes: the record header starts at q >= p+4."""
    for q in range(p + 4, min(p + 13, limit)):
        if not cv.h_lo <= page[q] <= cv.h_hi and page[q] < 0x80:
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
        c = cv.finish(page, p, q, types, hsize, None, limit, prefer, False)
        if c is not None:
            yield c

def size_byte_lost(cv: Carver, page: memoryview, p: int, limit: int, prefer: Table | None,
                    prefix: tuple[list[int], list[int]]) -> Iterator[Carved]:
    """Header-size byte overwritten (q = p+3): the serial types start at p+4."""
    types_all, ends = prefix
    for n in cv.exact_counts:
        if n > len(types_all):
            break
        types, body = types_all[:n], ends[n - 1]
        hsize = body - (p + 3)
        if hsize >= 128:
            break
        payload = hsize + body_size(types)
        if varint_len(payload) > 2:
            continue
        end = p + 3 + payload + (4 if local_size(payload, cv.usable) < payload else 0)
        if end <= limit and not end_plausible(cv, page, end, limit, p, None):
            continue
        c = cv.finish(page, p, p + 3, types, hsize, None, limit, prefer, False)
        if c is not None:
            yield c

def first_type_lost(cv: Carver, page: memoryview, p: int, limit: int, prefer: Table | None,
                     hint: int | None, prefix: tuple[list[int], list[int]]) -> Iterator[Carved]:
    """Header-size byte and first serial type overwritten (q = p+2; payload and rowid took one
    byte each, so the payload is below 128): the first type is tried from what the column can
    hold; a reading must end where the free space does, or where a next cell can start."""
    types_all, ends = prefix
    for n in cv.exact_counts:
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
        for table in cv.by_n.get(n, []):
            for t1, unsure in first_types(table.stored[0], size1):
                if (t1, unsure) in tried:
                    continue
                tried.add((t1, unsure))
                size = serial_size(t1)
                end = body + size + rest_size
                if end - p - 2 >= 128 or body + size > limit:
                    continue
                if end <= limit and not end_plausible(cv, page, end, limit, p, hint):
                    continue
                c = cv.finish(page, p, p + 2, [t1, *rest], hsize, None, limit, prefer, False)
                if c is not None:
                    if unsure:
                        c.values[0] = LOST
                    yield c

def end_plausible(cv: Carver, page: memoryview, end: int, limit: int, p: int, hint: int | None) -> bool:
    """Something a cell can be followed by in free space starts at `end`."""
    if end == limit or (hint is not None and end == p + hint):
        return True
    if end + 4 > limit:
        return False
    if cv.stale_header(page, end, limit) or not any(page[end:end + 4]):
        return True
    return looks_like_cell(cv, page, end, limit)

def looks_like_cell(cv: Carver, page: memoryview, p: int, limit: int) -> bool:
    """A cheap test for an intact cell start: two varints, then a header size these tables
    can have, no larger than the payload."""
    payload, i = read_varint(page, p, limit)
    if i < 0 or i - p > 3:
        return False
    _rowid, q = read_varint(page, i, limit)
    if q < 0 or q >= limit:
        return False
    h = page[q]
    return cv.h_lo <= h <= cv.h_hi and h < payload

def fit_bonus(cv: Carver, page: memoryview, c: Carved, p: int, limit: int, hint: int | None) -> int:
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
        if size >= 4 and c.end + size <= limit and (nxt == 0 or c.end < nxt < cv.usable):
            bonus += 6   # a stale freeblock header: the next freed cell starts here
        elif bytes(page[c.end:c.end + 4]) == b"\x00\x00\x00\x00":
            bonus += 2
        elif cv.intact(page, c.end, limit, None) is not None:
            bonus += 6
    else:
        bonus -= 2
    return bonus

# -- regions --------------------------------------------------------------------------------
