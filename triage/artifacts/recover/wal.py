"""Write-ahead log frames (https://sqlite.org/fileformat2.html#walformat).

SQLite reads frames from the start while salts and the running checksum hold, and uses them up to
the last commit frame. We classify every frame the same way, and keep the rest too: frames after
the last commit and frames of an earlier WAL generation (wrong salt) still hold old page images.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .pages import u32, valid_page_size

WAL_MAGIC = (0x377F0682, 0x377F0683)
FRAME_HEADER = 24
MAX_FRAMES = 2_000_000


@dataclass(frozen=True)
class Frame:
    index: int        # 1-based frame number
    pgno: int
    commit: int       # database size in pages for a commit frame, else 0
    offset: int       # offset of the page image in the -wal file
    valid: bool       # salt and checksum chain hold (SQLite would read it)
    committed: bool   # valid and at or before the last valid commit frame


@dataclass(frozen=True)
class Wal:
    page_size: int
    frames: list[Frame]
    db_pages: int     # database size after the last valid commit (0: no commit)


def _checksum(data: bytes | memoryview, start: int, end: int, s0: int, s1: int, big: bool) -> tuple[int, int]:
    n = (end - start) // 4
    words = struct.unpack_from((">" if big else "<") + "%dI" % n, data, start)
    for k in range(0, n - 1, 2):
        s0 = (s0 + words[k] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[k + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def parse_wal(data: bytes | memoryview, db_page_size: int) -> Wal | None:
    """The frames of a -wal file, or None when it has no valid WAL header."""
    if len(data) < 32:
        return None
    magic = u32(data, 0)
    if magic not in WAL_MAGIC:
        return None
    big = magic & 1 == 1
    page_size = u32(data, 8)
    if page_size == 1:
        page_size = 65536
    if not valid_page_size(page_size):
        page_size = db_page_size
    salt1, salt2 = u32(data, 16), u32(data, 20)
    s0, s1 = _checksum(data, 0, 24, 0, 0, big)
    header_ok = (s0, s1) == (u32(data, 24), u32(data, 28))
    frames: list[Frame] = []
    chain_ok = header_ok
    last_commit = 0
    db_pages = 0
    size = FRAME_HEADER + page_size
    off = 32
    index = 0
    while off + size <= len(data) and index < MAX_FRAMES:
        index += 1
        pgno, commit = u32(data, off), u32(data, off + 4)
        valid = False
        if chain_ok and pgno and (u32(data, off + 8), u32(data, off + 12)) == (salt1, salt2):
            s0, s1 = _checksum(data, off, off + 8, s0, s1, big)
            s0, s1 = _checksum(data, off + FRAME_HEADER, off + size, s0, s1, big)
            valid = (s0, s1) == (u32(data, off + 16), u32(data, off + 20))
        if not valid:
            chain_ok = False
        elif commit:
            last_commit = index
            db_pages = commit
        frames.append(Frame(index, pgno, commit, off + FRAME_HEADER, valid, False))
        off += size
    frames = [Frame(f.index, f.pgno, f.commit, f.offset, f.valid, f.valid and f.index <= last_commit)
              for f in frames]
    return Wal(page_size, frames, db_pages)
