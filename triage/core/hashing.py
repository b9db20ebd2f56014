"""Streaming hashing: MD5, SHA-1 and SHA-256 (or any hashlib set) in one pass, in parallel threads.

hashlib releases the GIL on buffers larger than 2 KiB, so threads over shared, immutable chunks run
the digests in parallel on separate cores. With fewer cores than algorithms, the algorithms are
shared out among as many threads as there are cores, balanced by their speed on this machine (on 2
cores: MD5 alone, SHA-1 and SHA-256 together). The pass takes as long as the busiest thread, so
every other thread (the lighter digests, the sinks) runs at a lower priority and gives it the CPU
when they compete (Linux). An optional sink (a file being written, a copy) is just another consumer
thread. Memory is bounded by `depth` chunks in flight.
A chunk may be a view of a reusable buffer: `update(view, done)` calls `done()` once every
consumer has finished with it, so the caller can fill that buffer again. A gathering sink gets a
list of consecutive chunks: all that wait in its queue (at most `gather`), so a sink slower than the
hashes (a disk) can write them in one call.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import queue
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping

CHUNK = 8 * 1024 * 1024
DEFAULT_ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256")
GIVE_WAY_NICE = 10  # added to the nice value of the threads that are not the busiest
_STOP = object()


@dataclass
class Digests:
    """Size and hex digests of one stream."""

    size: int
    hexdigests: dict[str, str] = field(default_factory=dict)

    @property
    def md5(self) -> str:
        return self.hexdigests["md5"]

    @property
    def sha1(self) -> str:
        return self.hexdigests["sha1"]

    @property
    def sha256(self) -> str:
        return self.hexdigests["sha256"]

    def as_dict(self) -> dict[str, int | str]:
        return {"size": self.size, **self.hexdigests}


class _Shared:
    """A chunk handed to several consumers; `done()` runs after the last one has finished with it."""

    __slots__ = ("chunk", "left", "done", "lock")

    def __init__(self, chunk: bytes | memoryview, consumers: int, done: Callable[[], object]) -> None:
        self.chunk = chunk
        self.left = consumers
        self.done = done
        self.lock = threading.Lock()

    def release(self) -> None:
        with self.lock:
            self.left -= 1
            last = self.left == 0
        if last:
            self.done()


class _Consumer(threading.Thread):
    """A thread that applies `fn` to every chunk put in its bounded queue; with `gather` > 1, to
    lists of the chunks waiting there (at least one, at most `gather`)."""

    def __init__(self, name: str, fn: Callable[[Any], object], depth: int, gather: int = 1,
                 give_way: bool = False) -> None:
        super().__init__(name=f"dalil-{name}", daemon=True)
        self.fn = fn
        self.gather = gather
        self.give_way = give_way
        self.niceness: int | None = None  # this thread's nice value once it runs (Linux), for tests
        self.queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None

    def _take(self) -> list[object]:
        """The next item, and with `gather` > 1 those already waiting behind it (up to _STOP)."""
        items = [self.queue.get()]
        while len(items) < self.gather and items[-1] is not _STOP:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return items

    def run(self) -> None:
        self.niceness = _lower_priority(GIVE_WAY_NICE if self.give_way else 0)
        while True:
            items = self._take()
            stop = items[-1] is _STOP
            if stop:
                items.pop()
            chunks = [item.chunk if isinstance(item, _Shared) else item for item in items]
            if chunks and self.error is None:
                try:
                    self.fn(chunks if self.gather > 1 else chunks[0])
                except BaseException as exc:  # kept and re-raised by the feeder
                    self.error = exc
            for item in items:
                if isinstance(item, _Shared):
                    item.release()  # after an error too: the buffer goes back to its owner
            if stop:
                return


def _one_of(fn: Callable[[list[bytes | memoryview]], object]) -> Callable[[bytes | memoryview], object]:
    """A gathering sink called with one chunk at a time (MultiHasher without threads)."""
    return lambda chunk: fn([chunk])


def _lower_priority(by: int) -> int | None:
    """Add `by` to the calling thread's nice value; its nice value after (None where a thread has
    none of its own: not Linux). Lowering a priority needs no privilege; failing changes nothing."""
    if not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        if by:
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return None


@functools.cache
def _cost(name: str) -> float:
    """Seconds this machine takes to hash 64 KiB with `name` (best of three): relative speeds
    differ between processors (SHA-256 is faster than MD5 with SHA extensions, slower without)."""
    data = bytes(64 * 1024)
    best = float("inf")
    for _ in range(3):
        h = hashlib.new(name)
        t0 = time.perf_counter()
        h.update(data)
        best = min(best, time.perf_counter() - t0)
    return best


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def share_out(costs: Mapping[str, float], threads: int) -> list[list[str]]:
    """The algorithms shared out among at most `threads` threads, each next costliest one to the
    least loaded thread; the busiest thread first."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(threads, len(costs))))]
    loads = [0.0] * len(groups)
    for name in sorted(costs, key=lambda n: costs[n], reverse=True):
        i = loads.index(min(loads))
        groups[i].append(name)
        loads[i] += costs[name]
    order = sorted(range(len(groups)), key=lambda i: loads[i], reverse=True)
    return [groups[i] for i in order if groups[i]]


