"""`dalil image --resume`: the part an interrupted acquisition copied is checked against the source.

The hashes an acquisition records are the source's. So on resume the part already in `images/`
is not trusted as it is: it is read again from the source, compared with the image chunk by chunk
and hashed from the source bytes. Where the image differs (changed after the interruption, or a
sector unreadable then that reads now), the copy goes on from that chunk: the image is cut there
and written again, and the record says where. Sectors still unreadable are zero-filled and listed
again, as in the first run (the image holds zeros there too, so they compare equal).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable

from ..core.hashing import DEFAULT_ALGORITHMS, MultiHasher, open_readonly
from .ring import BufferRing
from .source import SectorReader


@dataclass
class Prefix:
    """What the check found: the first `end` bytes of the image equal the source's."""

    end: int
    hashes: dict[str, Any]  # hash objects over the source's first `end` bytes
    differs_at: int | None  # the first byte where the image differed from the source, if it did


class _Segments:
    """The image's segments read as one stream, from byte 0."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = list(paths)
        self._fh: BinaryIO | None = None

    def read(self, size: int) -> bytes:
        parts: list[bytes] = []
        while size > 0:
            if self._fh is None:
                if not self._paths:
                    break
                self._fh = open_readonly(self._paths.pop(0))
            data = self._fh.read(size)
            if not data:
                self._fh.close()
                self._fh = None
                continue
            parts.append(data)
            size -= len(data)
        return b"".join(parts)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _first_difference(a: memoryview, b: bytes, block: int = 4096) -> int:
    """The index of the first byte where `a` and `b` differ (len(b) if `b` is a shorter prefix)."""
    n = min(len(a), len(b))
    at = 0
    while at < n and a[at:at + block] == b[at:at + block]:
        at += block
    while at < n and a[at] == b[at]:
        at += 1
    return at


def check_prefix(reader: SectorReader, image: list[Path], end: int, ring: BufferRing,
                 progress: Callable[[int], object]) -> Prefix:
    """Read the source's first `end` bytes, compare them with the image's and hash them (three
    hash threads, as the copy does); stop at the first chunk that differs."""
    hasher = MultiHasher(DEFAULT_ALGORITHMS, depth=4)
    segments = _Segments(image)
    pos = 0
    differs_at = None
    try:
        for index, view in reader.chunks_into(ring, 0, end):
            copied = segments.read(len(view))
            if view != copied:
                differs_at = pos + _first_difference(view, copied)
                ring.give(index)
                break
            pos += len(view)
            progress(len(view))
            hasher.update(view, done=functools.partial(ring.give, index))
        states = hasher.states()
    except BaseException:
        hasher.abort()
        raise
    finally:
        segments.close()
    return Prefix(pos, states, differs_at)
