"""The database header and b-tree pages: header fields, cell pointers, freeblocks, free intervals.

Every reader checks its offsets against the page, so a manipulated page (anti-forensic corpus
categories 11-19) yields less, never an exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .record import ENCODINGS, read_varint

MAGIC = b"SQLite format 3\x00"
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

TABLE_LEAF = 13
TABLE_INTERIOR = 5
INDEX_LEAF = 10
INDEX_INTERIOR = 2
BTREE_KINDS = (TABLE_LEAF, TABLE_INTERIOR, INDEX_LEAF, INDEX_INTERIOR)


class RecoveryError(Exception):
    """The input is not a SQLite database at all."""


def u16(buf: bytes | memoryview, i: int) -> int:
    return int(_U16.unpack_from(buf, i)[0])


def u32(buf: bytes | memoryview, i: int) -> int:
    return int(_U32.unpack_from(buf, i)[0])


@dataclass(frozen=True)
class DbHeader:
    page_size: int
    reserved: int
    encoding: str
    first_trunk: int
    freelist_count: int
    header_pages: int   # the in-header database size (0 when not valid)
    autovacuum: bool
    schema_format: int = 4

    @property
    def usable(self) -> int:
        return self.page_size - self.reserved


def valid_page_size(size: int) -> bool:
    return 512 <= size <= 65536 and size & (size - 1) == 0


def parse_header(data: bytes | memoryview) -> DbHeader:
    """The 100-byte database header; RecoveryError when the file is not SQLite."""
    if len(data) < 100 or bytes(data[:16]) != MAGIC:
        raise RecoveryError("not a SQLite 3 database (no 'SQLite format 3' header)")
    raw = u16(data, 16)
    page_size = 65536 if raw == 1 else raw
    if not valid_page_size(page_size):
        page_size = _guess_page_size(data)
    reserved = data[20]
    if page_size - reserved < 480:
        reserved = 0
    enc = ENCODINGS.get(u32(data, 56), "utf-8")
    header_pages = u32(data, 28)
    if u32(data, 92) != u32(data, 24):  # "version-valid-for" differs: the size field is stale
        header_pages = 0
    return DbHeader(page_size, reserved, enc, u32(data, 32), u32(data, 36), header_pages, u32(data, 52) != 0,
                    u32(data, 44))


def _guess_page_size(data: bytes | memoryview) -> int:
    """A page size for a header whose field was overwritten: the first that puts a b-tree page
    header at the start of page 2 (4096 when none does)."""
    for size in (4096, 1024, 512, 2048, 8192, 16384, 32768, 65536):
        if len(data) >= 2 * size and data[size] in BTREE_KINDS and u16(data, size + 3) * 2 + 8 <= size:
            return size
    return 4096


def local_size(payload: int, usable: int, table_leaf: bool = True) -> int:
    """Bytes of a payload stored in the cell itself (the rest goes to overflow pages)."""
    x = usable - 35 if table_leaf else ((usable - 12) * 64 // 255) - 23
    if payload <= x:
        return payload
    m = ((usable - 12) * 32 // 255) - 23
    k = m + (payload - m) % (usable - 4)
    return k if k <= x else m


@dataclass
class BTreePage:
    kind: int
    hdr: int                 # offset of the b-tree header in the page (100 on page 1)
    first_freeblock: int
    ncells: int
    content_start: int
    right: int               # right-most child (interior pages), else 0
    pointers: list[int]      # cell pointers that point inside the page
    array_end: int


def parse_btree(page: bytes | memoryview, hdr: int, usable: int) -> BTreePage | None:
    """The b-tree header at `hdr`, or None when the bytes there are not one."""
    if hdr + 8 > len(page):
        return None
    kind = page[hdr]
    if kind not in BTREE_KINDS:
        return None
    interior = kind in (TABLE_INTERIOR, INDEX_INTERIOR)
    head = 12 if interior else 8
    ncells = u16(page, hdr + 3)
    array_end = hdr + head + 2 * ncells
    if array_end > usable:
        return None
    content = u16(page, hdr + 5) or 65536
    right = u32(page, hdr + 8) if interior else 0
    pointers = [u16(page, hdr + head + 2 * i) for i in range(ncells)]
    pointers = [p for p in pointers if array_end <= p < usable]
    return BTreePage(kind, hdr, u16(page, hdr + 1), ncells, content, right, pointers, array_end)


def freeblocks(page: bytes | memoryview, bt: BTreePage, usable: int, limit: int = 2048) -> dict[int, int]:
    """offset -> size of the freeblock chain, stopping at the first link that is out of order or
    out of the page (a manipulated chain gives what was readable before the fault)."""
    out: dict[int, int] = {}
    off = bt.first_freeblock
    while off and len(out) < limit:
        if off < bt.array_end or off + 4 > usable or off in out:
            break
        size = u16(page, off + 2)
        if size < 4 or off + size > usable:
            break
        out[off] = size
        nxt = u16(page, off)
        if nxt and nxt <= off:
            break
        off = nxt
    return out


def table_leaf_cell(page: bytes | memoryview, p: int, usable: int) -> tuple[int, int, int, int] | None:
    """(payload size, rowid, header offset, local bytes) of a table leaf cell at `p`, or None."""
    payload, i = read_varint(page, p, usable)
    if i < 0 or payload < 0:
        return None
    rowid, q = read_varint(page, i, usable)
    if q < 0:
        return None
    return payload, rowid, q, local_size(payload, usable)


def cell_extent(page: bytes | memoryview, p: int, kind: int, usable: int) -> int:
    """End offset of the cell at `p` on a page of `kind` (p itself when it cannot be read)."""
    if kind == TABLE_LEAF:
        cell = table_leaf_cell(page, p, usable)
        if cell is None:
            return p
        payload, _, q, local = cell
        return q + local + (4 if local < payload else 0)
    if kind == TABLE_INTERIOR:
        _, i = read_varint(page, p + 4, usable)
        return i if i > 0 else p
    start = p + 4 if kind == INDEX_INTERIOR else p
    payload, q = read_varint(page, start, usable)
    if q < 0 or payload < 0:
        return p
    local = local_size(payload, usable, table_leaf=False)
    return q + local + (4 if local < payload else 0)


def free_intervals(page: bytes | memoryview, bt: BTreePage, usable: int) -> tuple[list[tuple[int, int]], int]:
    """Byte ranges of the page that no live cell covers (freeblocks, fragments, unallocated area),
    and how many cell pointers lead to no readable cell."""
    extents = []
    for p in bt.pointers:
        end = cell_extent(page, p, bt.kind, usable)
        if p < end <= usable:
            extents.append((p, end))
    extents.sort()
    out: list[tuple[int, int]] = []
    pos = bt.array_end
    for a, b in extents:
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < usable:
        out.append((pos, usable))
    return out, bt.ncells - len(extents)
