"""What a record of a table can look like: the serial types each column can hold, regexes that
find record headers (intact, or behind a freeblock header), integers in their canonical serial
type, text that looks misaligned, and the candidates for a first serial type that was lost.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .record import read_varint, serial_size
from .schema import Column, Table

_NUM_TYPES = (1, 2, 3, 4, 5, 6, 7, 8, 9)


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


def canonical_ints(types: list[int], values: list[Any], zero_one_types: bool) -> bool:
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


def addable(col: Column) -> bool:
    """ALTER TABLE ADD COLUMN can have added this column (not the rowid alias, NULL or a default)."""
    return not col.ipk and (not col.not_null or col.default is not None)


def col_pattern(col: Column) -> str:
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
        pat = rf"[\x{lo:02x}-\x{hi:02x}]" + "".join(col_pattern(c) for c in t.stored)
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
            pat = "".join(col_pattern(c) for c in cols)
            if pat not in alts:
                alts.append(pat)
    if not alts:
        return None
    top = min((usable - 1) >> 8, 255)
    head = rf"[\x00-\x{top:02x}][\x00-\xff](?:[\x01-\x{top:02x}][\x00-\xff]|\x00[\x04-\xff])"
    return re.compile((head + "(?=(?:" + ")|(?:".join(alts) + "))").encode("latin-1"), re.S)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def text_penalty(values: list[Any]) -> int:
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
def first_types_all(col: Column) -> tuple[tuple[int, bool], ...]:
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
def first_types_split(col: Column) -> tuple[list[tuple[int, bool]], dict[int, list[tuple[int, bool]]]]:
    numeric = [(t, u) for t, u in first_types_all(col) if t < 12]
    by_size: dict[int, list[tuple[int, bool]]] = {}
    for t, u in first_types_all(col):
        if t >= 12:
            by_size.setdefault(serial_size(t), []).append((t, u))
    return numeric, by_size


def first_types(col: Column, size1: int) -> list[tuple[int, bool]]:
    """As first_types_all; with the first value's size known (size1 >= 0), numbers of any size
    (the freeblock may hold more than this cell) and text or blob of that size only."""
    if size1 < 0:
        return list(first_types_all(col))
    numeric, by_size = first_types_split(col)
    return numeric + by_size.get(size1, [])


def read_type_prefix(page: memoryview, i: int, count: int, end: int) -> tuple[list[int], list[int]]:
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


