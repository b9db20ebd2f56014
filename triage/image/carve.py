"""`dalil parse --carve`: files found in unallocated space, where no file-system record is left.

ext4 clears a deleted file's block pointers and FAT loses its cluster chain: the name may survive
but the content is only found by carving. After each file system's walk, its free space (read
from its allocation map, `unalloc`) is scanned sector by sector for the headers of `carvers.FORMATS`;
after the last, so is the space outside every partition. A header is looked for at sector starts only
(files start on a cluster, hence a sector, boundary; embedded thumbnails do not), and each carver
walks its format's structure to find the file's length within the free run it starts in. A carved
file is an `Entry` (`carved`, its byte offset and length in the image; path `/$Carved/<offset>.<ext>`)
read from the image itself and analysed like any other file.

What was scanned (bytes and runs per area) and carved (per type) goes into the parse run's details
(`carving`), for the report's gaps; so do file systems whose free space could not be read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..core.hashing import open_readonly
from . import allocation, unalloc
from .carvers import FORMATS, SECTOR, Carved, Format, Region, first_bytes, header_regex
from .walk import Entry, Volume, fs_name

WINDOW = 8 * 1024 * 1024
CARVED_DIR = "/$Carved/"
Read = Callable[[int, int], bytes]


@dataclass
class Area:
    """One scanned area: a file system's free space, or the space outside the partitions."""

    partition: int
    kind: str  # 'unallocated' or 'unpartitioned'
    fs_type: str | None
    bytes: int = 0
    runs: int = 0
    carved: dict[str, int] = field(default_factory=dict)
    carved_bytes: int = 0
    status: str = "scanned"  # scanned | not-carved | failed
    message: str | None = None

    def ledger(self) -> dict[str, Any]:
        return {"partition": self.partition, "kind": self.kind, "fs_type": self.fs_type, "bytes_scanned": self.bytes,
                "runs": self.runs, "carved": dict(sorted(self.carved.items())), "carved_bytes": self.carved_bytes,
                "status": self.status, "message": self.message}


class CarvedContent:
    """A carved file's content: `length` bytes of the image at `offset` (what `Entry.read` calls)."""

    def __init__(self, read: Read, offset: int, length: int) -> None:
        self._read, self.offset, self.length = read, offset, length

    def read_random(self, offset: int, length: int) -> bytes:
        length = min(length, self.length - offset)
        return self._read(self.offset + offset, length) if length > 0 else b""


class ImageReader:
    """Reads of the image for carving: a raw image straight from its file (`os.pread`, read-only,
    several times faster than through libtsk's image layer); E01 and split images through theirs."""

    def __init__(self, source: Any) -> None:
        self._fh = open_readonly(source.segments[0]) if source.format == "raw" and source.segments else None
        self._img = source.img

    def read(self, offset: int, length: int) -> bytes:
        if self._fh is None:
            return bytes(self._img.read(offset, length))
        data = os.pread(self._fh.fileno(), length, offset)
        if len(data) != length:
            raise IOError(f"short read of the image at {offset}: {len(data)} of {length} bytes")
        return data

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def free_space(read: Read, fs: Any, vol: Volume) -> unalloc.Ranges | None:
    """The file system's unallocated byte ranges, or None when its allocation map is not read here."""
    kind = fs_name(fs)
    if kind == "NTFS":
        return unalloc.ntfs(fs, vol.offset)
    if kind in ("FAT12", "FAT16", "FAT32"):
        return unalloc.fat(read, vol.offset, vol.length, kind)
    if kind in ("ext2", "ext3", "ext4"):
        return unalloc.ext(read, vol.offset)
    if kind == "exFAT":
        return unalloc.exfat(read, vol.offset, vol.length)
    return None


