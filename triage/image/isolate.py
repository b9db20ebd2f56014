"""`dalil parse` in a child process, so a crash of the file-system library does not end the command.

libtsk (C) reads whatever a seized, damaged or crafted file system holds; a fault in it kills the
process with a signal, no Python exception to catch. The parse therefore runs in a forked child;
this process only waits, shows progress and receives the result. If the child dies by a signal,
this process records what happened — a warning at the last location the child reported, the run
marked `crashed`, a `parse-crashed` ledger entry. A crash while reading one file's content is
then got past: a new child parses again and lists that file without reading it. A crash in the
listing itself ends the command with one clear message, exit 1. Rows stored are kept.

The first child can be forked ahead (`standby`), by `dalil parse` before its command line is even
parsed: while this process imports the CLI and reads the options (about 0.2 s), that child imports
the parse engine (pytsk3, YARA, libmagic, numpy) and builds what every parse builds whatever its
options (`parse.warm`), on the other core. It then takes the job (case, image, options, the
command line for the ledger) through a pipe and is the parse child as above. If it died before
taking the job, a new child is forked and nothing is recorded: no evidence had been touched. This
module imports no part of the engine itself: the command's process needs none of it.
"""

from __future__ import annotations

import functools
import gc
import mmap
import os
import pickle
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..core import invocation
from ..core.case import Case
from ..core.clock import rfc3339
from ..core.errors import Corrupted, DalilError
from ..core.ledger import subject
from ..core.processes import die_with_parent
from ..core.store import dumps
from .options import ParseOptions, ParseResult

_PAGE = 4096
_HEAD = struct.Struct("<QQQ?H")  # reached, analysed, bytes read, reading its content?, length of the location
_WHERE_MAX = _PAGE - _HEAD.size
_STREAM = struct.Struct("<?H")  # (second page) streaming a large file's content?, length of its location
_STREAM_MAX = _PAGE - _STREAM.size


class _Shared:
    """Pages shared with the child: its progress counters and the last location its walk reached
    (first page, written by the walking thread), the large file a thread of the child is streaming,
    if any (second page, written by that thread alone), and whether a standby child took its job
    (third page)."""

    def __init__(self) -> None:
        self.page = mmap.mmap(-1, 3 * _PAGE)
        self.reached = self.done = self.nbytes = self.length = 0
        self.reading = False
        self.where: str | None = None

    def entry(self, reached: int, nbytes: int, where: str, reading: bool) -> None:
        """The child reaches an entry, and starts or ends reading its content."""
        if where is not self.where:  # the same entry again (reading starts or ends): location unchanged
            raw = where.encode("utf-8", "replace")[:_WHERE_MAX]
            self.page[_HEAD.size:_HEAD.size + len(raw)] = raw
            self.where, self.length = where, len(raw)
        self.reached, self.nbytes, self.reading = reached, nbytes, reading
        self._publish()

    def analysed(self, n: int = 1, **_fields: Any) -> None:
        """The child's pipeline finished `n` more entries (its progress callback)."""
        self.done += n
        self._publish()

    def streaming(self, where: str | None) -> None:
        """The child's large-file thread starts streaming the content at `where`, or ends (None)."""
        if where is None:
            self.page[_PAGE:_PAGE + _STREAM.size] = _STREAM.pack(False, 0)
            return
        raw = where.encode("utf-8", "replace")[:_STREAM_MAX]
        self.page[_PAGE + _STREAM.size:_PAGE + _STREAM.size + len(raw)] = raw
        self.page[_PAGE:_PAGE + _STREAM.size] = _STREAM.pack(True, len(raw))  # after the location: never half

    def streamed(self) -> str | None:
        """The location whose content the large-file thread was streaming, or None."""
        active, n = _STREAM.unpack(self.page[_PAGE:_PAGE + _STREAM.size])
        if not active:
            return None
        return self.page[_PAGE + _STREAM.size:_PAGE + _STREAM.size + min(n, _STREAM_MAX)].decode("utf-8", "replace")

    def take(self) -> None:
        """The standby child has its job: from now on its death is a crash of the parse."""
        self.page[2 * _PAGE] = 1

    def taken(self) -> bool:
        return self.page[2 * _PAGE] == 1

    def _publish(self) -> None:
        _HEAD.pack_into(self.page, 0, self.reached, self.done, self.nbytes, self.reading, self.length)

    def read(self) -> tuple[int, int, int, bool, str]:
        reached, done, nbytes, reading, n = _HEAD.unpack(self.page[:_HEAD.size])
        where = self.page[_HEAD.size:_HEAD.size + min(n, _WHERE_MAX)].decode("utf-8", "replace")
        return reached, done, nbytes, reading, where


