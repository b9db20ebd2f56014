"""`dalil image`: acquire a block device or an image file into the case as a raw (split) image.

One pass: the reader (`source.SectorReader`) reads into the buffers of a ring (`ring.BufferRing`)
and feeds a `MultiHasher` whose consumers are the MD5, SHA-1 and SHA-256 threads and the segment
writer; the last of them hands each buffer back. A small state file beside the output, replaced
atomically after each periodic fsync, lets `--resume` continue: what is already written is first
checked against the source and hashed from it (resume.py), then the copy goes on.
The finished acquisition record goes into the `acquisitions` table, the objects store (as JSON),
the ledger (`acquired`), and the image is registered in place as evidence.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import socket
import stat
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, ContextManager, Iterator

from .. import TOOL_NAME, __version__
from ..core import evidence as core_evidence
from ..core.case import Case, acquire_state_path, check_exhibit_id, exhibit_file_stem
from ..core.clock import rfc3339
from ..core.canonical import canonical
from ..core.errors import CaseBusy, DalilError, Unsupported, UsageError
from ..core.hashing import CHUNK, DEFAULT_ALGORITHMS, Digests, MultiHasher, open_readonly
from ..core.ledger import subject
from ..core.store import dumps, interrupts_held
from . import acquisition_schema  # noqa: F401  (registers the acquisitions table)
from . import device
from .ring import BufferRing
from .resume import Prefix, check_prefix
from .segments import DIRECT_BATCH, SegmentWriter, iter_image, segment_files, write_state
from .source import SectorReader, merge_ranges, source_size

Progress = Callable[[int], object]
ProgressFactory = Callable[[int, str], ContextManager[Progress]]
MIN_SPLIT = 1024 * 1024
RING_BUFFERS = 16  # chunks read ahead of the slowest consumer (8 MiB chunks: 128 MiB)
STATE_VERSION = 1
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4,
          "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


def parse_size(text: str) -> int:
    """`650MB` (decimal), `2GiB` or `2G` (binary), or plain bytes, as dd reads sizes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT](?:I?B)?|B?)\s*", text, re.I)
    if not m:
        raise UsageError(f"--split-size: cannot read {text!r} (e.g. 650MB, 2GiB, 4G)")
    unit = "" if m.group(2).upper() == "B" else m.group(2).upper()
    size = int(float(m.group(1)) * _UNITS[unit])
    if size < MIN_SPLIT:
        raise UsageError(f"--split-size {text} is too small: at least 1MiB per segment")
    return size


@dataclass
class Request:
    """What to acquire and how; the CLI fills it from its options."""

    source: Path
    exhibit: str
    split_size: int | None = None
    verify: bool = False
    resume: bool = False
    restart: bool = False
    tsa_url: str | None = None
    reason: str | None = None
    description: str | None = None
    chunk: int = CHUNK
    retries: int = 2
    sync_interval: float = 5.0


@dataclass
class Outcome:
    """The finished acquisition."""

    record: dict[str, Any]
    record_sha256: str
    acquisition_id: int
    exhibit: core_evidence.Exhibit
    warnings: list[str] = field(default_factory=list)


def copy(reader: SectorReader, writer: SegmentWriter, prefix: Prefix | None = None, chunk: int = CHUNK,
         progress: Progress | None = None, on_interrupt: Callable[[], None] | None = None,
         ring: BufferRing | None = None) -> Digests:
    """Copy the source into `writer`, hashing it; after a resume, from `prefix.end` on, the hashes
    going on from the checked prefix's.

    The source is read into the buffers of a ring (RING_BUFFERS chunks, shared by the hash threads
    and the writer): the disk's pauses are absorbed without stalling the hashes, and memory stays
    at RING_BUFFERS chunks.
    """
    start = prefix.end if prefix is not None else 0
    hasher = MultiHasher(DEFAULT_ALGORITHMS, gathering_sinks=[writer.write_many], depth=RING_BUFFERS,
                         gather=DIRECT_BATCH // chunk, resume_from=prefix.hashes if prefix else None,
                         size=start)
    try:
        _feed(hasher, reader, ring or BufferRing(RING_BUFFERS, chunk), start, progress)
        digests = hasher.finish()
    except BaseException:
        hasher.abort()  # the writer drains what was queued before it stops
        if on_interrupt is not None:
            try:
                on_interrupt()
            except (OSError, DalilError):
                pass  # the state file keeps its last durable position
        raise
    writer.close()
    return digests


