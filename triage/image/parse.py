"""`dalil parse`: register the image if needed, walk its volumes and file systems, analyse every file.

Order (GUIDE convention 8): time zone, hash sets and YARA rules are checked first; then the image
is opened read-only; then it is registered (in place) if it is not an exhibit yet. Each failing
partition or file becomes a stored warning and the run goes on; rows are upserted, so a re-run
does not duplicate them. A `parsed` ledger entry closes the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytsk3

from .. import analyzers, artifacts
from ..artifacts import runner as phone
from ..artifacts.collect import Collector
from ..analyzers import Settings, hashsets, rulesets
from ..analyzers.text_indicators import PREFILTER_NAMESPACE, PREFILTER_PATH
from ..core import evidence
from ..core.case import Case
from ..core.clock import rfc3339
from ..core.errors import Corrupted, NotFound, UsageError
from ..core.evidence import Exhibit
from ..core.hashing import MultiHasher, cores, iter_chunks, open_readonly
from ..core.ledger import subject
from ..core.store import dumps
from ..links import index as links_index
from . import carve, logical, schema, walkers  # noqa: F401  (schema registers the tables)
from .encryption import VolumeKeys, image_reader, looks_random
from .container import EwfImg, ImageSource, open_image
from .engine import INSERT, Pipeline, Stats, row_values
from .options import ParseOptions, ParseResult
from . import truncation
from .virtual import CONTAINER_PARTITION, CONTAINER_SCHEMES, container_row
from .volumes import store_volumes, volume_row
from .walk import Entry, Volume, fs_name, numbered

QUIET_STATUSES = ("parsed", "listed")  # no warning: read, or (an APFS snapshot) listed as what it is
READ_STATUSES = ("parsed", "truncated")
LAYER_TYPES = ("APFS container", "LVM2")  # rows of a layer that holds volumes: no file system read by themselves  # a volume whose files were listed (a truncated one: those in the image)
SIGNATURES = [(32, b"NXSB", "APFS"), (3, b"-FVE-FS-", "BitLocker"), (0, b"LUKS\xba\xbe", "LUKS"),
              (0, b"XFSB", "XFS"), (1024, b"\x10\x20\xf5\xf2", "F2FS"), (65536 + 64, b"_BHRfS_M", "Btrfs")]


UNREAD_HINTS = {"F2FS": " (Android's userdata is usually F2FS: parse a logical extraction of the phone instead)"}


def warm() -> None:
    """Build ahead what every parse builds whatever its options (isolate's standby child does, while
    the command reads them): the analysers' and parsers' modules, this thread's file-type engine
    (`filetype`: 0.06 s), and the compiled patterns of the parsers' files (`re` keeps them)."""
    from ..analyzers import filetype

    analyzers.load()
    Collector(Path(os.devnull), artifacts.load())
    filetype.engine_name()


def prepare(options: ParseOptions) -> tuple[Settings, list[dict[str, str]]]:
    """Everything that can fail before evidence is touched: zone, hash sets, rules."""
    try:
        ZoneInfo(options.tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"--tz: unknown time zone {options.tz!r} (use e.g. UTC, Africa/Tripoli)") from exc
    if options.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or more")
    good = frozenset().union(*[hashsets.load_hashes(p) for p in options.known_good])
    bad = frozenset().union(*[hashsets.load_hashes(p) for p in options.known_bad])
    if options.no_yara and options.rules:
        raise UsageError("--rules and --no-yara contradict each other: give one or the other")
    compiled, described = None, []
    if not options.no_yara:
        files = rulesets.rule_files(options.rules)
        # the indicator pre-filter rides along: one scan per file serves the rules and the pre-filter
        compiled = rulesets.compile_rules(files, internal={PREFILTER_NAMESPACE: PREFILTER_PATH})
        described = rulesets.describe(files)
    return Settings(rules=compiled, known_good=good, known_bad=bad, prefilter_in_rules=compiled is not None), described


