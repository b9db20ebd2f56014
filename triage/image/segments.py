"""The image's segments on disk: `base.raw`, or `base.001`, `.002`… of a split size.

The writer takes the copy's buffers as they are (O_DIRECT where the file system allows it),
flushes in the background, and records the durable position for `--resume`; `iter_image` reads
the segments back in order.
"""

from __future__ import annotations

import ctypes
import errno
import json
import mmap
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.errors import DalilError, UsageError
from ..core.hashing import CHUNK, open_readonly

WINDOW = 32 * 1024 * 1024  # writeback is started per window, so the disk works while we hash
ALIGN = 4096  # O_DIRECT writes: offsets, lengths and memory aligned to this
# O_DIRECT writes are gathered to this size: on the (virtualised) test disk, 1 GiB written and
# fsync'd took a median 1.84 s in 64 MiB writes against 2.86 s in 8 MiB ones
DIRECT_BATCH = 64 * 1024 * 1024
MAX_SEGMENTS = 1000  # .001 … .999


def segment_files(base: Path) -> list[Path]:
    """The image files an exhibit has in images/: `base.raw`, and `base.001`… (past a missing one)."""
    names = [base.name + ".raw"] + [f"{base.name}.{n:03d}" for n in range(1, MAX_SEGMENTS)]
    return [path for path in (base.with_name(name) for name in names) if path.exists()]


