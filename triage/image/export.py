"""`dalil export`: copy selected files out of an exhibit into DIR, hashing each copy against the listing.

Nothing a suspect named can escape DIR (see `export_names`): every path component is sanitised, names
are unique case-insensitively (folders too), deep paths are flattened, each export writes into a new
folder of its own, and files are created with O_EXCL|O_NOFOLLOW (never overwriting). The original
name stays in the index. Every listed file with content gets one index row: `ok`, `hash-mismatch`,
`error` (this file failed, the run went on) or `skipped` (with the reason). If the run stops anyway
(disk full, Ctrl-C), the index and the ledger entry for what was copied are still written.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.case import Case
from ..core.errors import DalilError, IntegrityError, UsageError
from ..core.evidence import evidence_files, get, list_all
from ..core.ledger import subject
from ..core.textsafe import csv_cell, csv_writer
from . import walkers
from .carve import CarvedContent, ImageReader, carved_entry
from .carvers import Carved
from .container import open_image
from .export_names import MAX_NAME_BYTES, Layout, safe_component
from .walk import Entry, numbered

__all__ = ["MAX_NAME_BYTES", "Exported", "export", "safe_component"]

CHUNK = 4 * 1024 * 1024
STOP_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}  # the output is unusable: stop, record what was done
COLUMNS = ["exported_path", "original_path", "exhibit", "partition", "inode", "deleted", "size",
           "sha256_listed", "sha256_copy", "status", "attr", "reason", "snapshot"]
NOT_FOUND = "not found on re-reading the exhibit"
Key = tuple[int, str, int | None, str, str | None]  # partition, path, inode, attr, snapshot


@dataclass
class Exported:
    count: int = 0
    bytes: int = 0
    mismatches: int = 0
    skipped: int = 0
    failed: int = 0
    base: str = ""
    was_empty: bool = True
    flattened: int = 0
    index_files: list[dict[str, str]] = field(default_factory=list)
    index: list[dict[str, Any]] = field(default_factory=list)

    def raise_for_failures(self) -> None:
        """Exit 1 when a copy did not match its listed hash or could not be made."""
        if self.mismatches:
            raise IntegrityError(f"{self.mismatches} exported file(s) do not match the listed SHA-256 (see the index)")
        if self.failed:
            raise DalilError(f"{self.failed} file(s) could not be exported (see the index)")


def _open(case: Case, exhibit: str, password: str | None) -> walkers.Opened:
    """The exhibit's container checked (a backup unlocked) before anything is written."""
    path = get(case, exhibit).absolute_path(case)
    return walkers.open_container(path, walkers.kind_of(path), password)


@contextmanager
def _entries(case: Case, exhibit: str, tz: str, warn: Callable[[str, str], None],
             opened: walkers.Opened) -> Iterator[Iterator[Entry]]:
    """The exhibit walked again, as parse walks it (`walkers`)."""
    path = get(case, exhibit).absolute_path(case)
    source = open_image(path) if opened.kind is None else None
    try:
        with walkers.walk_exhibit(path, opened, source, tz, warn, exhibit, case.root) as entries:
            yield entries
    finally:
        if source is not None:
            source.img.close()


def _inside(path: Path, container: Path) -> bool:
    return path == container or container in path.parents


def _evidence_paths(case: Case) -> Iterator[tuple[str, Path]]:
    """Every path the case's evidence lives at (the stored copy, in-place sources, segments)."""
    for ex in list_all(case):
        paths = [ex.absolute_path(case)] + ([Path(ex.source_path)] if ex.in_place else [])
        paths += evidence_files(case.root, ex.path, ex.details)  # segments: real bytes, relative to the case
        for p in paths:
            try:
                yield ex.exhibit, p.resolve()
            except (OSError, RuntimeError):
                yield ex.exhibit, p