AUTO_RESUMES = 3  # crashes while reading a file's content that the command gets past on its own


def run(case: Case, image: str, options: ParseOptions,
        progress: Callable[..., None] | None = None) -> ParseResult:
    """`parse.run` in a forked child; its result (or its error) comes back through a pipe.

    A crash while reading one file's content is recorded and the parse starts again in a new child,
    which lists that file without reading it (at most AUTO_RESUMES times); any other crash ends the
    command with one message.
    """
    crashes: list[str] = []
    shown, started = 0, time.monotonic()
    live: Callable[[], int | None] | None = None
    if options.broker:  # the bar also shows how many `dalil worker`s are alive
        from ..distributed.live import LiveCount

        live = LiveCount(options.broker)

    def report(done: int, nbytes: int, where: str = "") -> None:
        """Move the bar to `done` (a re-started child counts from 0 again: only new ground moves it);
        while the child carves (`--carve`), its carving line is shown instead of the rates."""
        nonlocal shown
        carving = where.startswith("carving ")
        if progress is not None and (done > shown or carving):
            elapsed = max(time.monotonic() - started, 1e-6)
            workers = "" if live is None else f"  {live() if live() is not None else '?'} workers"
            progress(max(done - shown, 0), rate=where if carving else
                     f"{done / elapsed:,.0f} files/s  {nbytes / elapsed / 1e6:,.1f} MB/s{workers}")
            shown = max(done, shown)

    for attempt in range(AUTO_RESUMES + 1):
        outcome = _attempt(case, image, options, report)
        if isinstance(outcome, ParseResult):
            outcome.crashes = crashes
            return outcome
        cause, where, reached, reading, alongside = outcome
        kept = _record_crash(case, options, cause, where, reached, reading, alongside)
        if reading and attempt < AUTO_RESUMES:
            crashes.append(f"{where} ({cause})")
            continue  # the next child skips that file's content (parse.crashed_at)
        after = ("while reading the content of " if reading else "; the last entry reached was ") + (where or "(none)")
        rerun = (f" It had already got past {AUTO_RESUMES} such crashes; run the same command again to go on."
                 if reading else " The crash was in the listing itself: a re-run is likely to stop at the same place.")
        raise Corrupted(f"parse of {options.exhibit} stopped: the file-system library crashed ({cause}){after}. "
                        f"{kept} of the {reached} entries reached had been stored and are kept; the rest of the image "
                        f"is not listed. Recorded as a warning and a parse-crashed ledger entry.{rerun}")
    raise AssertionError("unreachable")


def _attempt(case: Case, image: str, options: ParseOptions, report: Callable[[int, int, str], None]
             ) -> ParseResult | tuple[str, str, int, bool, str | None]:
    """One child: its result, or, if it died, (cause, location, entries reached, reading content?,
    where the walk was when the crash is put on a streamed file).

    When the child's large-file thread was streaming a file, the crash is put on that file's content:
    libtsk was then working for two threads, and a crash in the walk shows itself again on the re-run
    (which no longer reads that file), while a crash in the content is got past."""
    standby = _hand_over(case, image, options)
    pid, reader, shared = standby or _fork(case, image, options)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child, which stops cleanly
    try:
        payload = _wait(reader, shared, report)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(reader)
        signal.signal(signal.SIGINT, previous)
    if payload is not None:
        kind, value = pickle.loads(payload)
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if isinstance(value, KeyboardInterrupt):
            _mark_running(case, options.exhibit, "interrupted")
        raise value
    if standby is not None and not shared.taken():  # it died before it had the job: nothing was touched
        return _attempt(case, image, options, report)  # in a new child
    reached, _, _, reading, where = shared.read()
    cause = (f"signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
             else f"exit status {os.waitstatus_to_exitcode(status)}")
    streamed = shared.streamed()
    if streamed is not None:
        return cause, streamed, reached, True, where
    return cause, where, reached, reading, None


