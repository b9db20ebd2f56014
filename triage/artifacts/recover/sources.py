"""Where deleted records can lie: every free area of the current database, and every page image that
is not the current version of its page (main-file pages a WAL frame supersedes, other WAL frames,
rollback-journal records). Each comes as a `Region` list for the carver.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pages import TABLE_INTERIOR, TABLE_LEAF, BTreePage, freeblocks, free_intervals, parse_btree
from .structure import PageMap, PageView
from .wal import Wal


@dataclass(frozen=True)
class Image:
    """One page image to search."""
    file: str            # "main", "wal" or "journal"
    base: int            # offset of the page image in that file
    page: memoryview
    pgno: int
    where: str           # e.g. "freelist leaf page 40", "WAL frame 9 (older version of page 5)"
    whole: bool          # an old or free page: its cells count too, not only its free bytes
    role: str = "old"    # "live", "trunk", "freeleaf", "unused", "past" (past the end), "old"
    skip_head: int = 0   # bytes at the start that hold no old content (a freelist trunk's list)


def current_images(view: PageView, pmap: PageMap) -> list[Image]:
    """Free areas of the current database: live table pages, freelist pages, unaccounted pages."""
    out: list[Image] = []
    for pgno in range(1, view.scan_pages + 1):
        page = view.page(pgno)
        if page is None:
            continue
        file, base = view.origin(pgno)
        kind = pmap.kind.get(pgno)
        note = f" (WAL frame {view.from_wal[pgno]})" if pgno in view.from_wal else ""
        if kind == "table":
            out.append(Image(file, base, page, pgno, f"page {pgno}{note}", False, "live"))
        elif kind == "trunk":
            out.append(Image(file, base, page, pgno, f"freelist trunk page {pgno}{note}", True, "trunk",
                             pmap.trunk_used.get(pgno, 8)))
        elif kind == "freeleaf":
            out.append(Image(file, base, page, pgno, f"freelist leaf page {pgno}{note}", True, "freeleaf"))
        elif kind is None:
            if pgno > view.npages:
                out.append(Image(file, base, page, pgno, f"page {pgno} past the end of the database{note}",
                                 True, "past"))
            else:
                out.append(Image(file, base, page, pgno, f"unused page {pgno}{note}", True, "unused"))
    return out


def old_images(view: PageView, wal: Wal | None, main: memoryview, page_size: int) -> list[Image]:
    """Main-file pages a committed WAL frame supersedes, and every WAL frame that is not the
    current version of its page."""
    out: list[Image] = []
    main_pages = len(main) // page_size
    for pgno, frame in sorted(view.from_wal.items()):
        if pgno <= main_pages:
            base = (pgno - 1) * page_size
            out.append(Image("main", base, main[base:base + page_size], pgno,
                             f"page {pgno} of the main file (superseded by WAL frame {frame})", True))
    if wal is None or view.wal_data is None:
        return out
    for f in wal.frames:
        if view.from_wal.get(f.pgno) == f.index and f.committed:
            continue
        if f.committed:
            state = f"older version of page {f.pgno}"
        elif f.valid:
            state = f"uncommitted, page {f.pgno}"
        else:
            state = f"not read by SQLite: salt or checksum breaks the chain, page {f.pgno}"
        out.append(Image("wal", f.offset, view.wal_data[f.offset:f.offset + wal.page_size], f.pgno,
                         f"WAL frame {f.index} ({state})", True))
    return out


def journal_images(data: memoryview, records: list[tuple[int, int, int]], page_size: int) -> list[Image]:
    """(record number, page number, offset) -> images of a rollback journal's original pages."""
    return [Image("journal", off, data[off:off + page_size], pgno,
                  f"journal record {index} (original of page {pgno})", True) for index, pgno, off in records]


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    what: str                 # "cell", "freeblock", "unallocated area", "free page"
    hints: dict[int, int]     # freeblock starts -> sizes inside the region


def regions(img: Image, usable: int) -> tuple[BTreePage | None, list[Region], int]:
    """The b-tree header of the image (if it has one), the byte ranges to carve, and the number of
    cell pointers that lead to no readable cell."""
    if img.skip_head:
        return None, [Region(min(img.skip_head, usable), usable, "free page", {})], 0
    hdr = 100 if img.pgno == 1 else 0
    bt = parse_btree(img.page, hdr, usable)
    if bt is None:
        if img.whole:
            return None, [Region(hdr, usable, "free page", {})], 0
        return None, [], 0
    if bt.kind not in (TABLE_LEAF, TABLE_INTERIOR):
        return bt, [], 0   # index pages hold index records, not rows
    fbs = freeblocks(img.page, bt, usable)
    out: list[Region] = []
    intervals, broken = free_intervals(img.page, bt, usable)
    for a, b in intervals:
        if a < bt.content_start:
            top = min(b, bt.content_start)
            out.append(Region(a, top, "unallocated area", {}))
            a = top
        pos = a
        for o in sorted(o for o in fbs if a <= o < b):
            if o < pos:
                continue
            if o - pos > 3:
                out.append(Region(pos, o, "unlisted space", {}))
            end = min(b, o + fbs[o])
            out.append(Region(o, end, "freeblock", {o: fbs[o]}))
            pos = end
        if b - pos > 3:   # three bytes or fewer are a fragment, never a cell
            out.append(Region(pos, b, "unlisted space", {}))
    return bt, out, broken