def _updates(fns: list[Callable[[Any], object]]) -> Callable[[Any], object]:
    """One update applying each of `fns` in turn (a thread's share of the algorithms)."""
    if len(fns) == 1:
        return fns[0]

    def update(chunk: Any) -> None:
        for fn in fns:
            fn(chunk)
    return update


class MultiHasher:
    """Feed chunks once; the algorithms (shared out among at most `threads` threads, by default one
    per core) and each sink run in their own threads.

    Use as a context manager or call `finish()`; `abort()` stops the threads without a result.
    """

    def __init__(
        self,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        sinks: Iterable[Callable[[bytes], object]] = (),
        depth: int = 4,
        threaded: bool = True,
        gathering_sinks: Iterable[Callable[[list[bytes | memoryview]], object]] = (),
        gather: int = 8,
        resume_from: Mapping[str, Any] | None = None,
        size: int = 0,
        threads: int | None = None,
    ) -> None:
        """`sinks` get each chunk; `gathering_sinks` get lists of consecutive chunks (see _Consumer).
        `resume_from` (hash objects, see `states()`) and `size` carry on a hash of earlier bytes.
        `threads` caps the hashing threads (default: the cores this process may use)."""
        self._hashes = {name: resume_from[name].copy() if resume_from is not None else hashlib.new(name)
                        for name in algorithms}
        self.size = size
        self._threaded = threaded
        fns: list[tuple[str, Callable[[Any], object], int]] = [
            (name, h.update, 1) for name, h in self._hashes.items()
        ]
        if threaded and len(fns) > 1:
            groups = share_out({name: _cost(name) for name in self._hashes}, threads or cores())
            fns = [("+".join(group), _updates([self._hashes[n].update for n in group]), 1) for group in groups]
        fns += [(f"sink{i}", sink, 1) for i, sink in enumerate(sinks)]
        fns += [(f"gather{i}", sink, max(2, gather)) for i, sink in enumerate(gathering_sinks)]
        # the first thread hashes the most: the others give way to it
        self._consumers = [_Consumer(name, fn, depth, n, give_way=i > 0) for i, (name, fn, n) in enumerate(fns)]
        self._direct: list[Callable[[Any], object]] = [fn if n == 1 else _one_of(fn) for _, fn, n in fns]
        if threaded:
            for consumer in self._consumers:
                consumer.start()
        self._closed = False

    def update(self, chunk: bytes | memoryview, done: Callable[[], object] | None = None) -> None:
        """Hand one chunk to every consumer (blocks when the queues are full). Without `done` the
        chunk must be immutable; with it, the chunk is left alone until `done()` is called."""
        if not chunk:
            if done is not None:
                done()
            return
        self.size += len(chunk)
        if not self._threaded:
            try:
                for fn in self._direct:
                    fn(chunk)  # type: ignore[arg-type]
            finally:
                if done is not None:
                    done()
            return
        for consumer in self._consumers:
            if consumer.error is not None:
                if done is not None:
                    done()
                self.abort()
                raise consumer.error
        item: object = chunk if done is None else _Shared(chunk, len(self._consumers), done)
        for consumer in self._consumers:
            consumer.queue.put(item)

    def _join(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._threaded:
            for consumer in self._consumers:
                consumer.queue.put(_STOP)
            for consumer in self._consumers:
                consumer.join()

    def finish(self) -> Digests:
        """Wait for every consumer and return the digests."""
        self._join()
        for consumer in self._consumers:
            if consumer.error is not None:
                raise consumer.error
        return Digests(self.size, {name: h.hexdigest() for name, h in self._hashes.items()})

    def states(self) -> dict[str, Any]:
        """Copies of the hash objects once every consumer is done: another MultiHasher given them as
        `resume_from` goes on from here."""
        self.finish()
        return {name: h.copy() for name, h in self._hashes.items()}

    def abort(self) -> None:
        """Stop the threads, discarding the result."""
        self._join()

    def __enter__(self) -> "MultiHasher":
        return self

    def __exit__(self, *exc: object) -> None:
        self._join()


def _open(path: str | os.PathLike[str], flags: int) -> int:
    """A read-only descriptor, with O_NOATIME where permitted (no timestamp moves), read ahead."""
    flags |= os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        fd = os.open(path, flags)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    except (AttributeError, OSError):
        pass
    return fd


def open_readonly(path: str | os.PathLike[str]) -> BinaryIO:
    """Open evidence for reading only: O_RDONLY, and O_NOATIME where permitted, so no timestamp moves."""
    return os.fdopen(_open(path, 0), "rb", buffering=0)


def open_file_or_device(path: str | os.PathLike[str], devices: bool = True, follow: bool = True) -> BinaryIO:
    """`open_readonly`, for a path that must be a regular file (or, with `devices`, a block device):
    anything else (a FIFO put in a file's place would block the open forever) is an OSError, never a
    hang. Without `follow`, a symbolic link is refused too (O_NOFOLLOW)."""
    fd = _open(path, os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW))
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISREG(mode) or (devices and stat.S_ISBLK(mode))):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file" + (" or block device" if devices else ""), str(path))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb", buffering=0)