def _forked(child: Callable[[], None], theirs: tuple[int, ...], ours: tuple[int, ...]) -> int:
    """Fork a child that closes the pipe ends `ours` and runs `child` (which never returns); here,
    the ends `theirs` are closed. Returns its pid. Output is flushed first: a fork copies buffers."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        for end in ours:
            os.close(end)
        child()
    for end in theirs:
        os.close(end)
    return pid


def _fork(case: Case, image: str, options: ParseOptions) -> tuple[int, int, _Shared]:
    """A new child with this job: (its pid, the pipe its answer comes through, its shared pages)."""
    shared = _Shared()
    reader, writer = os.pipe()
    pid = _forked(functools.partial(_child, case.root, image, options, shared, writer), (writer,), (reader,))
    return pid, reader, shared


@dataclass
class _Standby:
    pid: int
    jobs: int  # the pipe the job goes through (this end written by this process)
    answers: int  # the pipe its answer comes back through (this end read by this process)
    shared: _Shared


_STANDBY: _Standby | None = None


def standby() -> None:
    """Fork the first parse child now, before the command's options are known (see the module).
    Call it before anything starts a thread; at most one is kept, for this process's first parse."""
    global _STANDBY
    if _STANDBY is not None:
        return
    # what this process has let go of is finalised here, by its owner: in the child, an unreferenced
    # SQLite connection of this process (a case opened earlier) would be closed by the collector,
    # and its close would throw away what the child had written to the case (seen in tests)
    gc.collect()
    shared, parent = _Shared(), os.getpid()
    jobs_r, jobs_w = os.pipe()
    answers_r, answers_w = os.pipe()
    pid = _forked(functools.partial(_stand_by, parent, jobs_r, answers_w, shared), (jobs_r, answers_w),
                  (jobs_w, answers_r))
    _STANDBY = _Standby(pid, jobs_w, answers_r, shared)


def _stand_by(parent: int, jobs: int, answers: int, shared: _Shared) -> None:
    """The standby child: get ready, wait for the job, do it as `_child`. It ends quietly if the
    command ends without a parse (its options refused, `--help`): the job pipe closes empty."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # until it has the job: Ctrl-C is the command's
        die_with_parent()
        if os.getppid() != parent:  # the command ended before the line above
            os._exit(0)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the child
        gc.disable()  # what is made now (modules, engines) lasts the whole run: no collections over it (0.05 s)
        try:
            from . import parse as engine

            engine.warm()
        except Exception:  # noqa: S110 - the job meets the same failure, and reports it
            pass
        finally:
            gc.freeze()
            gc.enable()
        chunks = []
        while piece := os.read(jobs, 1 << 16):
            chunks.append(piece)
        os.close(jobs)
        if not chunks:
            os._exit(0)
        root, image, options, command_line = pickle.loads(b"".join(chunks))
        invocation.set_recorded(command_line)
        shared.take()
    except BaseException:
        os._exit(1)
    _child(root, image, options, shared, answers)


def _hand_over(case: Case, image: str, options: ParseOptions) -> tuple[int, int, _Shared] | None:
    """The standby child, given this job, as `_fork` returns a child; None if there is none."""
    global _STANDBY
    ready, _STANDBY = _STANDBY, None
    if ready is None:
        return None
    job = memoryview(pickle.dumps((case.root, image, options, invocation.command_line())))
    try:
        while job:
            job = job[os.write(ready.jobs, job):]
    except OSError:  # it died: its answer pipe is empty and its page says the job was not taken
        pass
    finally:
        os.close(ready.jobs)
    return ready.pid, ready.answers, ready.shared


def _child(root: Any, image: str, options: ParseOptions, shared: _Shared, writer: int) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        die_with_parent()
        # fresh stream objects: the parent's progress thread may have held a stream's lock at the fork,
        # and everything the child has to say goes back through the pipe
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the child
        options.on_entry = shared.entry  # the last location, for the parent
        options.on_stream = shared.streaming  # the large file being streamed, if any
        from . import parse as engine  # the parse engine: in this process only

        result: Any = ("ok", engine.run(Case.open(str(root)), image, options, progress=shared.analysed))
    except BaseException as exc:  # everything goes back to the parent, which raises it
        result = ("error", exc)
        code = 1
    try:
        data = pickle.dumps(result)
    except Exception:
        failure = result[1]
        data = pickle.dumps(("error", DalilError(f"{type(failure).__name__}: {failure}")))
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(writer, view):]
    finally:
        os._exit(code)


def _wait(reader: int, shared: _Shared, report: Callable[[int, int, str], None]) -> bytes | None:
    """Read the child's answer; meanwhile report its progress from the shared counters."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([reader], [], [], 0.1)
        _, done, nbytes, _, where = shared.read()
        report(done, nbytes, where)
        if ready:
            piece = os.read(reader, 1 << 20)
            if not piece:
                break
            chunks.append(piece)
    return b"".join(chunks) or None