def prepare_out(case: Case, out: Path) -> Path:
    """Check --out (a folder, or one that can be made; outside the case and the evidence) and create it."""
    out = Path(out).expanduser()
    resolved = out.resolve()
    for above in [resolved, *resolved.parents]:
        if above.exists() or above.is_symlink():
            if not above.is_dir():
                raise UsageError(f"--out is not a folder: {above} is a file" if above != resolved
                                 else f"--out is not a folder: {out}")
            break
    if _inside(resolved, case.root.resolve()):
        raise UsageError("--out must be outside the case folder")
    for exhibit, where in _evidence_paths(case):
        if _inside(resolved, where):
            raise UsageError(f"--out must be outside the evidence: {out} is inside exhibit {exhibit} ({where})")
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out {out}: {exc.strerror or exc}") from exc
    return resolved


def _copy(entry: Entry, target: Path) -> str:
    """Copy the entry's content into the new file `target`; the SHA-256 of what landed on disk."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o444)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as fh:
            offset = 0
            while offset < entry.size:
                piece = entry.read(offset, min(CHUNK, entry.size - offset))
                if not piece:
                    raise IOError(f"read returned nothing at offset {offset}")
                fh.write(piece)
                h.update(piece)
                offset += len(piece)
        with open(target, "rb") as back:  # the hash of what landed on disk
            disk = hashlib.sha256()
            for block in iter(lambda: back.read(1 << 20), b""):
                disk.update(block)
    except BaseException:
        os.unlink(target)  # a partial copy is not left behind
        raise
    if disk.hexdigest() != h.hexdigest():
        raise IOError("copy on disk differs from what was read")
    return h.hexdigest()


def _row(row: dict[str, Any], exhibit: str, status: str, reason: str | None = None,
         exported: str | None = None, digest: str | None = None) -> dict[str, Any]:
    return {"exported_path": exported, "original_path": row["path"], "exhibit": exhibit,
            "partition": row["partition"], "inode": row["inode"], "deleted": bool(row["deleted"]),
            "size": row["size"], "sha256_listed": row["sha256"], "sha256_copy": digest, "status": status,
            "attr": row["attr"], "reason": reason, "snapshot": row.get("snapshot")}


def _export_one(entry: Entry, row: dict[str, Any], exhibit: str, layout: Layout, out: Path) -> dict[str, Any]:
    """Copy one file; any failure of this file is its row's `error` (a full disk stops the run)."""
    rel: Path | None = None
    try:
        view = entry.partition if entry.snapshot is None else f"{entry.partition}-{entry.snapshot}"  # p0-vss1/
        rel = layout.target(view, [p for p in entry.path.split("/") if p != ""])
        if rel.is_absolute() or ".." in rel.parts:
            raise IntegrityError(f"sanitised path left the output folder: {rel}")
        digest = _copy(entry, out / rel)
    except OSError as exc:
        if exc.errno in STOP_ERRNOS:
            raise
        return _row(row, exhibit, "error", _describe(exc))
    except Exception as exc:  # one file's failure (a read error in the image, a bad name) never stops the run
        return _row(row, exhibit, "error", _describe(exc))
    if digest != row["sha256"]:
        return _row(row, exhibit, "hash-mismatch", "the copy's SHA-256 differs from the listing", str(rel), digest)
    return _row(row, exhibit, "ok", None, str(rel), digest)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {os.fsdecode(exc.filename)}" if exc.filename else "")
    if isinstance(exc, DalilError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _no_hash_reason(row: dict[str, Any]) -> str:
    if row.get("type") == "l":
        return "symbolic link: no content of its own" + (f" (to {row['link']})" if row.get("link") else "")
    why = row.get("error") or row.get("recovered_note")
    return "no SHA-256 in the listing" + (f" ({why})" if why else " (content not read at parse)")


def _wanted(rows: list[dict[str, Any]], exhibit: str, index: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Rows to copy, by listing key; a file with a size but no hash gets its `skipped` row in `index`."""
    wanted: dict[Key, dict[str, Any]] = {}
    for r in rows:
        if r["size"] and r["sha256"]:
            wanted[(r["partition"], r["path"], r["inode"], r["attr"], r.get("snapshot"))] = r
        elif r["size"] and not str(r.get("type") or "").startswith("d"):
            index.append(_row(r, exhibit, "skipped", _no_hash_reason(r)))
    return wanted


def export(case: Case, rows: list[dict[str, Any]], exhibit: str, out: Path, filters: dict[str, Any],
           reason: str | None, progress: Callable[[int], None] | None = None, password: str | None = None) -> Exported:
    """Copy `rows` (rows of `files` for `exhibit`) into a new folder in `out`; index; ledger entry.

    Failures of single files are index rows; call `raise_for_failures()` on the result for the exit code.
    """
    # a backup is unlocked (a wrong password fails) before anything is written; nothing to copy, nothing to open
    opened = _open(case, exhibit, password) if any(r["size"] and r["sha256"] for r in rows) else None
    out = prepare_out(case, out)
    result = Exported(was_empty=not os.listdir(out))
    wanted = _wanted(rows, exhibit, result.index)
    warnings: list[tuple[str, str]] = []
    done = progress or (lambda n: None)
    with case.locked():
        if result.index:
            done(len(result.index))
        try:
            layout = Layout(out, exhibit)
        except OSError as exc:
            raise UsageError(f"cannot write in --out {out}: {exc.strerror or exc}") from exc
        result.base = str(layout.base)
        stopped: BaseException | None = None
        try:
            _copy_all(case, exhibit, wanted, layout, result.index, lambda loc, msg: warnings.append((loc, msg)), done,
                      opened)
        except BaseException as exc:  # recorded below, then raised again
            stopped = exc
        why = NOT_FOUND if stopped is None else f"not exported: the run stopped ({_describe(stopped)})"
        result.index += [_row(r, exhibit, "skipped", why) for r in wanted.values()]
        _tally(result)
        result.flattened = layout.flattened
        index_error = _record(case, exhibit, out, result, filters, reason, warnings, stopped)
    if stopped is not None:
        if isinstance(stopped, DalilError) or not isinstance(stopped, Exception):
            raise stopped
        where = index_error or "index and ledger entry written"
        raise DalilError(f"export stopped after {result.count} file(s): {_describe(stopped)} ({where})") from stopped
    if index_error:
        raise DalilError(index_error)
    return result


def _copy_all(case: Case, exhibit: str, wanted: dict[Key, dict[str, Any]], layout: Layout,
              index: list[dict[str, Any]], warn: Callable[[str, str], None], done: Callable[[int], None],
              opened: walkers.Opened | None) -> None:
    """Re-walk the exhibit and copy each wanted entry (removed from `wanted` once it has its row)."""
    if not wanted or opened is None:
        return
    carved = {key: row for key, row in wanted.items() if row.get("carved")}
    if carved:
        _copy_carved(case, exhibit, carved, wanted, layout, index, done)
    if not wanted:
        return
    with _entries(case, exhibit, _run_tz(case, exhibit), warn, opened) as entries:
        for entry in numbered(entries):
            key = (entry.partition, entry.path, entry.inode, entry.attr, entry.snapshot)
            row = wanted.get(key)
            if row is None:
                continue
            if entry.file is None:
                index.append(_row(row, exhibit, "skipped", NOT_FOUND + " (no content)"))
            else:
                index.append(_export_one(entry, row, exhibit, layout, layout.out))
            del wanted[key]
            done(1)


def _copy_carved(case: Case, exhibit: str, carved: dict[Key, dict[str, Any]], wanted: dict[Key, dict[str, Any]],
                 layout: Layout, index: list[dict[str, Any]], done: Callable[[int], None]) -> None:
    """Carved files are read again at their offset and length in the image (nothing is carved again);
    each copy is checked against the listed SHA-256 like any other."""
    source = open_image(get(case, exhibit).absolute_path(case))
    reader = ImageReader(source)
    try:
        for key, row in carved.items():
            found = Carved(int(row["carved_length"]), row["ext"] or "bin")
            entry = carved_entry(row["partition"], int(row["carved_offset"]), found,
                                 CarvedContent(reader.read, int(row["carved_offset"]), found.length))
            entry.path = row["path"]
            index.append(_export_one(entry, row, exhibit, layout, layout.out))
            del wanted[key]
            done(1)
    finally:
        reader.close()
        source.img.close()


def _tally(result: Exported) -> None:
    for r in result.index:
        if r["status"] == "ok":
            result.count += 1
            result.bytes += r["size"]
        elif r["status"] == "hash-mismatch":
            result.mismatches += 1
        elif r["status"] == "error":
            result.failed += 1
        else:
            result.skipped += 1


def _record(case: Case, exhibit: str, out: Path, result: Exported, filters: dict[str, Any], reason: str | None,
            warnings: list[tuple[str, str]], stopped: BaseException | None) -> str | None:
    """Write the index (into DIR, else into the case) and the ledger entry; a message if the index is not in DIR."""
    index_error = None
    try:
        result.index_files = _write_index(out, exhibit, result.index)
    except OSError as exc:
        index_error = f"the index could not be written to {out} ({exc.strerror or exc})"
        try:
            stored = case.put_object(json.dumps(result.index, ensure_ascii=False, indent=1).encode(
                "utf-8", "backslashreplace"), origin=f"export index of {exhibit} (could not be written to {out})")
            result.index_files = [{"name": "(case objects)", "sha256": stored.sha256}]
            index_error += f": kept in the case as sha256:{stored.sha256}"
        except OSError as again:  # the case's disk too: the ledger entry is still written, and says so
            result.index_files = [{"name": "(not kept)", "error": f"{index_error}; nor in the case: {again.strerror or again}"}]
            index_error += f", nor in the case ({again.strerror or again})"
    ex = get(case, exhibit)
    known = {(r["location"], r["message"])
             for r in case.store.query("SELECT location, message FROM warnings WHERE exhibit = ?", (exhibit,))}
    for location, message in dict.fromkeys(warnings):  # the re-walk meets what parse already recorded
        if (location, message) not in known:
            case.store.add_warning(location, message, exhibit=exhibit)
    details: dict[str, Any] = {
        "out": str(out), "folder": result.base, "files": result.count, "bytes": str(result.bytes),
        "mismatches": result.mismatches, "failed": result.failed, "skipped": result.skipped,
        "filters": filters, "index": result.index_files}
    if stopped is not None:
        details["stopped"] = _describe(stopped) or type(stopped).__name__
    case.record("exported", subject(exhibit, ex.sha256), details=details, reason=reason)
    return index_error


def _run_tz(case: Case, exhibit: str) -> str:
    rows = case.store.query("SELECT details FROM runs WHERE kind = 'parse' AND exhibit = ? ORDER BY id DESC LIMIT 1",
                            (exhibit,))
    return (json.loads(rows[0]["details"]).get("tz") or "UTC") if rows else "UTC"


def _write_index(out: Path, exhibit: str, index: list[dict[str, Any]]) -> list[dict[str, str]]:
    stem = f"index-{safe_component(exhibit)}"
    n = 1
    while (out / f"{stem}.csv").exists() or (out / f"{stem}.json").exists():
        n += 1
        stem = f"index-{safe_component(exhibit)}-{n}"
    buf = io.StringIO()
    writer = csv_writer(buf)  # CRLF: a bare CR in a name is quoted, the columns stay whole
    writer.writerow(COLUMNS)
    for row in index:
        writer.writerow([csv_cell(row[k]) for k in COLUMNS])
    written: list[dict[str, str]] = []
    for name, data in ((f"{stem}.csv", buf.getvalue().encode("utf-8", "backslashreplace")),
                       (f"{stem}.json", json.dumps(index, ensure_ascii=False, indent=1).encode("utf-8", "backslashreplace"))):
        fd = os.open(out / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o444)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError:
            (out / name).unlink(missing_ok=True)  # no partial index left behind (it goes to the case)
            for done in written:
                (out / done["name"]).unlink(missing_ok=True)
            raise
        written.append({"name": name, "sha256": hashlib.sha256(data).hexdigest()})
    return written