def _register_segments(case: Case, segments: list[Path], exhibit: str, fmt: str, reason: str | None) -> Exhibit:
    """A multi-file image registered in place: digests of the segments' concatenation, each segment's SHA-256."""
    hasher = MultiHasher()
    parts = []
    try:
        for seg in segments:
            one = hashlib.sha256()
            with open_readonly(seg) as fh:
                for chunk in iter_chunks(fh):
                    hasher.update(chunk)
                    one.update(chunk)
            parts.append({"path": str(seg.resolve()), "size": seg.stat().st_size, "sha256": one.hexdigest()})
    except BaseException:
        hasher.abort()
        raise
    digests = hasher.finish()
    return evidence.add(case, segments[0], exhibit, in_place=True, reason=reason, kind="image", digests=digests,
                        details={"format": fmt, "segments": parts,
                                 "sha256_covers": "the segments concatenated in order"})


def resolve(case: Case, image: str, exhibit: str, reason: str | None,
            source: ImageSource | None = None) -> tuple[Exhibit, Path]:
    """The exhibit to parse and the path to read: a registered id, or a path registered in place."""
    path = Path(image).expanduser()
    known = case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (exhibit,))
    if path.exists():
        if known:
            row = evidence.get(case, exhibit)
            same = {Path(row.source_path).resolve(), row.absolute_path(case).resolve()}
            if path.is_dir() and source is not None:  # a sparse bundle is registered by its first file
                same.add(Path(row.source_path).resolve().parent)
            if path.resolve() not in same:
                raise UsageError(f"exhibit {exhibit!r} is registered for another file ({row.source_path})")
            return row, path
        if source is not None and (len(source.segments) > 1 or path.is_dir()):  # a sparse bundle is a folder
            return _register_segments(case, source.segments, exhibit, source.format, reason), path
        if path.is_dir():
            from .register_dir import register_directory

            return register_directory(case, path, exhibit, reason), path
        return evidence.add(case, path, exhibit, in_place=True, reason=reason, kind="image"), path
    if known and image == exhibit:
        row = evidence.get(case, exhibit)
        return row, row.absolute_path(case)
    raise NotFound(f"no such image file or exhibit: {image}")


def _signature(img: pytsk3.Img_Info, offset: int) -> str | None:
    for rel, magic, name in SIGNATURES:
        try:
            if img.read(offset + rel, len(magic)) == magic:
                return name
        except (IOError, OSError):
            continue
    return None