def _feed(hasher: MultiHasher, reader: SectorReader, ring: BufferRing, start: int,
          progress: Progress | None) -> None:
    """Hand the source from `start` to `hasher`, chunk by chunk in `ring`'s buffers (each given
    back once every consumer is done with it)."""
    for index, view in reader.chunks_into(ring, start):
        if progress is not None:
            progress(len(view))
        hasher.update(view, done=functools.partial(ring.give, index))


def hash_all(chunks: Iterator[bytes], progress: Progress | None = None) -> Digests:
    hasher = MultiHasher(DEFAULT_ALGORITHMS)
    try:
        for data in chunks:
            hasher.update(data)
            if progress is not None:
                progress(len(data))
    except BaseException:
        hasher.abort()
        raise
    return hasher.finish()


@contextmanager
def _null_progress(total: int, desc: str) -> Iterator[Progress]:
    yield lambda n: None


@contextmanager
def open_source(path: Path, stream: BinaryIO | None) -> Iterator[tuple[BinaryIO, dict[str, Any]]]:
    """The source opened read-only with its facts; a block device is set read-only in the kernel."""
    with ExitStack() as stack:
        try:
            fh = stream if stream is not None else stack.enter_context(open_readonly(path))
            st = os.stat(path)
            size = source_size(fh)
        except OSError as exc:
            raise DalilError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if stat.S_ISBLK(st.st_mode):
            fd = fh.fileno()
            facts = device.device_facts(path, fd)
            facts["read_only"] = stack.enter_context(device.kernel_read_only(fd))
            facts.update(device.hidden_areas(path, facts))
            facts["sector_size"] = facts.get("logical_sector_size") or 512
        else:
            facts = {"kind": "file", "mtime_ns": str(st.st_mtime_ns), "sector_size": 512}
        facts["size"] = size
        yield fh, facts


def _identity(facts: dict[str, Any]) -> dict[str, Any]:
    keys = ("kind", "size", "mtime_ns", "model", "serial", "sector_size")
    return {k: facts.get(k) for k in keys if k in facts}


def acquire(case: Case, req: Request, progress: ProgressFactory = _null_progress,
            stream: BinaryIO | None = None) -> Outcome:
    """Acquire `req.source` into `case` (see the module docstring). `stream` replaces the opened source."""
    exhibit = check_exhibit_id(req.exhibit)
    source = core_evidence.check_source(Path(req.source).expanduser()).resolve()
    if req.tsa_url is not None:
        if not re.match(r"^https?://[^\s]+$", req.tsa_url):
            raise UsageError(f"--tsa must be an http(s) URL, got {req.tsa_url!r}")
        _request_timestamp()  # fails now, not after hours of copying, when RFC 3161 support is missing
    if case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (exhibit,)) or \
            case.store.query("SELECT 1 FROM acquisitions WHERE exhibit = ?", (exhibit,)):
        raise UsageError(f"exhibit {exhibit!r} is already registered in this case")
    images = case.root / "images"
    base = images / exhibit_file_stem(exhibit)
    state_path = acquire_state_path(case.root, exhibit)
    if source == state_path or source.parent == images.resolve():
        raise UsageError(f"{source} is inside this case's images/ folder: acquire the original instead")
    try:
        images.mkdir(exist_ok=True)
    except OSError as exc:
        raise DalilError(f"cannot create {images}: {exc.strerror or exc}") from exc
    with _exclusive(base.with_name(base.name + ".lock"), exhibit):
        return _acquire_locked(case, req, source, base, state_path, progress, stream)


