"""The per-file pipeline of `dalil parse`: one reader feeds worker processes, rows go to `files`.

The reader (the calling thread) walks the file systems and reads each small file once; the
analysers (hashes, type, EXIF, YARA, …) run in worker processes forked at the start, so neither
the reader nor the analysers wait for one another's Python lock (with threads, the reader — the
one producer — was starved of it). Small files' content reaches the workers through a shared
read-only arena (arena.py), copied once each way; only the findings come back, merged into the
rows the reader keeps. Files above `SMALL` are never held whole: they are analysed
in a thread of this process that streams them in chunks. In-flight bytes are capped, so memory
stays bounded whatever the image. A failure on one file becomes a warning and the row is kept
with what is known; a file that crashes a worker process (a libmagic or libyara fault on hostile
content) is found by re-running its batch one file at a time, and only that file loses its
analysis.
"""

from __future__ import annotations

import faulthandler
import functools
import gc
import hashlib
import json
import multiprocessing
import multiprocessing.util
import operator
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable

from ..analyzers import HEAD, Analyzer, Blob
from ..core.processes import die_with_parent
from ..core.store import dumps, interrupts_held
from .arena import Arena
from .options import Stats
from .schema import REALLOC_NOTE
from .walk import Entry

CARVED_NOTE = "carved from unallocated space: no file-system record (name, times) is left"
SMALL = 16 * 1024 * 1024
READ = 4 * 1024 * 1024
MAX_INFLIGHT_BYTES = 192 * 1024 * 1024
ARENA_BYTES = 48 * 1024 * 1024  # small files' content on its way to the workers (see arena.py); a batch fits
BATCH_FILES = 128  # 32 cost 0.2 s more CPU in the pool's threads and workers on 19,000 small files
BATCH_BYTES = 4 * 1024 * 1024
FLUSH_ROWS = 2000
GC_THRESHOLD = 20_000  # allocations between young-generation collections during a parse
COLUMNS = ("exhibit", "run_id", "partition", "path", "name", "ext", "inode", "attr", "stream", "type", "mode",
           "link", "uid", "gid", "size", "deleted", "orphan", "recovered", "recovered_note", "md5", "sha1", "sha256",
           "mime", "ext_mismatch", "mtime", "atime", "ctime", "crtime", "gps_lat", "gps_lon", "exif",
           "yara_matches", "entropy", "encrypted_flag", "known", "indicators", "error", "fn_times", "phash",
           "snapshot", "carved", "carved_offset", "carved_length")
JSON_COLUMNS = ("exif", "yara_matches", "indicators", "fn_times")
INSERT = (f"INSERT OR REPLACE INTO files ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})")