def run(case: Case, image: str, options: ParseOptions,
        progress: Callable[..., None] | None = None) -> ParseResult:
    settings, rules_used = prepare(options)
    settings.region = case.region
    path = Path(image).expanduser()
    source: ImageSource | None = None
    opened: walkers.Opened | None = None
    if path.exists():  # a wrong password or a damaged header stops here, before anything is registered
        source, opened = _open(path, options)
    with case.locked():
        row, path = resolve(case, image, options.exhibit, options.reason, source)
        if opened is None:
            source, opened = _open(path, options)
        kind = opened.kind
        conn = case.store.conn
        cur = conn.execute("INSERT INTO runs (kind, exhibit, started, status, details) VALUES (?,?,?,?,?)",
                           ("parse", options.exhibit, rfc3339(), "running", dumps({"tz": options.tz})))
        run_id = int(cur.lastrowid or 0)
        with _closing_run(case, run_id):
            warnings: list[tuple[str, str]] = []

            def warn(location: str, message: str) -> None:
                warnings.append((location, message))
                case.store.add_warning(location, message, exhibit=options.exhibit, run_id=run_id)

            def sink(rows: list[dict[str, Any]]) -> None:
                with case.store.transaction() as c:
                    c.executemany(INSERT, row_values(rows))

            # one worker process per core: the reader (this process) needs little CPU once the walk is under way
            jobs = options.jobs or cores()
            collector = Collector(case.root / walkers.WORK / f"artifacts-{run_id}", artifacts.load())
            collector.clear_stale()  # copies left by a parse that died (the case lock says none is running)
            make: Callable[..., Pipeline] = Pipeline
            remote: dict[str, Any] = {}
            if options.broker:  # distributed: the same pipeline's interface, workers elsewhere
                from ..distributed.remote import RemotePipeline, pipeline_options

                make, remote = RemotePipeline, pipeline_options(options, row, source, case.region)
            pipeline = make(analyzers.build(settings), options.exhibit, run_id, jobs, sink, warn, progress,
                            on_entry=options.on_entry, on_stream=options.on_stream,
                            avoid=crashed_at(case, options.exhibit), collector=collector, **remote)
            partitions: list[dict[str, Any]] = []
            log = _Partitions(source, options.exhibit, partitions, warn) if source is not None else None
            carver = _carver(options, source, pipeline, warn)
            stats: Stats | None = None
            try:
                with walkers.walk_exhibit(path, opened, source, options.tz, warn, options.exhibit, case.root,
                                          log, carver) as entries:
                    try:
                        _feed(entries, pipeline)
                    finally:  # inside the walk's `with`: large files are still being read from what it made
                        stats = pipeline.close()
            finally:
                if stats is None:  # the walk could not start
                    stats = pipeline.close()
                if carver is not None:
                    carver.close()
            if source is not None and source.layer is not None:  # after the walk: its reads tell if it is cut short
                partitions.insert(0, container_row(source, options.exhibit, warn))
            if source is None:
                partitions.append({**volume_row(Volume(0, 0, None, f"logical {kind}", "logical")),
                                   "offset": None, "length": None, "fs_type": kind})
            try:
                staged = phone.run(options.exhibit, run_id, case.region, collector, warn, db=case.store.path,
                                   workers=jobs, derive=links_index.message_occurrences)  # on the walk's cores
            finally:
                collector.cleanup()
            verification: dict[str, Any] | None = None
            if options.verify_image:
                verification = verify_image(source, path, row, options.exhibit, warn)
            elif source is not None and (stats.errors or any(p["status"] != "parsed" for p in partitions)):
                _check_ewf(source, options.exhibit, warn)
            for part in partitions:
                part["files"] = stats.partitions.get(part["partition"] if not part["snapshot"]
                                                     else (part["partition"], part["snapshot"]), 0)
            case.ensure_examiner_registered()
            details = {
                "run_id": run_id, "format": source.format if source else kind,
                **({"container": opened.describe()} if kind in ("itunes-backup", "android-backup") else {}),
                **({"volume_keys_given": opened.volume_keys.describe()}
                   if opened.volume_keys is not None and opened.volume_keys.given else {}),
                "segments": [p.name for p in source.segments] if source else [],
                **({"container_layer": source.layer} if source is not None and source.layer else {}),
                "files": stats.files, "files_with_content": stats.with_content, "deleted": stats.deleted,
                "bytes_read": str(stats.bytes), "yara_hit_files": stats.yara_hits, "gps_files": stats.gps,
                "partitions": [{k: p[k] for k in ("partition", "scheme", "fs_type", "encrypted", "status", "files")}
                               | ({"snapshot": p["snapshot"], "description": p["description"]} if p["snapshot"] else {})
                               | ({"read_with": p["key"]} if p.get("key") else {}) for p in partitions],
                "rules": rules_used, "yara": not options.no_yara,
                "analysers": analyzers.registry(), "tz": options.tz, "warnings": len(warnings),
                "known_good_sets": [str(p) for p in options.known_good],
                "known_bad_sets": [str(p) for p in options.known_bad],
                "image_verification": verification,
                "artifacts": staged.summary.ledger(),
                "carving": carver.ledger() if carver is not None else None,
                **(pipeline.ledger() if hasattr(pipeline, "ledger") else {}),
            }
            with case.store.transaction() as c:
                store_volumes(c, options.exhibit, run_id, partitions)
                staged.store(c)
                details["links"] = links_index.index_in_transaction(case, c, options.exhibit, run_id, staged.derived)
                c.execute("UPDATE runs SET ended = ?, status = ?, details = ? WHERE id = ?",
                          (rfc3339(), "done", dumps(details), run_id))
                case.record("parsed", subject(options.exhibit, row.sha256), details=details,
                            reason=options.reason, conn=c)
    if source is not None:
        source.img.close()
    if verification is not None and verification["ok"] is False:
        raise Corrupted("image verification failed: " + "; ".join(verification["problems"])
                        + " (the listing is kept; recorded as warnings)")
    if not any((p["status"] in READ_STATUSES and p.get("scheme") not in CONTAINER_SCHEMES
                and p.get("fs_type") not in LAYER_TYPES)
               or (p["status"] == "locked" and p["files"]) for p in partitions):
        raise Corrupted(f"no readable file system in {path.name}: "
                        + "; ".join(("container" if p["partition"] == CONTAINER_PARTITION else
                                     f"partition at byte offset {p['partition']}") + f": {p['message']}"
                                    for p in partitions if p["status"] not in QUIET_STATUSES[1:])
                        + "".join(f"; {msg}" for _loc, msg in warnings if msg.startswith("EWF image"))
                        + " (recorded as warnings)")
    return ParseResult(options.exhibit, stats, len(warnings), partitions, rules_used, verification, run_id=run_id,
                       artifacts=staged.summary.ledger(), carving=carver.ledger() if carver is not None else None)


