"""The reading layer of an acquisition: any seekable file-like source, read in large chunks.

A chunk that cannot be read is read again sector by sector; a sector that still fails after
`retries` more attempts is zero-filled and its range is recorded (merged with its neighbours).
The source is only ever read: a plain Python file object, a block device opened read-only, or a
test double that raises `OSError(EIO)` on chosen ranges all work, as long as it has `read` and
`seek`.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from ..core.errors import DalilError
from .ring import BufferRing

# Errors that mean the device is gone, not that a sector is bad: zero-filling the rest would
# produce a useless image, so the acquisition stops (and can be resumed).
FATAL_ERRNOS = frozenset({errno.ENODEV, errno.ENXIO, errno.EBADF, getattr(errno, "ENOMEDIUM", 123)})


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


@dataclass
class BadRange:
    """A run of consecutive unreadable sectors, zero-filled in the image."""

    first_sector: int
    last_sector: int
    sector_size: int
    error: str

    @property
    def sectors(self) -> int:
        return self.last_sector - self.first_sector + 1

    @property
    def offset(self) -> int:
        return self.first_sector * self.sector_size

    @property
    def length(self) -> int:
        return self.sectors * self.sector_size

    def as_dict(self) -> dict[str, int | str]:
        return {"first_sector": self.first_sector, "last_sector": self.last_sector, "sectors": self.sectors,
                "offset": self.offset, "length": self.length, "error": self.error}

    @classmethod
    def from_dict(cls, data: dict[str, int | str], sector_size: int) -> "BadRange":
        return cls(int(data["first_sector"]), int(data["last_sector"]), sector_size, str(data["error"]))


def _error_name(exc: OSError) -> str:
    if exc.errno is not None and exc.errno in errno.errorcode:
        return errno.errorcode[exc.errno]
    return type(exc).__name__


def source_size(stream: Readable) -> int:
    """Size in bytes of a seekable source (works for block devices too)."""
    end = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    return int(end)


class SectorReader:
    """Reads `size` bytes of `stream` in chunks, retrying and zero-filling unreadable sectors."""

    def __init__(self, stream: Readable, size: int, sector_size: int = 512, retries: int = 2,
                 bad: list[BadRange] | None = None) -> None:
        if sector_size <= 0 or sector_size & (sector_size - 1):
            raise ValueError(f"sector size must be a power of two, got {sector_size}")
        self.stream = stream
        self.size = size
        self.sector_size = sector_size
        self.retries = retries
        self.bad: list[BadRange] = list(bad or [])

    @property
    def bad_sectors(self) -> int:
        return sum(r.sectors for r in self.bad)

    def _read_exact(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset` (fewer only at end of file); OSError if unreadable."""
        self.stream.seek(offset)
        parts: list[bytes] = []
        got = 0
        while got < length:
            data = self.stream.read(length - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _note_bad(self, sector: int, error: str) -> None:
        last = self.bad[-1] if self.bad else None
        if last is not None and last.last_sector + 1 == sector and last.error == error:
            last.last_sector = sector
        else:
            self.bad.append(BadRange(sector, sector, self.sector_size, error))

    def _read_sector(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) lying inside one sector, retried, else zero-filled."""
        error = "EIO"
        for _attempt in range(self.retries + 1):
            try:
                data = self._read_exact(offset, length)
            except OSError as exc:
                if exc.errno in FATAL_ERRNOS:
                    raise DalilError(f"source vanished at byte {offset}: {exc.strerror or exc}") from exc
                error = _error_name(exc)
                continue
            if len(data) == length:
                return data
            raise DalilError(f"source ended at byte {offset + len(data)}, expected {self.size}: "
                             "it changed during acquisition")
        self._note_bad(offset // self.sector_size, error)
        return bytes(length)

    def read_at(self, offset: int, length: int) -> bytes:
        """Exactly `min(length, size - offset)` bytes at `offset`, bad sectors zero-filled."""
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        try:
            data = self._read_exact(offset, length)
            if len(data) == length:
                return data
        except OSError as exc:
            if exc.errno in FATAL_ERRNOS:
                raise DalilError(f"source vanished near byte {offset}: {exc.strerror or exc}") from exc
        # Fall back to single sectors over this chunk (the chunk boundaries are sector-aligned
        # except possibly the last, partial sector at the end of the source).
        parts: list[bytes] = []
        pos, end = offset, offset + length
        while pos < end:
            sector = pos // self.sector_size
            sector_end = min((sector + 1) * self.sector_size, end)
            parts.append(self._read_sector(pos, sector_end - pos))
            pos = sector_end
        return b"".join(parts)

    def read_into(self, offset: int, view: memoryview) -> int:
        """Fill `view` with the bytes at `offset` (fewer at the end of the source); returns how many.

        Read straight into `view` (no new buffer per chunk) when the stream has `readinto`; a chunk
        that fails that way goes through `read_at`: retried sector by sector, bad ones zero-filled.
        """
        length = max(0, min(len(view), self.size - offset))
        if length == 0:
            return 0
        readinto = getattr(self.stream, "readinto", None)
        if readinto is not None:
            try:
                self.stream.seek(offset)
                got = 0
                while got < length:
                    n = readinto(view[got:length])
                    if not n:
                        break
                    got += n
                if got == length:
                    return length
            except OSError as exc:
                if exc.errno in FATAL_ERRNOS:
                    raise DalilError(f"source vanished near byte {offset}: {exc.strerror or exc}") from exc
        data = self.read_at(offset, length)
        view[:len(data)] = data
        return len(data)

    def chunks_into(self, ring: BufferRing, start: int = 0, end: int | None = None) -> Iterator[tuple[int, memoryview]]:
        """The source from `start` to `end` (its end), each chunk read into a buffer taken from `ring`:
        yields (buffer index, view of the bytes read); the caller gives the buffer back. Chunks are
        `ring.size` bytes and end on multiples of it (after an unaligned start the first is shorter),
        so page-aligned buffers stay aligned in the image too. `read_into` always makes progress or
        raises (a source that ends early is a DalilError there)."""
        chunk = ring.size
        if chunk % self.sector_size:
            raise ValueError("chunk size must be a multiple of the sector size")
        pos = start
        stop = self.size if end is None else min(end, self.size)
        while pos < stop:
            index, view = ring.take()
            try:
                got = self.read_into(pos, view[:min(chunk - pos % chunk, stop - pos)])
            except BaseException:
                ring.give(index)
                raise
            pos += got
            yield index, view[:got]


def merge_ranges(ranges: list[BadRange]) -> list[BadRange]:
    """Sorted ranges with touching neighbours of the same error merged."""
    out: list[BadRange] = []
    for r in sorted(ranges, key=lambda r: r.first_sector):
        if out and out[-1].last_sector + 1 >= r.first_sector and out[-1].error == r.error:
            out[-1].last_sector = max(out[-1].last_sector, r.last_sector)
        else:
            out.append(BadRange(r.first_sector, r.last_sector, r.sector_size, r.error))
    return out
