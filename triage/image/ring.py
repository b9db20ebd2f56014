"""A fixed set of page-aligned buffers that an acquisition reads into and hands round.

The reader fills a free buffer straight from the source (`readinto`), the hash threads and the
image writer use views of it, and the last of them gives it back. Against a new `bytes` per
chunk this saves the allocation and page faults of every chunk, and lets the writer send the
buffer to the disk with O_DIRECT as it is (anonymous mmaps start on a page boundary). Memory is
`count * size` bytes, whatever the size of the source.
"""

from __future__ import annotations

import mmap
import queue


class BufferRing:
    """`count` buffers of `size` bytes: `take()` blocks until one is free, `give(index)` frees it."""

    def __init__(self, count: int, size: int) -> None:
        if count < 1 or size < 1:
            raise ValueError("a ring needs at least one buffer of at least one byte")
        self.size = size
        self._maps = [mmap.mmap(-1, size) for _ in range(count)]
        self._views = [memoryview(m) for m in self._maps]
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(count):
            self._free.put(index)

    def take(self) -> tuple[int, memoryview]:
        index = self._free.get()
        return index, self._views[index]

    def give(self, index: int) -> None:
        self._free.put(index)