def _carver(options: ParseOptions, source: ImageSource | None, pipeline: Pipeline,
            warn: Callable[[str, str], None]) -> carve.Carver | None:
    """With --carve, what carves a disk image (its progress shown as the walk's location); a logical
    extraction or backup has no free space to carve (a warning says so)."""
    if not options.carve:
        return None
    if source is None:
        warn(options.exhibit, "--carve: a logical extraction or backup has no unallocated space: nothing carved")
        return None
    on_entry = options.on_entry

    def progress(text: str) -> None:
        if on_entry is not None:
            on_entry(pipeline.stats.files, pipeline.stats.bytes, text, False)

    return carve.Carver(carve.ImageReader(source), source.size, warn, options.exhibit, progress,
                        getattr(source.img, "stored", None))


@contextmanager
def _closing_run(case: Case, run_id: int) -> Iterator[None]:
    """A run that stops on an exception still gets its end: `failed` (the error in its details) or
    `interrupted`; the rows stored so far are kept. A crash of the child (a signal) is isolate's."""
    try:
        yield
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        error = logical.one_line(exc)
        try:
            with case.store.transaction() as c:
                c.execute("UPDATE runs SET ended = ?, status = ?, details = json_set(COALESCE(details, '{}'), "
                          "'$.error', ?) WHERE id = ? AND status = 'running'", (rfc3339(), status, error, run_id))
        except Exception:  # the database itself failing: the original error is the one to report
            pass
        raise


def crashed_at(case: Case, exhibit: str) -> frozenset[str]:
    """Entries ('EXH@offset:/path') whose content the file-system library crashed reading in earlier
    parses of this exhibit: a re-run lists them without reading them, so it gets past them."""
    found = set()
    for (raw,) in case.store.query("SELECT details FROM runs WHERE kind = 'parse' AND exhibit = ? AND status = 'crashed'",
                                   (exhibit,)):
        try:
            where = json.loads(raw or "{}").get("crashed_reading")
        except ValueError:
            continue
        if isinstance(where, str) and where:
            found.add(where)
    return frozenset(found)


def _feed(entries: Iterator[Entry], pipeline: Pipeline) -> None:
    for entry in numbered(entries):
        pipeline.submit(entry)


def _open(path: Path, options: ParseOptions) -> tuple[ImageSource | None, walkers.Opened]:
    """The image opened, or the container checked (and unlocked: a wrong password fails here)."""
    kind = walkers.kind_of(path)
    source = open_image(path) if kind is None else None
    keys = VolumeKeys.build(options.password, options.recovery_key, options.key_file) if kind is None else None
    return source, walkers.open_container(path, kind, options.password, keys)