def iter_chunks(stream: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    """Yield `chunk`-sized pieces of `stream` until EOF."""
    while True:
        data = stream.read(chunk)
        if not data:
            return
        yield data


def hash_stream(
    stream: BinaryIO,
    sinks: Iterable[Callable[[bytes], object]] = (),
    progress: Callable[[int], object] | None = None,
    algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
    chunk: int = CHUNK,
) -> Digests:
    """Hash (and copy to `sinks`) everything `stream` yields; `progress` gets each chunk's length."""
    hasher = MultiHasher(algorithms, sinks)
    try:
        for data in iter_chunks(stream, chunk):
            hasher.update(data)
            if progress is not None:
                progress(len(data))
    except BaseException:
        hasher.abort()
        raise
    return hasher.finish()


def hash_bytes(data: bytes, algorithms: Iterable[str] = DEFAULT_ALGORITHMS) -> Digests:
    """Digests of a small in-memory buffer (no threads)."""
    hasher = MultiHasher(algorithms, threaded=False)
    hasher.update(data)
    return hasher.finish()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with open_readonly(path) as stream:
        for data in iter_chunks(stream, 1024 * 1024):
            h.update(data)
    return h.hexdigest()


def parse_expect(text: str) -> tuple[str, str]:
    """Parse `sha256:HEX` or `md5:HEX` (also sha1) into (algorithm, lowercase hex); ValueError if malformed."""
    lengths = {"md5": 32, "sha1": 40, "sha256": 64}
    algo, sep, value = text.strip().partition(":")
    algo = algo.lower()
    value = value.strip().lower()
    if not sep or algo not in lengths:
        raise ValueError(f"expected sha256:HEX, sha1:HEX or md5:HEX, got {text!r}")
    if len(value) != lengths[algo] or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"{algo} needs {lengths[algo]} hex digits, got {value!r}")
    return algo, value