def scan(read: Read, ranges: unalloc.Ranges, on_progress: Callable[[int], None] | None = None
         ) -> Iterator[tuple[int, Format, Carved]]:
    """(offset, format, carved) for each file found in `ranges`; after one is found, the search goes
    on past its end (what it holds is not searched again: an embedded picture is part of its file)."""
    headers, starts = header_regex(), first_bytes()
    for start, end in ranges:
        pos = -(-start // SECTOR) * SECTOR
        while pos < end:
            window = read(pos, min(WINDOW, end - pos))
            if not window:
                break
            skip_to = pos + len(window)
            after = pos  # no file starts before this (inside one carved already)
            for sector in _candidates(window, starts):
                at = pos + sector * SECTOR
                if at < after:
                    continue
                match = headers.match(window, sector * SECTOR)
                if match is None or match.lastgroup is None:
                    continue
                fmt = FORMATS[match.lastgroup]
                found = fmt.carve(Region(read, at, end))
                if found is None or found.length <= 0:
                    continue
                yield at, fmt, found
                after = at + found.length
                if after >= pos + len(window):
                    skip_to = after
                    break
            if on_progress is not None:
                on_progress(min(skip_to, end) - pos)
            pos = -(-skip_to // SECTOR) * SECTOR


def _candidates(window: bytes, starts: frozenset[int]) -> list[int]:
    """Sector numbers in `window` whose first byte starts a header, or whose 5th-8th are `ftyp` (MP4),
    found with C-speed searches over the sectors' first (and fifth) bytes."""
    found: set[int] = set()
    firsts = window[::SECTOR]
    for byte in starts:
        at = firsts.find(byte)
        while at >= 0:
            found.add(at)
            at = firsts.find(byte, at + 1)
    fifths = window[4::SECTOR]
    at = fifths.find(b"f")
    while at >= 0:
        if window[at * SECTOR + 4:at * SECTOR + 8] == b"ftyp":
            found.add(at)
        at = fifths.find(b"f", at + 1)
    return sorted(found)


class Carver:
    """Carves each opened file system after its walk (`filesystem`) and the space outside the
    partitions at the end (`unpartitioned`); `areas` records what was scanned."""

    def __init__(self, reader: ImageReader | Read, size: int, warn: Callable[[str, str], None], exhibit: str,
                 progress: Callable[[str], None] | None = None,
                 stored: Callable[[], unalloc.Ranges | None] | None = None) -> None:
        """`stored`: asked once, the ranges a sparse image holds data in (the rest reads as zeros and is
        not scanned); None or an answer of None: every byte of each area is scanned."""
        self._stored_of = stored
        self._stored: unalloc.Ranges | None = None
        self._asked = False
        self.reader = reader if isinstance(reader, ImageReader) else None
        self.read: Read = reader.read if isinstance(reader, ImageReader) else reader
        self.size, self.warn, self.exhibit = size, warn, exhibit
        self.progress = progress
        self.areas: list[Area] = []

    def close(self) -> None:
        """Close the image file opened for carving (the carved entries' content is read before)."""
        if self.reader is not None:
            self.reader.close()

    def filesystem(self, vol: Volume, fs: Any) -> Iterator[Entry]:
        kind = fs_name(fs)
        area = Area(vol.offset, "unallocated", kind)
        self.areas.append(area)
        try:
            ranges = free_space(self.read, fs, vol)
        except Exception as exc:  # a damaged allocation map: the listing stands, the gap is disclosed
            area.status, area.message = "failed", f"allocation map not readable: {exc}"
            self.warn(f"{self.exhibit}@{vol.offset}", f"carving: {kind} {area.message}; free space not carved")
            return
        if ranges is None:
            area.status = "not-carved"
            area.message = f"free space of {kind} is not located by Dalil (NTFS, FAT, exFAT and ext2/3/4 are)"
            self.warn(f"{self.exhibit}@{vol.offset}", f"carving: {area.message}: not carved")
            return
        yield from self._carve(area, ranges)

    def unpartitioned(self, volumes: list[Volume], vs_type: str) -> Iterator[Entry]:
        """The image outside the partitions (none when there is no partition table)."""
        if vs_type == "none":
            return
        area = Area(0, "unpartitioned", None)
        self.areas.append(area)
        yield from self._carve(area, unalloc.unpartitioned(self.size, [(v.offset, v.length) for v in volumes]))

    def _sparse(self, area: Area, ranges: unalloc.Ranges) -> unalloc.Ranges:
        """Only the parts of `ranges` a sparse virtual disk stores: never-written space reads as zeros."""
        if not self._asked:
            self._asked = True
            self._stored = self._stored_of() if self._stored_of is not None else None
        if self._stored is None:
            return ranges
        kept = allocation.intersect(ranges, self._stored)
        skipped = sum(b - a for a, b in ranges) - sum(b - a for a, b in kept)
        if skipped:
            area.message = (f"{skipped:,} bytes never written in the sparse virtual disk (zeros, per its "
                            "allocation table read by qemu-img map) not scanned")
        return kept

    def _carve(self, area: Area, ranges: unalloc.Ranges) -> Iterator[Entry]:
        ranges = self._sparse(area, ranges)
        total = sum(b - a for a, b in ranges)
        area.runs = len(ranges)
        label = f"partition {area.partition}" if area.kind == "unallocated" else "unpartitioned space"

        def advanced(n: int) -> None:
            area.bytes += n
            if self.progress is not None:
                self.progress(f"carving {self.exhibit} {label}: {area.bytes / 1e6:,.1f} of {total / 1e6:,.1f} MB "
                              f"of free space scanned, {sum(area.carved.values())} found")

        try:
            for offset, fmt, found in scan(self.read, ranges, advanced):
                area.carved[found.ext] = area.carved.get(found.ext, 0) + 1
                area.carved_bytes += found.length
                yield carved_entry(area.partition, offset, found, CarvedContent(self.read, offset, found.length))
        except (IOError, OSError, RuntimeError) as exc:  # the image cannot be read there: keep what was carved
            area.status, area.message = "failed", f"carving stopped: {exc}"
            self.warn(f"{self.exhibit}@{area.partition}", f"carving {label}: {area.message}")

    def ledger(self) -> list[dict[str, Any]]:
        return [a.ledger() for a in self.areas]


def carved_entry(partition: int, offset: int, found: Carved, content: Any) -> Entry:
    name = f"{offset}.{found.ext}"
    return Entry(partition=partition, path=CARVED_DIR + name, name=name, inode=None, attr="", stream=None,
                 type="r", mode="r/r---------", uid=None, gid=None, size=found.length, deleted=True, orphan=False,
                 realloc=False, file=content, note=found.note, carved=True, carved_offset=offset,
                 carved_length=found.length)
