"""Rollback journal page records (https://sqlite.org/fileformat2.html#rollbackjournal).

A journal holds original images of the pages a transaction changed: [page number][page][checksum]
after a header padded to the sector size. journal_mode=PERSIST zeroes the header after a commit
but leaves the records, so the header is not trusted: we try the sector sizes SQLite uses and keep
the layout whose records check out (page numbers in range, checksums agreeing on one nonce).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pages import u32, valid_page_size

JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
MAX_RECORDS = 1_000_000


@dataclass(frozen=True)
class JournalPage:
    index: int    # 1-based record number
    pgno: int
    offset: int   # offset of the page image in the journal


def _sum(data: bytes | memoryview, start: int, page_size: int) -> int:
    total = 0
    x = page_size - 200
    while x >= 0:
        total += data[start + x]
        x -= 200
    return total


def _records(data: bytes | memoryview, first: int, page_size: int, max_pgno: int) -> list[JournalPage]:
    """Records from `first` while they are plausible: a page number in range and one nonce for all
    checksums (nonce = checksum - byte sum). Journal headers met on the way are skipped."""
    out: list[JournalPage] = []
    size = 4 + page_size + 4
    off = first
    nonce: int | None = None
    while off + size <= len(data) and len(out) < MAX_RECORDS:
        if bytes(data[off:off + 8]) == JOURNAL_MAGIC:  # a further journal header (multi-part journal)
            sector = u32(data, off + 20)
            if not valid_page_size(sector) and sector not in (512, 1024, 2048, 4096):
                break
            off += max(sector, 28)
            nonce = None
            continue
        pgno = u32(data, off)
        if not 1 <= pgno <= max_pgno:
            break
        this = (u32(data, off + 4 + page_size) - _sum(data, off + 4, page_size)) & 0xFFFFFFFF
        if nonce is None:
            nonce = this
        elif this != nonce:
            break
        out.append(JournalPage(len(out) + 1, pgno, off + 4))
        off += size
    return out


def parse_journal(data: bytes | memoryview, page_size: int, max_pgno: int) -> list[JournalPage]:
    """Page records of a rollback journal (empty when none can be read)."""
    if len(data) < 512:
        return []
    candidates = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
    if bytes(data[:8]) == JOURNAL_MAGIC:
        sector = u32(data, 20)
        header_page = u32(data, 24)
        if valid_page_size(header_page):
            page_size = header_page
        if sector in candidates:
            candidates.remove(sector)
            candidates.insert(0, sector)
    best: list[JournalPage] = []
    for sector in candidates:
        recs = _records(data, sector, page_size, max_pgno)
        if len(recs) > len(best):
            best = recs
    return best