def ext_of(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem and len(ext) <= 10 else ""


_NO_VALUES: dict[str, Any] = dict.fromkeys(COLUMNS)


def base_row(entry: Entry, exhibit: str, run_id: int) -> dict[str, Any]:
    row = _NO_VALUES.copy()  # every column, None; then what the listing knows (a copy: cheaper than building it)
    row["exhibit"], row["run_id"], row["partition"] = exhibit, run_id, entry.partition
    row["path"], row["name"], row["ext"] = entry.path, entry.name, ext_of(entry.name)
    row["inode"], row["attr"], row["stream"], row["type"] = entry.inode, entry.attr, entry.stream, entry.type
    row["mode"], row["link"], row["uid"], row["gid"] = entry.mode, entry.link, entry.uid, entry.gid
    row["size"], row["deleted"], row["orphan"], row["recovered"] = entry.size, int(entry.deleted), int(entry.orphan), 0
    row["fn_times"], row["snapshot"], row["carved"] = entry.fn, entry.snapshot, int(entry.carved)
    row["carved_offset"], row["carved_length"] = entry.carved_offset, entry.carved_length
    row.update(entry.times)
    if entry.realloc:
        row["recovered_note"] = REALLOC_NOTE
    elif entry.note:
        row["recovered_note"] = entry.note
    return row


KNOWN_MIME_MAX = 500_000  # ~50 MB at most
SAFE_HERE = {"hashes", "hashsets"}  # what is still computed in-process for a file that crashes a worker
_ANALYZERS: list[Analyzer] = []  # set before the workers fork; each worker process uses its copy


# benchmarks: a folder where each process keeps its analysers' CPU seconds (cpu-PID.json), else None
PROFILE = os.environ.get("DALIL_PROFILE") or None
_CPU: dict[str, float] = {}
_IN_WORKER = False  # set in the worker processes
_SHARED: Arena | None = None  # set before the workers fork: where the reader puts small files' content for them


def analyse(analyzers: list[Analyzer], blob: Blob, row: dict[str, Any]) -> dict[str, Any]:
    """Run every analyser on one file; one failing never stops the others."""
    if PROFILE:
        return _analyse_timed(analyzers, blob, row)
    for analyzer in analyzers:
        try:
            found = analyzer.analyse(blob)
        except Exception as exc:  # one analyser failing never stops the file or the run
            row["error"] = ((row["error"] + "; ") if row["error"] else "") + f"{analyzer.NAME}: {exc}"
            continue
        _take(blob, row, found)
    return row


def _take(blob: Blob, row: dict[str, Any], found: dict[str, Any]) -> None:
    """An analyser's findings: all of them for the later analysers, the columns (no `_` key) for the row."""
    blob.found.update(found)
    for key, value in found.items():
        if not key.startswith("_"):
            row[key] = value


def _analyse_timed(analyzers: list[Analyzer], blob: Blob, row: dict[str, Any]) -> dict[str, Any]:
    """`analyse`, adding each analyser's CPU time (this thread's) to `_CPU`: one clock reading per
    analyser, the time between two readings going to the analyser that ran in it."""
    last = time.thread_time()
    for analyzer in analyzers:
        try:
            found = analyzer.analyse(blob)
        except Exception as exc:  # one analyser failing never stops the file or the run
            row["error"] = ((row["error"] + "; ") if row["error"] else "") + f"{analyzer.NAME}: {exc}"
            found = None
        now = time.thread_time()
        _CPU[analyzer.NAME] = _CPU.get(analyzer.NAME, 0.0) + now - last
        last = now
        if found is not None:
            _take(blob, row, found)
    return row


def _analyse_batch(items: list[tuple[Blob, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of a batch analysed in this process (a large file, in the streaming thread)."""
    rows = [analyse(_ANALYZERS, blob, row) for blob, row in items]
    if PROFILE and not _IN_WORKER:  # a worker process writes its figures when it ends (_write_profile)
        _write_profile()
    return rows


def _analyse_blobs(blobs: list[Blob]) -> list[dict[str, Any]]:
    """What the analysers found in each file of a batch (worker processes): the columns they set and
    `error`. The rows stay with the reader, which merges these in: only the content travels to a
    worker, only the findings come back."""
    return [analyse(_ANALYZERS, blob, {"error": None}) for blob in blobs]


def _analyse_shared(refs: list[tuple[str, str, dict[str, Any], int, int]]) -> list[dict[str, Any]]:
    """`_analyse_blobs` for files whose content the reader put in the shared arena: each is
    (locator, name, what is known already, start, length), its content copied out as it comes."""
    arena = _SHARED
    assert arena is not None  # the worker was forked after the arena was made
    out = []
    for locator, name, found, start, length in refs:
        data = arena.read(start, length)
        out.append(analyse(_ANALYZERS, Blob(locator, name, length, data[:HEAD], data=data, found=found), {"error": None}))
    return out


def _write_profile() -> None:
    """DALIL_PROFILE: this process's analysers' CPU seconds and, in a worker process, its whole CPU
    time under "(process)", in cpu-PID.json (none from a process that analysed no file)."""
    if PROFILE and _CPU:
        with open(os.path.join(PROFILE, f"cpu-{os.getpid()}.json"), "w", encoding="utf-8") as fh:
            json.dump({**_CPU, "(process)": time.process_time()} if _IN_WORKER else _CPU, fh)


def _worker_init() -> None:
    """In each forked worker: Ctrl-C is the parent's to handle, and output goes nowhere (the
    parent's buffered output must not be written twice)."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    faulthandler.disable()  # a crash here is reported by the parent, as a warning on the file
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker
    if _SHARED is not None:
        _SHARED.protect()  # this process only reads the content the reader put there
    if PROFILE:  # once, as the worker ends (the pool's shutdown), not after every batch
        multiprocessing.util.Finalize(None, _write_profile, exitpriority=10)


def _read_all(entry: Entry) -> bytes:
    if 0 < entry.size <= READ:  # most files: one read gives it all
        data = entry.read(0, entry.size)
        if len(data) == entry.size:
            return data
    parts, offset = [], 0
    while offset < entry.size:
        piece = entry.read(offset, min(READ, entry.size - offset))
        if not piece:
            raise IOError(f"read returned nothing at offset {offset}")
        parts.append(piece)
        offset += len(piece)
    return b"".join(parts)


class Pipeline:
    """Feed entries with `submit`; rows reach `sink(rows)` in batches; `close()` drains.

    Small files travel to the workers in batches (up to `BATCH_FILES` files or `BATCH_BYTES`), so
    the per-file cost of futures, queues and thread hand-offs is paid once per batch; a large file
    is a task of its own. Memory in flight is bounded by `budget` (MiB units).
    """

    def __init__(self, analyzers: list[Analyzer], exhibit: str, run_id: int, jobs: int,
                 sink: Callable[[list[dict[str, Any]]], None], warn: Callable[[str, str], None],
                 progress: Callable[..., None] | None = None,
                 on_entry: Callable[[int, int, str, bool], None] | None = None,
                 avoid: frozenset[str] = frozenset(),
                 on_stream: Callable[[str | None], None] | None = None,
                 collector: Any = None) -> None:
        self.analyzers = analyzers
        self.collector = collector  # copies the files phone-artifact parsers want (`offer(entry, data)`)
        self.on_entry = on_entry
        self.on_stream = on_stream  # told which large file the streaming thread reads (crash attribution)
        self.avoid = avoid  # 'EXH@offset:/path' whose content libtsk crashed reading before: listed, not read
        self.exhibit, self.run_id = exhibit, run_id
        self.jobs = max(1, jobs)
        self.local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dalil-large")
        # rows wait in memory until a flush: a young-generation collection every 700 allocations
        # walked them over and over; rows hold no reference cycles, so collect less often
        self.gc_threshold = gc.get_threshold()
        gc.set_threshold(max(self.gc_threshold[0], GC_THRESHOLD), *self.gc_threshold[1:])
        self.arena: Arena | None = None  # made by _start_pool
        self.pool = self._start_pool()
        self.sink, self.warn, self.progress = sink, warn, progress
        self.stats = Stats()
        self.pending: deque[Future[list[dict[str, Any]]]] = deque()
        self.done: list[dict[str, Any]] = []
        self.batch: list[tuple[Blob, dict[str, Any]]] = []
        self.batch_bytes = 0
        self.budget = threading.BoundedSemaphore(MAX_INFLIGHT_BYTES // (1024 * 1024))
        self.known_mime: dict[bytes, str] = {}  # SHA-256 -> MIME of content analysed already
        self.started = self.shown_at = time.monotonic()
        self.unshown = 0

    def submit(self, entry: Entry) -> None:
        location = f"{self.exhibit}@{entry.partition}:{entry.path}"
        if self.on_entry is not None and not (entry.has_content and location not in self.avoid):
            # a file whose content is read is announced once, as its reading starts (below): nothing
            # between here and there calls the file-system library
            self.on_entry(self.stats.files, self.stats.bytes, location, False)
        row = base_row(entry, self.exhibit, self.run_id)
        self.stats.files += 1
        self.stats.deleted += int(entry.deleted)
        key = entry.partition if entry.snapshot is None else (entry.partition, entry.snapshot)
        self.stats.partitions[key] = self.stats.partitions.get(key, 0) + 1
        if location in self.avoid and entry.has_content:  # libtsk crashed here before: listed, not read
            self._failed(row, "content not read: the file-system library crashed at this entry in an earlier run "
                              "(see the parse-crashed ledger entry)")
            return
        if not entry.has_content:
            if entry.file is not None and entry.size == 0 and entry.type == "r":
                row.update(_empty_hashes())
            self._ready(row)
            return
        if entry.deleted:
            row["recovered"] = 1
            row["recovered_note"] = "recovered, may be overwritten"
            if entry.carved:
                row["recovered_note"] = CARVED_NOTE + (f"; {entry.note}" if entry.note else "")
        if self.on_entry is not None:
            self.on_entry(self.stats.files, self.stats.bytes, location, True)
        try:
            if entry.size <= SMALL:
                data = _read_all(entry)
                blob = Blob(entry.path, entry.name, len(data), data[:HEAD], data=data)
                self._known_content(blob, data)
            else:
                head = entry.read(0, HEAD)
                blob = Blob(entry.path, entry.name, entry.size, head, reader=entry.read)
        except Exception as exc:  # any reader's failure (libtsk, a damaged zip or tar member): this file only
            self._failed(row, f"content not readable: {exc}")
            return
        finally:
            if self.on_entry is not None:
                self.on_entry(self.stats.files, self.stats.bytes, location, False)
        if self.collector is not None:
            self.collector.offer(entry, blob.data)
        self.stats.with_content += 1
        self.stats.bytes += entry.size
        if blob.data is None:  # a large file: a task of its own, streamed by the worker
            self._dispatch([(blob, row)], len(blob.head))
        else:
            self.batch.append((blob, row))
            self.batch_bytes += len(blob.data)
            if len(self.batch) < BATCH_FILES and self.batch_bytes < BATCH_BYTES:
                return  # finished tasks are looked at as a task is sent, not at every file
            self._send_batch()
        self._collect(block=False)

    def _known_content(self, blob: Blob, data: bytes) -> None:
        """SHA-256 here, so a copy of content already typed skips libmagic (phones hold many copies
        of the same forwarded photo; libmagic is most of the per-file cost). Only the type is reused:
        rule matches may depend on the name, so every copy is still scanned."""
        digest = hashlib.sha256(data)
        blob.found["_sha256"] = digest.hexdigest()
        mime = self.known_mime.get(digest.digest())
        if mime is not None:
            blob.found["_mime"] = mime

    def _send_batch(self) -> None:
        if self.batch:
            batch, size = self.batch, self.batch_bytes
            self.batch, self.batch_bytes = [], 0
            self._dispatch(batch, size)

    def _start_pool(self) -> ProcessPoolExecutor:
        """Fork the workers now, with the analysers in place (flushing first: a fork copies buffers)."""
        global _ANALYZERS, _SHARED
        _ANALYZERS = self.analyzers
        if self.arena is None:
            self.arena = Arena(ARENA_BYTES)
        _SHARED = self.arena
        for analyzer in self.analyzers:
            prepare = getattr(analyzer, "prepare", None)  # Analyzer's; a duck-typed one may lack it
            if prepare is not None:
                prepare()
        # what exists now (modules, rules, the case) lives as long as the run: the collector need not
        # walk it again and again (it did 0.2 s of the reader's time), nor touch the workers' copies
        gc.freeze()  # undone by close()
        sys.stdout.flush()
        sys.stderr.flush()
        with interrupts_held((signal.SIGINT,)):  # the workers are forked at the first submit: see there
            pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_worker_init)
            started = [pool.submit(int) for _ in range(self.jobs)]
        for future in started:
            future.result()  # every worker is up before the walk starts
        return pool

    def _dispatch(self, items: list[tuple[Blob, dict[str, Any]]], size: int) -> None:
        units = max(1, min(size // (1024 * 1024), 16))
        for _ in range(units):
            self.budget.acquire()
        if items[0][0].data is None:  # a large file: streamed from the image by a thread of this process
            future = self.local.submit(self._stream, items)
        else:
            future = self._to_workers(items)
            future.items = items  # type: ignore[attr-defined]  # the rows, and the batch to re-run if a worker crashes
            future.add_done_callback(_spend)
        future.add_done_callback(functools.partial(_release, self.budget, units))
        self.pending.append(future)

    def _to_workers(self, items: list[tuple[Blob, dict[str, Any]]]) -> Future[list[dict[str, Any]]]:
        """The task of a batch of small files: their content through the shared arena (waiting for
        the oldest batch there to be done when it is full), else by value."""
        task: Callable[[Any], list[dict[str, Any]]] = _analyse_blobs
        arg: list[Any] = [blob for blob, _row in items]
        start = None
        if self.arena is not None:
            total = sum(len(blob.data or b"") for blob, _row in items)
            start = self.arena.place(total)
            while start is None and (oldest := self.arena.oldest()) is not None:
                wait([oldest])
                start = self.arena.place(total)
            if start is not None:
                at, refs = start, []
                for blob, _row in items:
                    data = blob.data or b""
                    refs.append((blob.locator, blob.name, blob.found, at, len(data)))
                    at = self.arena.put(at, data)
                task, arg = _analyse_shared, refs
        try:
            future = self.pool.submit(task, arg)
        except BrokenProcessPool:  # a worker died since the last batch: the earlier ones are re-run
            self._restart()
            future = self.pool.submit(task, arg)
        if start is not None and self.arena is not None:
            self.arena.hold(start, at, future)
        return future

    def _stream(self, items: list[tuple[Blob, dict[str, Any]]]) -> list[dict[str, Any]]:
        """A large file's rows, analysed in this process's thread (_ANALYZERS is this process's list
        too) while it streams the content; `on_stream` knows which file that is meanwhile."""
        row = items[0][1]
        if self.on_stream is not None:
            self.on_stream(f"{self.exhibit}@{row['partition']}:{row['path']}")
        try:
            return _analyse_batch(items)
        finally:
            if self.on_stream is not None:
                self.on_stream(None)

    def _result(self, future: Future[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """A finished task's rows; a batch whose worker crashed is re-run file by file to find the file."""
        items: list[tuple[Blob, dict[str, Any]]] | None = getattr(future, "items", None)
        if items is None:  # a large file's task (this process's thread): its rows
            return future.result()
        try:
            found = future.result()
        except BrokenProcessPool:
            pass
        else:
            for (_blob, row), columns in zip(items, found):
                row.update(columns)
            return [row for _blob, row in items]
        rows = []
        for blob, row in items:
            for attempt in (1, 2):
                if attempt == 2 or getattr(self.pool, "_broken", False):
                    self._restart()
                try:
                    row.update(self.pool.submit(_analyse_blobs, [blob]).result()[0])
                    rows.append(row)
                    break
                except BrokenProcessPool:
                    pass
            else:  # this file crashes the analysers: hashes only, computed here (hashlib is safe)
                safe = [a for a in self.analyzers if a.NAME in SAFE_HERE]
                row = analyse(safe, blob, row)
                row["error"] = ((row["error"] + "; ") if row["error"] else "") + (
                    "the analysis of this file crashed a worker process twice: type, EXIF, rule matches "
                    "and indicators not computed (hashes computed)")
                rows.append(row)
        return rows

    def _restart(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._start_pool()

    def _failed(self, row: dict[str, Any], message: str) -> None:
        row["error"] = message
        row["recovered"] = 0
        self.stats.errors += 1
        self._ready(row)  # stores the warning

    def _ready(self, row: dict[str, Any]) -> None:
        self.done.append(row)
        if row["sha256"] and row["mime"] and not row["error"] and len(self.known_mime) < KNOWN_MIME_MAX:
            self.known_mime[bytes.fromhex(row["sha256"])] = sys.intern(row["mime"])
        if row.get("yara_matches"):
            self.stats.yara_hits += 1
        if row.get("gps_lat") is not None:
            self.stats.gps += 1
        if row.get("error"):
            self.warn(f"{self.exhibit}@{row['partition']}:{row['path']}", row["error"])
        if len(self.done) >= FLUSH_ROWS:
            self._flush()
        self.unshown += 1
        if self.progress is not None:
            now = time.monotonic()
            if now - self.shown_at >= 0.1:  # the bar redraws ten times a second: no need to tell it more often
                elapsed = max(now - self.started, 1e-6)
                self.progress(self.unshown, rate=f"{self.stats.files / elapsed:,.0f} files/s  "
                                                 f"{self.stats.bytes / elapsed / 1e6:,.1f} MB/s")
                self.unshown, self.shown_at = 0, now

    def _collect(self, block: bool) -> None:
        """Rows of finished tasks, in submission order (waiting for all of them when `block`)."""
        while self.pending and (block or self.pending[0].done()):
            for row in self._result(self.pending.popleft()):
                if row.get("error"):
                    self.stats.errors += 1
                self._ready(row)

    def _flush(self) -> None:
        if self.done:
            rows, self.done = self.done, []
            for row in rows:
                for key in JSON_COLUMNS:
                    value = row[key]
                    if value is not None and not isinstance(value, str):
                        # most files match no rule: their `[]` needs no encoder
                        row[key] = "[]" if value == [] else dumps(value)
            self.sink(rows)

    def close(self) -> Stats:
        self._send_batch()
        self._collect(block=True)
        self.pool.shutdown(wait=True)
        self.local.shutdown(wait=True)
        if self.arena is not None:
            self.arena.close()
            self.arena = None
        self._flush()
        gc.unfreeze()
        gc.set_threshold(*self.gc_threshold)
        if self.progress is not None and self.unshown:
            self.progress(self.unshown)
            self.unshown = 0
        return self.stats


def _release(budget: threading.BoundedSemaphore, units: int, _future: object) -> None:
    budget.release(units)


_SPENT = Blob("", "", 0, b"")


def _spend(future: Future[list[dict[str, Any]]]) -> None:
    """A batch the workers analysed: its content is let go at once (only a crashed batch is run again
    from it). Rows are taken in submission order, so finished batches wait behind a large file still
    streaming at the head of the queue; with their content they held 400 MB on a phone-sized image."""
    if not future.cancelled() and future.exception() is None:
        future.items = [(_SPENT, row) for _blob, row in future.items]  # type: ignore[attr-defined]


def _empty_hashes() -> dict[str, str]:
    return {"md5": "d41d8cd98f00b204e9800998ecf8427e", "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "mime": "inode/x-empty"}


_VALUES = operator.itemgetter(*COLUMNS)


def row_values(rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values in COLUMNS order (a KeyError names a missing column)."""
    return [_VALUES(r) for r in rows]
