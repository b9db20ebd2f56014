"""Shared memory through which the reader hands small files' content to the worker processes.

Through the pool's pipe, each byte was copied five times (pickled, written, read in 64 KiB
pieces, joined, unpickled), in a thread of the reader and in the worker: 0.6 s of CPU for
360 MB. Here the reader copies a batch's content once into a region of an anonymous shared
mapping made before the workers fork, sends only where it lies, and a worker copies it out once.
The workers map it read-only (`protect`): a fault in a C library there cannot write into
another batch's content; it crashes that worker, which the pipeline already isolates.

Regions are handed out as a ring in the order batches are sent; a region is reused once its
batch's task is done, whatever its outcome: a worker reads its region before it answers, and
the tasks of a pool that broke are never answered (the pipeline re-runs that batch by value,
from the reader's own copy of the content).
"""

from __future__ import annotations

import ctypes
import mmap
from collections import deque
from concurrent.futures import Future
from typing import Any

PROT_READ = 1


class Arena:
    """`size` bytes shared with processes forked after it is made; one writer (the reader)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.map = mmap.mmap(-1, size)  # MAP_SHARED | MAP_ANONYMOUS: the same pages in the forked workers
        self.head = 0  # where the next region starts
        self.live: deque[tuple[int, int, Future[Any]]] = deque()  # (start, end, task) in ring order

    def place(self, length: int) -> int | None:
        """The start of a free region of `length` bytes, or None while the older ones are in use."""
        self._reclaim()
        if length > self.size:
            return None
        if not self.live:
            self.head = 0
            return 0
        oldest = self.live[0][0]
        if self.head > oldest:  # in use: [oldest, head); free: after head, and before oldest
            if self.head + length <= self.size:
                return self.head
            return 0 if length <= oldest else None
        # wrapped round: in use from oldest to the end (or short of it) and from 0 to head
        return self.head if self.head + length <= oldest else None

    def put(self, start: int, data: bytes) -> int:
        """Copy `data` to `start`; where it ends."""
        end = start + len(data)
        self.map[start:end] = data
        return end

    def hold(self, start: int, end: int, task: Future[Any]) -> None:
        """[start, end) is in use until `task` is done."""
        self.live.append((start, end, task))
        self.head = end

    def oldest(self) -> Future[Any] | None:
        """The task whose region is the oldest in use (to wait for when no region is free)."""
        return self.live[0][2] if self.live else None

    def _reclaim(self) -> None:
        while self.live and self.live[0][2].done():
            self.live.popleft()

    def read(self, start: int, length: int) -> bytes:
        """A copy of the bytes at `start` (in a worker)."""
        return self.map[start:start + length]

    def protect(self) -> None:
        """In a worker: the mapping becomes read-only (a write there would be a bug: it faults)."""
        holder = ctypes.c_char.from_buffer(self.map)
        address = ctypes.addressof(holder)
        del holder
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect(ctypes.c_void_p(address), ctypes.c_size_t(self.size), PROT_READ)

    def close(self) -> None:
        self.live.clear()
        self.map.close()