class _Partitions:
    """Each volume of a disk image as a `partitions` row; a volume without a readable file system,
    or whose listing stops, is also a warning."""

    def __init__(self, source: ImageSource, exhibit: str, partitions: list[dict[str, Any]],
                 warn: Callable[[str, str], None]) -> None:
        self.source, self.exhibit, self.partitions, self.warn = source, exhibit, partitions, warn

    def _part(self, vol: Volume) -> dict[str, Any]:
        part = volume_row(vol)
        if self.source.layer is not None and part["parent"] is None:
            part["parent"] = CONTAINER_PARTITION  # a volume of the virtual disk: its layer's row
        self.partitions.append(part)
        return part

    def opened(self, vol: Volume, fs: Any) -> None:
        part = self._part(vol)
        part["fs_type"] = fs_name(fs)
        short = truncation.volume_shortfall(self.source, vol) or truncation.fs_shortfall(self.source, fs)
        if short:
            truncation.mark(part, short)
            self.warn(f"{self.exhibit}@{vol.offset}", f"partition {_label(vol)}: image truncated: {short}")

    def unreadable(self, vol: Volume, exc: Exception, img: Any = None, at: int | None = None,
                   note: str | None = None) -> None:
        """No file system opened; `note` is what the layer said first (an encrypted volume opened by a key)."""
        part = self._part(vol)
        lead = f"{note}; " if note else ""
        short = truncation.volume_shortfall(self.source, vol) if img is None or img is self.source.img else None
        if short:  # cut off: no file system to look for
            part["status"], part["message"] = "truncated", f"{lead}{short}; no file system opened ({_short(exc)})"
            self.warn(f"{self.exhibit}@{vol.offset}", f"partition {_label(vol)}: image truncated: {part['message']}")
            return
        _no_fs(img if img is not None else self.source.img, vol.offset if at is None else at, vol, part,
               exc, self.warn, f"{self.exhibit}@{vol.offset}", lead)

    def noted(self, vol: Volume, status: str, fs_type: str | None, message: str | None) -> None:
        """A layer's row (a locked or unsupported volume, an LVM PV) or news on the one just opened;
        a status other than `parsed` is also a warning."""
        last = self.partitions[-1] if self.partitions else None
        same = last is not None and (last["partition"], last["snapshot"]) == (vol.offset, vol.snapshot)
        part = last if same and last is not None else self._part(vol)
        part["status"], part["message"], part["encrypted"] = status, message, vol.encrypted
        part["fs_type"] = fs_type or part["fs_type"]
        if status not in QUIET_STATUSES:
            self.warn(f"{self.exhibit}@{vol.offset}", f"partition {_label(vol)}: {message}")

    def stopped(self, vol: Volume, exc: Exception) -> None:
        part = self.partitions[-1]
        part["status"], part["message"] = "partial", f"walk stopped: {exc}"
        self.warn(f"{self.exhibit}@{vol.offset}", f"partition {_label(vol)}: listing stopped early: {exc}")


def _label(vol: Volume) -> str:
    return f"at byte offset {vol.offset}" + (f" (slot {vol.slot}, {vol.description})" if vol.slot else "")


def _no_fs(img: pytsk3.Img_Info, at: int, vol: Volume, part: dict[str, Any], exc: Exception,
           warn: Callable[[str, str], None], where: str, lead: str = "") -> None:
    try:
        img.read(at, 512)
    except (IOError, OSError, RuntimeError) as read_exc:
        part["status"] = "unreadable"
        part["message"] = f"{lead}cannot read the image there ({_short(read_exc)}): truncated or corrupt?"
        warn(where, f"partition {_label(vol)}: {part['message']}")
        return
    found = _signature(img, at)
    if found:
        part["fs_type"], part["status"] = found, "unsupported"
        part["message"] = f"{lead}{found} file system, which pytsk3 cannot read: not listed" + UNREAD_HINTS.get(found, "")
    elif vol.encrypted is None and looks_random(image_reader(img, at), vol.length):
        part["encrypted"], part["status"] = "unknown-high-entropy", "locked"
        part["message"] = (f"{lead}no file system and no header: every sampled block looks random, as an encrypted volume "
                           "(VeraCrypt/TrueCrypt) or one wiped with random data does; nothing can be listed")
    else:
        part["status"] = "no-filesystem"
        detail = _short(exc)
        part["message"] = f"{lead}no file system recognised ({detail})"
    warn(where, f"partition {_label(vol)}: {part['message']}")