class SegmentWriter:
    """Writes the image as `base.raw`, or `base.001`, `.002`… of `split_size` bytes each.

    Positioned at `start` (a resumed acquisition, see resume.py), it is handed the bytes from there.
    Where the file system allows it, the aligned bulk of the stream is written with O_DIRECT: views
    of the ring's page-aligned buffers as they are, anything else gathered first in one page-aligned
    buffer of DIRECT_BATCH bytes. No page-cache copy costs CPU the hash threads need, nothing is
    left dirty for the final fsync, and a --verify reads the image back from the disk itself. The
    batch buffer is written out before every fsync, so the position handed to `on_sync` is always
    on disk. The unaligned edges, or everything where O_DIRECT is refused, go through the page cache.

    After each direct write, a background thread asks for the file's data to be flushed to
    stable storage (`fdatasync`), one flush at a time: the disk (on a virtual machine, the host's
    cache) empties while the hash threads work, instead of all at once in the final fsync — on
    the test disk the final fsync of 1 GiB took ~1.1 s, with the background flushes ~0.1 s. Those
    flushes only hurry the disk: the durable position is still recorded by `sync` alone, and an
    error a background flush reports is raised by the next `write`, `sync` or `close` (Linux
    reports a writeback error once per open file: it must not be swallowed there).
    """

    def __init__(self, base: Path, split_size: int | None, start: int = 0, resume: bool = False,
                 on_sync: Callable[[int], None] | None = None, sync_interval: float = 5.0,
                 flush: Callable[[int], None] = os.fdatasync) -> None:
        self.base = base
        self.split_size = split_size
        self.position = start
        self.on_sync = on_sync
        self.sync_interval = sync_interval
        self._fd: int | None = None
        self._dfd: int | None = None
        self._direct = True
        self._buf: mmap.mmap | None = None
        self._bufview: memoryview | None = None
        self._fd_index = -1
        self._pending = 0  # bytes gathered in the buffer, not yet written
        self._pending_at = 0  # their offset in the open segment
        self._kicked = 0
        self._last_sync = time.monotonic()
        self._flush = flush
        self._flusher: ThreadPoolExecutor | None = None
        self._flushing: Future[None] | None = None
        self._flush_error: OSError | None = None
        self.background_flushes = 0
        if resume:
            self._truncate_to(start)

    def segment_path(self, index: int) -> Path:
        if self.split_size is None:
            return self.base.with_name(self.base.name + ".raw")
        return self.base.with_name(f"{self.base.name}.{index + 1:03d}")

    def paths(self, upto: int | None = None) -> list[Path]:
        """The segments holding the first `upto` bytes (all written so far)."""
        upto = self.position if upto is None else upto
        if self.split_size is None:
            return [self.segment_path(0)]
        count = max(1, -(-upto // self.split_size))
        return [self.segment_path(i) for i in range(count)]

    def _truncate_to(self, start: int) -> None:
        """Cut the image back to the `start` bytes the state file says are durable."""
        index, offset = (0, start) if self.split_size is None else divmod(start, self.split_size)
        if offset == 0 and index > 0 and self.split_size is not None:
            index, offset = index - 1, self.split_size
        for earlier in range(index):
            self.segment_path(earlier).chmod(0o644)
        path = self.segment_path(index)
        if offset and (not path.exists() or path.stat().st_size < offset):
            raise UsageError(f"cannot resume: {path.name} holds fewer bytes than the state file records")
        if path.exists():
            path.chmod(0o644)
            os.truncate(path, offset)
        for later in range(index + 1, MAX_SEGMENTS if self.split_size is not None else 0):
            self.segment_path(later).unlink(missing_ok=True)  # all of them, past a missing one too

    def intact(self, end: int) -> int:
        """How much of the first `end` bytes lies in segments of the right size: a segment before the
        last that is missing, short or long ends it (read as one stream, it would shift the rest)."""
        if self.split_size is None:
            return end
        for index in range(end // self.split_size):
            path = self.segment_path(index)
            if not path.exists() or path.stat().st_size != self.split_size:
                return index * self.split_size
        return end

    def _open(self, index: int) -> int:
        if self._fd_index != index:
            self._close_fd()
            flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            self._fd = os.open(self.segment_path(index), flags, 0o644)
            end = os.lseek(self._fd, 0, os.SEEK_END)
            self._fd_index = index
            self._kicked = end - end % WINDOW
            if self._direct:
                try:
                    self._dfd = os.open(self.segment_path(index), os.O_WRONLY | getattr(os, "O_DIRECT", 0)
                                        | getattr(os, "O_CLOEXEC", 0))
                except OSError:
                    self._direct = False
        assert self._fd is not None
        return self._fd

    def _close_fd(self) -> None:
        try:
            self._drain()
            self._flush_wait()
            if self._fd is not None:
                os.fsync(self._fd)
        finally:
            if self._flushing is not None:  # only after an error above: the flush ends before its fd closes
                self._flushing.exception()
                self._flushing = None
            if self._dfd is not None:
                os.close(self._dfd)
                self._dfd = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd, self._fd_index = None, -1

    def _batch_buffer(self) -> memoryview:
        if self._bufview is None:
            self._buf = mmap.mmap(-1, DIRECT_BATCH)  # page-aligned, as O_DIRECT wants
            self._bufview = memoryview(self._buf)
        return self._bufview

    def _release_buffer(self) -> None:
        if self._bufview is not None:
            self._bufview.release()
        if self._buf is not None:
            self._buf.close()
        self._buf, self._bufview = None, None

    def _put(self, fd: int, piece: memoryview, offset: int) -> None:
        """Write `piece` at `offset` of the open segment: gathered for O_DIRECT, edges buffered.

        A piece that is already page-aligned in memory, offset and length (a buffer of the
        acquisition's ring) is written as it is, without the copy into the batch buffer."""
        if self._pending and offset != self._pending_at + self._pending:
            self._drain()
        if self._dfd is None:
            _pwrite_all(fd, piece, offset)
            return
        if self._as_is(piece, offset):
            self._direct_write(piece, offset)
            return
        if not self._pending:
            head = -offset % ALIGN
            if len(piece) < head + ALIGN:  # too small to start a batch
                _pwrite_all(fd, piece, offset)
                return
            _pwrite_all(fd, piece[:head], offset)
            piece, offset = piece[head:], offset + head
            self._pending_at = offset
        buf = self._batch_buffer()
        while piece:
            n = min(len(piece), len(buf) - self._pending)
            buf[self._pending:self._pending + n] = piece[:n]
            self._pending += n
            piece = piece[n:]
            if self._pending == len(buf):
                self._drain()

    def _drain(self) -> None:
        """Write the gathered bytes: the aligned bulk with O_DIRECT, an unaligned tail buffered."""
        if not self._pending:
            return
        assert self._fd is not None and self._bufview is not None
        at, size = self._pending_at, self._pending
        body = size // ALIGN * ALIGN
        if body and self._dfd is not None:
            self._direct_write(self._bufview[:body], at)
        elif body:
            _pwrite_all(self._fd, self._bufview[:body], at)
        if size > body:
            _pwrite_all(self._fd, self._bufview[body:size], at + body)
        self._pending_at, self._pending = at + size, 0

    def _direct_write(self, data: memoryview | list[memoryview], at: int) -> None:
        """An aligned write (of one view, or of consecutive views in one vectored call) with
        O_DIRECT, then a background flush; where the file system refuses O_DIRECT, the page cache
        from now on."""
        assert self._dfd is not None and self._fd is not None
        views = data if isinstance(data, list) else [data]
        try:
            _pwritev_all(self._dfd, views, at)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            os.close(self._dfd)
            self._dfd, self._direct = None, False
            _pwritev_all(self._fd, views, at)
            return
        self._flush_start(self._fd)

    def _flush_start(self, fd: int) -> None:
        """Start a background flush of `fd`, unless one is still running (it then covers less, and
        the next write starts another); raise the error an earlier one met."""
        if self._flushing is not None and not self._flushing.done():
            return
        self._flush_result()
        if self._flusher is None:
            self._flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dalil-flush")
        self._flushing = self._flusher.submit(self._flush, fd)
        self.background_flushes += 1

    def _flush_wait(self) -> None:
        """Wait for the background flush (before the file is closed or fsync'd); raise its error."""
        if self._flushing is not None:
            self._flushing.exception()  # waits
        self._flush_result()

    def _flush_result(self) -> None:
        """Collect the finished flush. Its error is kept and raised again by every later call: the
        fsync after it may well succeed (the error was reported once), yet bytes are missing, so no
        later `sync` may record a durable position."""
        future, self._flushing = self._flushing, None
        if future is not None and self._flush_error is None:
            error = future.exception()
            if isinstance(error, OSError):
                self._flush_error = error
            elif error is not None:
                raise error
        if self._flush_error is not None:
            raise self._flush_error

    def write_many(self, chunks: list[bytes | memoryview]) -> None:
        """The MultiHasher gathering sink: append consecutive chunks, as `write` would one by one.

        Those that can go to the disk as they are (page-aligned ring buffers, inside the open
        segment, nothing gathered before them) go in one vectored O_DIRECT write of up to
        DIRECT_BATCH bytes: on the test disk, 1 GiB written that way in 64 MiB calls and fsync'd
        took a median 1.82 s against 2.49 s in 8 MiB calls (8 alternating pairs). The rest goes
        through `write`.
        """
        run: list[memoryview] = []
        run_at = run_bytes = 0
        for chunk in chunks:
            view = memoryview(chunk)
            if run and run_bytes + len(view) <= DIRECT_BATCH and self._extends(view, run_at + run_bytes):
                run.append(view)
                run_bytes += len(view)
                continue
            self._write_run(run, run_at, run_bytes)
            run, run_bytes = [], 0
            at = self._segment()[1]
            if self._extends(view, at):
                run, run_at, run_bytes = [view], at, len(view)
            else:
                self.write(view)
        self._write_run(run, run_at, run_bytes)

    def _segment(self) -> tuple[int, int]:
        """(index, offset in it) of the segment the next byte goes to."""
        if self.split_size is None:
            return 0, self.position
        return divmod(self.position, self.split_size)

    def _as_is(self, view: memoryview, seg_offset: int) -> bool:
        """Whether `view` can go to the disk with O_DIRECT as it is, at `seg_offset`: nothing
        gathered before it, offset, length and memory aligned."""
        return (not self._pending and len(view) > 0 and not (seg_offset | len(view)) % ALIGN
                and _page_aligned(view))

    def _extends(self, view: memoryview, seg_offset: int) -> bool:
        """Whether `view`, landing at `seg_offset` of the open O_DIRECT segment, can join a vectored
        write: `_as_is`, and inside that segment."""
        return (self._dfd is not None and self._fd_index == self._segment()[0] and self._as_is(view, seg_offset)
                and (self.split_size is None or seg_offset + len(view) <= self.split_size))

    def _sync_if_due(self) -> None:
        if self.on_sync is not None and time.monotonic() - self._last_sync >= self.sync_interval:
            self.sync()

    def _write_run(self, run: list[memoryview], at: int, size: int) -> None:
        if not run:
            return
        try:
            self._direct_write(run, at)
        except OSError as exc:
            raise self._error(exc) from exc
        self.position += size  # only once written: an interrupted run records no more than this
        self._sync_if_due()

    def write(self, chunk: bytes | memoryview) -> None:
        """The MultiHasher sink: append `chunk`."""
        view = memoryview(chunk)
        try:
            while view:
                index, seg_offset = self._segment()
                room = len(view) if self.split_size is None else self.split_size - seg_offset
                fd = self._open(index)
                piece = view[:room]
                self._put(fd, piece, seg_offset)
                self.position += len(piece)
                view = view[len(piece):]
                if self._dfd is None:
                    self._writeback(fd, seg_offset + len(piece))
        except OSError as exc:
            raise self._error(exc) from exc
        self._sync_if_due()

    def _writeback(self, fd: int, seg_pos: int) -> None:
        """Start writing each full window to disk now, wait for the one before and drop it from the
        page cache: the disk writes while we hash, dirty memory stays bounded, and the final fsync
        (and a --verify read of the image) finds little in memory."""
        while seg_pos - self._kicked >= WINDOW:
            start = self._kicked
            _sync_range(fd, start, WINDOW, _SFR_WRITE)
            if start >= WINDOW:
                _sync_range(fd, start - WINDOW, WINDOW, _SFR_WAIT_BEFORE | _SFR_WRITE | _SFR_WAIT_AFTER)
                try:
                    os.posix_fadvise(fd, start - WINDOW, WINDOW, os.POSIX_FADV_DONTNEED)
                except OSError:
                    pass
            self._kicked += WINDOW

    def _error(self, exc: OSError, index: int | None = None) -> DalilError:
        index = self._fd_index if index is None else index
        return DalilError(f"cannot write the image {self.segment_path(max(index, 0)).name}: "
                          f"{exc.strerror or exc}")

    def sync(self) -> None:
        """fsync the open segment, then let the state file record the durable position."""
        if self._fd is not None:
            try:
                self._drain()
                self._flush_wait()
                os.fsync(self._fd)
            except OSError as exc:
                raise self._error(exc) from exc
        self._last_sync = time.monotonic()
        if self.on_sync is not None:
            self.on_sync(self.position)

    def interrupted(self) -> None:
        """Record the durable position after an interruption (the hash threads have stopped)."""
        try:
            self.sync()
        finally:
            self.close()

    def close(self) -> None:
        index = self._fd_index
        try:
            self._close_fd()
        except OSError as exc:
            raise self._error(exc, index) from exc
        finally:
            if self._flusher is not None:
                self._flusher.shutdown(wait=True)
                self._flusher = None
        self._release_buffer()
        _fsync_dir(self.base.parent)


def _page_aligned(view: memoryview) -> bool:
    """Whether `view` starts on a page boundary (O_DIRECT needs it); read-only memory says no."""
    try:
        return not ctypes.addressof(ctypes.c_char.from_buffer(view)) % ALIGN
    except (TypeError, ValueError):
        return False


def _pwritev_all(fd: int, views: list[memoryview], offset: int) -> None:
    """Write `views` one after the other from `offset`, in as few vectored calls as it takes."""
    views = [v for v in views if len(v)]
    while views:
        written = os.pwritev(fd, views, offset)
        if written <= 0:
            raise OSError(errno.EIO, "the image file took no bytes")
        offset += written
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        if written <= 0:
            raise OSError(errno.EIO, "the image file took no bytes")
        data, offset = data[written:], offset + written


_SFR_WAIT_BEFORE, _SFR_WRITE, _SFR_WAIT_AFTER = 1, 2, 4


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_SYNC_FILE_RANGE = _load_sync_file_range()


def _sync_range(fd: int, offset: int, length: int, flags: int) -> None:
    """Linux sync_file_range (a hint: failures are ignored; fsync makes the image durable)."""
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, length, flags)
    else:
        try:
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)  # starts writeback on Linux
        except OSError:
            pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically and durably."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def iter_image(paths: list[Path], limit: int | None = None, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes of the (split) image, in order, up to `limit` bytes."""
    left = limit
    for path in paths:
        with open_readonly(path) as fh:
            while left is None or left > 0:
                data = fh.read(chunk if left is None else min(chunk, left))
                if not data:
                    break
                if left is not None:
                    left -= len(data)
                yield data
    if left:
        raise DalilError(f"the image on disk is {left} bytes shorter than recorded")
