"""The one base of every image pytsk3 reads through Python: EWF, virtual disks, decrypted and
logical volumes, shadow-copy stores."""

from __future__ import annotations

import threading
from bisect import bisect_right
from typing import Callable

import pytsk3


class ExternalImg(pytsk3.Img_Info):
    """A source pytsk3 reads through Python (TSK_IMG_TYPE_EXTERNAL). Reads past the end are refused,
    reads running over it are cut, and a short answer is an error (libtsk needs exactly what it asks
    for, NOTES.md); libtsk may call `read` from any thread, so `_read_at` runs under one lock per
    object unless a subclass's reads need none (LOCKED = False). `WHAT` names the source in errors."""

    WHAT = "image"
    LOCKED = True

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def get_size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset >= self._size:
            raise IOError(f"read beyond the end of the {self.WHAT} at {offset}")
        size = min(size, self._size - offset)
        if self.LOCKED:
            with self._lock:
                data = self._read_at(offset, size)
        else:
            data = self._read_at(offset, size)
        if len(data) != size:
            raise IOError(f"short {self.WHAT} read at {offset}: {len(data)} of {size} bytes")
        return bytes(data)

    def _read_at(self, offset: int, size: int) -> bytes:
        """`size` bytes at `offset` (both within the source)."""
        raise NotImplementedError


class RunsImg(ExternalImg):
    """A volume made of runs of another source (an LVM logical volume's extents on its disk, an md
    array's data area): `runs` are (offset in the volume, length, offset in the source), contiguous
    from 0; a read is found by bisection, whatever the number of runs."""

    WHAT = "volume"
    LOCKED = False

    def __init__(self, read: Callable[[int, int], bytes], runs: list[tuple[int, int, int]]) -> None:
        self._read, self._runs = read, sorted(runs)
        self._starts = [start for start, _length, _at in self._runs]
        super().__init__(sum(length for _start, length, _at in self._runs))

    def _read_at(self, offset: int, size: int) -> bytes:
        out = bytearray()
        index = bisect_right(self._starts, offset) - 1
        while len(out) < size and 0 <= index < len(self._runs):
            start, length, at = self._runs[index]
            pos = offset + len(out)
            if not start <= pos < start + length:
                break  # a hole between runs: the short read is refused by ExternalImg
            take = min(size - len(out), start + length - pos)
            out += self._read(at + pos - start, take)
            index += 1
        return bytes(out)