def _short(exc: BaseException) -> str:
    """The gist of a libtsk/libewf error: its last clause, without the call chain."""
    text = str(exc).strip()
    if "error: " in text:
        text = text.rsplit("error: ", 1)[-1].strip()
    parts = [p.strip() for p in re.split(r"(?<=\.) (?=[a-z_]+: )", text) if p.strip()]
    return (parts[0] if parts else text)[:300]


def verify_image(source: ImageSource | None, path: Path, row: Exhibit, exhibit: str,
                 warn: Callable[[str, str], None]) -> dict[str, Any]:
    """`--verify-image`: re-hash the image file(s) against the exhibit's registration and, for EWF,
    the media against the MD5 the acquisition tool stored in it (what ewfverify checks: a chunk
    failing its checksum reads as zeros, so only the media hash shows it).

    Returns the record kept in the run's details and the ledger; `ok` is None when nothing could be
    compared, False on any mismatch (each one also a warning).
    """
    out: dict[str, Any] = {"ok": None, "problems": []}
    files = source.segments if source is not None else ([path] if path.is_file() else [])
    if files:
        digest = hashlib.sha256()
        for seg in files:
            with open_readonly(seg) as fh:
                for chunk in iter_chunks(fh):
                    digest.update(chunk)
        out.update(files_sha256=digest.hexdigest(), registered_sha256=row.sha256,
                   files_match=digest.hexdigest() == row.sha256)
        if not out["files_match"]:
            out["problems"].append(f"the image file(s) now hash to sha256:{digest.hexdigest()}, "
                                   f"registered as sha256:{row.sha256}")
    else:
        out["note"] = "a folder extraction: `dalil verify` checks its registration"
    ewf = _ewf_media(source) if source is not None else None
    if ewf is not None:
        problem = ewf.pop("problem")
        out.update(ewf)
        if problem:
            out["problems"].append(problem)
        elif ewf["ewf_stored_md5"] is None:
            out["note"] = "no media MD5 stored in the EWF file: the media cannot be checked against it"
    compared = "files_match" in out or "ewf_media_match" in out or out["problems"]
    out["ok"] = (not out["problems"]) if compared else None
    for problem in out["problems"]:
        warn(exhibit, f"image verification: {problem}")
    return out


def _ewf_media(source: ImageSource) -> dict[str, Any] | None:
    """For an E01: does the media still match the MD5 stored at acquisition? None for other formats.

    libewf returns chunks whose checksum fails as zeros without saying so; a media hash that no
    longer matches tells the examiner the container is damaged (what ewfverify would say).
    Returns ewf_stored_md5, ewf_media_md5, ewf_media_match (when compared) and `problem` (text or None).
    """
    img = source.img
    if not isinstance(img, EwfImg):
        return None
    stored = img.stored_md5()
    out: dict[str, Any] = {"ewf_stored_md5": stored, "problem": None}
    if stored is None:
        return out
    try:
        actual = img.media_md5()
    except (IOError, OSError, RuntimeError) as exc:
        out["problem"] = f"EWF image damaged: the media cannot be read to the end ({_short(exc)})"
        return out
    out.update(ewf_media_md5=actual, ewf_media_match=actual == stored)
    if actual != stored:
        out["problem"] = (f"EWF image corrupt: the media's MD5 is {actual}, the E01 stores {stored} (chunks failing "
                          "their checksum read as zeros): listings and contents may be incomplete")
    return out


def _check_ewf(source: ImageSource, exhibit: str, warn: Callable[[str, str], None]) -> None:
    """After a read failure on an E01, without --verify-image: the media check, as a warning."""
    ewf = _ewf_media(source)
    if ewf is not None and ewf["problem"]:
        warn(exhibit, ewf["problem"])