def _left_running(case: Case, exhibit: str) -> int | None:
    """The id of the parse run of `exhibit` the child left 'running', if any."""
    rows = case.store.query("SELECT MAX(id) FROM runs WHERE kind = 'parse' AND exhibit = ? AND status = 'running'",
                            (exhibit,))
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def _mark_running(case: Case, exhibit: str, status: str) -> None:
    """The run the child left 'running' gets its real end (the rows it stored stay)."""
    with case.locked():
        run_id = _left_running(case, exhibit)
        if run_id is not None:
            with case.store.transaction() as c:
                c.execute("UPDATE runs SET ended = ?, status = ? WHERE id = ?", (rfc3339(), status, run_id))


def _record_crash(case: Case, options: ParseOptions, cause: str, where: str, reached: int,
                  reading: bool, alongside: str | None = None) -> int:
    """What a court needs to know about the gap: where, why, what is kept. Returns the rows kept."""
    with case.locked():
        run_id = _left_running(case, options.exhibit)
        kept = int(case.store.query("SELECT COUNT(*) FROM files WHERE exhibit = ? AND run_id = ?",
                                    (options.exhibit, run_id))[0][0]) if run_id is not None else 0
        note = "the parse ran in a child process that died; the rows it had stored are kept"
        if alongside is not None:
            note += ("; it was streaming this large file's content while its walk had reached walk_location: "
                     "the crash is put on the file (a re-run lists it without reading it)")
        details: dict[str, Any] = {"run_id": run_id, "cause": cause, "last_location": where,
                                   "entries_reached": reached, "rows_kept": kept,
                                   "crashed_reading": where if reading else None, "note": note}
        if alongside is not None:
            details["walk_location"] = alongside
        message = (f"the file-system library crashed ({cause}) at or after this entry; the listing stops here "
                   f"({kept} of the {reached} entries reached had been stored)")
        case.store.add_warning(where or options.exhibit, message, exhibit=options.exhibit, run_id=run_id)
        sha = case.store.query("SELECT sha256 FROM evidence WHERE exhibit = ?", (options.exhibit,))
        case.ensure_examiner_registered()
        with case.store.transaction() as c:
            if run_id is not None:
                c.execute("UPDATE runs SET ended = ?, status = ?, details = ? WHERE id = ?",
                          (rfc3339(), "crashed", dumps(details), run_id))
            case.record("parse-crashed", subject(options.exhibit, str(sha[0][0]) if sha else None),
                        details=details, reason=options.reason, conn=c)
    return kept