@contextmanager
def _exclusive(lock_path: Path, exhibit: str) -> Iterator[None]:
    """One acquisition per exhibit at a time (the case lock is only taken to record the result)."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise DalilError(f"cannot write in {lock_path.parent}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise CaseBusy(f"another dalil process is acquiring {exhibit} into this case") from exc
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        os.close(fd)


def _acquire_locked(case: Case, req: Request, source: Path, base: Path, state_path: Path,
                    progress: ProgressFactory, stream: BinaryIO | None) -> Outcome:
    exhibit = req.exhibit
    if req.restart:
        _discard(case, req, state_path, base)
    state = _prior_state(state_path, base, req, str(source))
    split_size = state["split_size"] if state else req.split_size
    warnings: list[str] = []

    with open_source(source, stream) as (fh, facts):
        if facts["size"] == 0:
            raise DalilError(f"{source} is empty: nothing to acquire")
        if state and state["source"] != _identity(facts):
            changed = ", ".join(f"{k} {state['source'].get(k)} → {v}" for k, v in _identity(facts).items()
                                if state["source"].get(k) != v)
            raise UsageError(f"cannot resume: {source} changed since the interrupted acquisition ({changed}); "
                             f"--restart deletes the partial copy and starts again")
        if facts.get("mounted"):
            warnings.append(f"{source} is mounted at {', '.join(facts['mounted'])}: the image may be inconsistent")
        if facts.get("read_only", {}).get("error"):
            warnings.append(f"{source}: {facts['read_only']['error']} (opened read-only all the same)")
        sector = int(facts["sector_size"])
        reader = SectorReader(fh, facts["size"], sector, req.retries)
        ring = BufferRing(RING_BUFFERS, req.chunk)
        started = state["started"] if state else rfc3339()
        resumes = state["resumed"] if state else []
        t0 = time.monotonic()
        prefix = None
        if state:
            recorded = int(state["bytes_done"])
            layout = SegmentWriter(base, split_size)
            intact = layout.intact(recorded)
            prefix = _check_copied(reader, layout.paths(intact), intact, ring, source, progress)
            if prefix.differs_at is None and intact < recorded:
                prefix.differs_at = intact  # a segment of the wrong size (or missing) from there
            reader.bad = [r for r in reader.bad if r.first_sector * sector < prefix.end]
            for r in reader.bad:  # what is copied again from prefix.end is read again
                r.last_sector = min(r.last_sector, prefix.end // sector - 1)
            resumes = resumes + [{"at": rfc3339(), "offset": prefix.end, "recorded_offset": recorded,
                                  "checked_against_source": True, "differs_at": prefix.differs_at}]
            if prefix.differs_at is not None:
                warnings.append(f"the part copied before the interruption differed from the source from byte "
                                f"{prefix.differs_at} on (changed since the interruption, or sectors that read "
                                f"differently then): copied again from there")
        start = prefix.end if prefix is not None else 0

        def save(done: int) -> None:
            last = (done - 1) // sector
            kept = [{**r.as_dict(), "last_sector": min(r.last_sector, last)}
                    for r in merge_ranges(list(reader.bad)) if r.offset < done]
            write_state(state_path, {
                "version": STATE_VERSION, "exhibit": exhibit, "source_path": str(source),
                "source": _identity(facts), "split_size": split_size, "bytes_done": done,
                "bad_ranges": kept, "started": started, "resumed": resumes, "updated": rfc3339()})

        writer = SegmentWriter(base, split_size, start, state is not None, save, req.sync_interval)
        if not state or start != state["bytes_done"]:
            save(start)
        try:
            with progress(facts["size"], f"imaging {source.name}") as advance:
                advance(start)
                digests = copy(reader, writer, prefix, req.chunk, advance, writer.interrupted, ring)
        except DalilError as exc:
            raise type(exc)(f"{exc} (what was copied is kept: run the same command with --resume to continue)"
                            ) from exc
        save(writer.position)  # all copied and fsync'd: a resume from here only re-hashes
        ended = rfc3339()
        elapsed = max(time.monotonic() - t0, 1e-6)
        tsa = _timestamp(case, req.tsa_url, exhibit, str(source), digests, ended, warnings) if req.tsa_url else None
        bad = merge_ranges(reader.bad)
        verify = _verify(source, stream, reader, writer.paths(), digests, progress) if req.verify else None
        if facts["kind"] == "file" and str(os.stat(source).st_mtime_ns) != facts["mtime_ns"]:
            warnings.append(f"{source} was modified while it was being read")

    for path in writer.paths():
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    record = {
        "record_version": 1, "exhibit": exhibit, "case_id": case.case_id,
        "tool": {"name": TOOL_NAME, "version": __version__}, "host": socket.gethostname(),
        "examiner": case.examiner().name, "reason": req.reason,
        "source": {"path": str(source), **{k: v for k, v in facts.items() if k != "size"}, "size": facts["size"],
                   "sectors": -(-facts["size"] // sector)},
        "image": {"format": "raw", "split_size": split_size,
                  "segments": [{"path": str(p.relative_to(case.root)), "size": p.stat().st_size}
                               for p in writer.paths()]},
        "started": started, "ended": ended, "resumed": resumes,
        "duration_s": round(elapsed, 3), "speed_mb_s": round(facts["size"] / elapsed / 1e6, 1),
        "size": digests.size, "hashes": {a: digests.hexdigests[a] for a in DEFAULT_ALGORITHMS},
        "errors": {"bad_sectors": sum(r.sectors for r in bad), "bad_ranges": [r.as_dict() for r in bad],
                   "read_retries": req.retries},
        "verify": verify, "timestamp": tsa, "warnings": warnings,
    }
    try:
        with interrupts_held():  # recorded and the resume state gone, or neither
            outcome = _record(case, req, record, writer.paths()[0], digests)
            state_path.unlink(missing_ok=True)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise DalilError(f"the image of {exhibit} is complete in images/ but could not be recorded: "
                         f"{exc.strerror or exc}{where}; once that is mended, the same command with "
                         f"--resume records it") from exc
    return outcome


def _check_copied(reader: SectorReader, image: list[Path], end: int, ring: BufferRing, source: Path,
                  progress: ProgressFactory) -> Prefix:
    """The resume check (resume.py) under its own progress bar."""
    with progress(end, f"checking the copied part against {source.name}") as advance:
        return check_prefix(reader, image, end, ring, advance)


def _discard(case: Case, req: Request, state_path: Path, base: Path) -> None:
    """--restart: the partial copy an interrupted acquisition left is deleted, and the ledger says
    what was deleted (the custody record keeps that a copy was begun)."""
    if req.resume:
        raise UsageError("--restart and --resume exclude each other")
    if not state_path.exists():
        raise UsageError(f"nothing to restart for exhibit {req.exhibit}: no {state_path.name} in images/")
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    segments = segment_files(base)
    with case.locked():
        case.record("acquisition-discarded", subject(req.exhibit), details={
            "state": state, "segments": [{"path": p.name, "size": p.stat().st_size} for p in segments],
            "why": "--restart: the partial copy of an interrupted acquisition is deleted before starting again",
        }, reason=req.reason)
    for path in segments:
        path.chmod(0o644)
        path.unlink()
    state_path.unlink()


def _prior_state(state_path: Path, base: Path, req: Request, source: str) -> dict[str, Any] | None:
    existing = segment_files(base)
    if not req.resume:
        if state_path.exists():
            raise UsageError(f"an interrupted acquisition of {req.exhibit} is in images/: add --resume to continue "
                             f"it, or --restart to delete it and start again")
        if existing:
            raise UsageError(f"images/{existing[0].name} already exists: choose another exhibit id")
        return None
    if not state_path.exists():
        raise UsageError(f"nothing to resume for exhibit {req.exhibit}: no {state_path.name} in images/")
    try:
        state: dict[str, Any] = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DalilError(f"cannot read the resume state {state_path.name}: {exc}") from exc
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or state.get("exhibit") != req.exhibit \
            or not {"source_path", "source", "split_size", "bytes_done", "started"} <= state.keys():
        raise DalilError(f"{state_path.name} is not a resume state for {req.exhibit} "
                         f"(--restart deletes the partial copy and starts again)")
    if state["source_path"] != source:
        raise UsageError(f"cannot resume: the interrupted acquisition read {state['source_path']}, not {source}")
    if req.split_size is not None and req.split_size != state["split_size"]:
        raise UsageError(f"cannot resume with another --split-size (the interrupted one used {state['split_size']})")
    return state


def _verify(source: Path, stream: BinaryIO | None, reader: SectorReader, paths: list[Path], acquired: Digests,
            progress: ProgressFactory) -> dict[str, Any]:
    """Re-read the source (bad sectors zero-filled again) and the image; compare all three hashes."""
    started = rfc3339()
    with ExitStack() as stack:
        fh = stream if stream is not None else stack.enter_context(open_readonly(source))
        again = SectorReader(fh, reader.size, reader.sector_size, reader.retries)
        hasher = MultiHasher(DEFAULT_ALGORITHMS, depth=RING_BUFFERS)
        with progress(reader.size, f"verifying {source.name}") as advance:
            try:
                _feed(hasher, again, BufferRing(RING_BUFFERS, CHUNK), 0, advance)
            except BaseException:
                hasher.abort()
                raise
            src = hasher.finish()
    with progress(reader.size, "verifying the image") as advance:
        img = hash_all(iter_image(paths), advance)
    want = {a: acquired.hexdigests[a] for a in DEFAULT_ALGORITHMS}
    got_src = {a: src.hexdigests[a] for a in DEFAULT_ALGORITHMS}
    got_img = {a: img.hexdigests[a] for a in DEFAULT_ALGORITHMS}
    return {"started": started, "ended": rfc3339(), "source": got_src, "image": got_img,
            "source_bad_sectors": again.bad_sectors,
            "match": got_src == want and got_img == want and src.size == img.size == acquired.size}


def _record(case: Case, req: Request, record: dict[str, Any], first: Path, digests: Digests) -> Outcome:
    """Record object, then in one transaction (the id checked first, before any ledger entry): the
    acquisitions row, warnings, the `acquired` entry, the evidence row and its entry."""
    exhibit = record["exhibit"]
    with case.locked():
        examiner = case.ensure_examiner_registered()
        body = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
        record_sha = case.put_object(body, f"acquisition record {exhibit}").sha256
        bad = record["errors"]
        image = str(first.resolve())
        row = core_evidence.Exhibit(
            exhibit=exhibit, path=image, source_path=image, in_place=True, size=digests.size, md5=digests.md5,
            sha1=digests.sha1, sha256=digests.sha256, kind="image", added_at=rfc3339(), examiner=examiner.name,
            description=req.description or f"raw image of {record['source']['path']}",
            details={"acquisition_id": 0, "record": f"sha256:{record_sha}", "format": "raw",
                     "segments": record["image"]["segments"], "source_path": record["source"]["path"],
                     "bad_sectors": bad["bad_sectors"]})
        with case.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM evidence WHERE exhibit = ? UNION SELECT 1 FROM acquisitions"
                            " WHERE exhibit = ?", (exhibit, exhibit)).fetchone():
                raise UsageError(f"exhibit {exhibit!r} was registered while it was being acquired: the image "
                                 f"stays in images/; acquire again under another id")
            cur = conn.execute(
                "INSERT INTO acquisitions (exhibit, source, started, ended, size, md5, sha1, sha256, bad_sectors,"
                " verified, record_sha256, details) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (exhibit, record["source"]["path"], record["started"], record["ended"], digests.size, digests.md5,
                 digests.sha1, digests.sha256, bad["bad_sectors"],
                 None if record["verify"] is None else ("match" if record["verify"]["match"] else "mismatch"),
                 record_sha, dumps(record)))
            acq_id = row.details["acquisition_id"] = int(cur.lastrowid or 0)
            for r in bad["bad_ranges"]:
                case.store.add_warning(f"{record['source']['path']} sectors {r['first_sector']}-{r['last_sector']}",
                                       f"unreadable ({r['error']}): {r['sectors']} sector(s) zero-filled in the image",
                                       exhibit=exhibit)
            for text in record["warnings"]:
                case.store.add_warning(record["source"]["path"], text, exhibit=exhibit)
            case.record("acquired", subject(exhibit, digests.sha256), details={
                "acquisition_id": acq_id, "record": f"sha256:{record_sha}", "source_path": record["source"]["path"],
                "source_kind": record["source"]["kind"], "size": digests.size, "md5": digests.md5,
                "sha1": digests.sha1, "sha256": digests.sha256, "segments": record["image"]["segments"],
                "bad_sectors": bad["bad_sectors"], "bad_ranges": len(bad["bad_ranges"]),
                "started": record["started"], "ended": record["ended"],
                "verify": None if record["verify"] is None else record["verify"]["match"],
                "timestamp": record["timestamp"],
            }, reason=req.reason, conn=conn)
            core_evidence.insert(case, conn, row, req.reason, expected=None,
                                 source_mtime_ns=str(os.stat(first).st_mtime_ns))
    return Outcome(record, record_sha, acq_id, row, list(record["warnings"]))


def _request_timestamp() -> Callable[..., bytes]:
    try:
        from ..core.timestamp import request_timestamp
    except ImportError as exc:
        raise Unsupported("--tsa: this Dalil has no RFC 3161 support (triage.core.timestamp)") from exc
    return request_timestamp


def _timestamp(case: Case, url: str, exhibit: str, source: str, digests: Digests, hashed_at: str,
               warnings: list[str]) -> dict[str, Any]:
    """RFC 3161 time-stamp of the acquisition's hashes, requested as soon as they exist.

    The time-stamped statement (canonical JSON naming exhibit, source, size and the three hashes)
    and the TSA's whole reply are both stored as case objects, so anyone can check the token later.
    """
    statement = canonical({"exhibit": exhibit, "source": source, "size": digests.size, "md5": digests.md5,
                           "sha1": digests.sha1, "sha256": digests.sha256, "hashed_at": hashed_at,
                           "tool": f"{TOOL_NAME} {__version__}"})
    try:
        tsr = _request_timestamp()(statement, url)
    except Exception as exc:  # an unreachable TSA must not lose the acquisition: disclosed instead
        warnings.append(f"time-stamp from {url} failed: {exc}")
        return {"url": url, "error": str(exc)}
    with case.locked():
        st = case.put_object(statement, f"acquisition hashes {exhibit}")
        token = case.put_object(tsr, f"RFC 3161 time-stamp response {exhibit}")
    from ..core.timestamp import describe

    return {"url": url, "statement": f"sha256:{st.sha256}", "tsr": f"sha256:{token.sha256}",
            "gen_time": describe(tsr)["gen_time"]}
