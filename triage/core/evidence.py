"""Evidence registration: hash a file in one streaming pass, keep a copy (or record it in place)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .case import Case, acquire_state_path, check_exhibit_id
from .clock import rfc3339
from .errors import DalilError, NotFound, Refused, UsageError
from .hashing import Digests, hash_stream, open_readonly, parse_expect
from .ledger import subject
from .store import dumps, loads


@dataclass
class Exhibit:
    """One row of the evidence table."""

    exhibit: str
    path: str
    source_path: str
    in_place: bool
    size: int
    md5: str
    sha1: str
    sha256: str
    description: str | None
    kind: str
    added_at: str
    examiner: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def absolute_path(self, case: Case) -> Path:
        path = Path(self.path)
        return path if path.is_absolute() else case.root / path


def check_source(path: Path) -> Path:
    """A readable regular file or block device, else one clear error."""
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        raise UsageError(f"is a directory, a file was expected: {path}")
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
        raise UsageError(f"not a regular file or block device: {path}")
    if not os.access(path, os.R_OK):
        raise DalilError(f"cannot read {path}: permission denied")
    return path


def regular_files(root: Path) -> list[Path]:
    """The regular files under `root`, sorted (a folder exhibit's files): symbolic links are not
    followed, FIFOs and devices never opened."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            try:
                if stat.S_ISREG(full.lstat().st_mode):
                    out.append(full)
            except OSError:
                continue  # gone meanwhile: what reads it next reports it
    return out


def evidence_files(root: Path, path: str, details: dict[str, Any]) -> list[Path]:
    """The file(s) an exhibit consists of: its segments (a split image's, relative to the case
    root `root`; a folder exhibit's files, absolute), else its path."""
    segments = details.get("segments")
    if segments is not None:  # an empty folder exhibit has none: its hash is that of no bytes
        # path_hex: the real bytes of a folder exhibit's file whose name is not UTF-8 (`path` shows it escaped)
        return [Path(os.fsdecode(bytes.fromhex(s["path_hex"]))) if "path_hex" in s
                else Path(s["path"]) if Path(s["path"]).is_absolute() else root / s["path"] for s in segments]
    return [Path(path)]


def get(case: Case, exhibit: str) -> Exhibit:
    rows = case.store.query("SELECT * FROM evidence WHERE exhibit = ?", (exhibit,))
    if not rows:
        raise NotFound(f"no exhibit {exhibit!r} in case {case.case_id}")
    return _row(rows[0])


def list_all(case: Case) -> list[Exhibit]:
    return [_row(r) for r in case.store.query("SELECT * FROM evidence ORDER BY added_at, exhibit")]


def _row(row: Any) -> Exhibit:
    data = dict(row)
    data["in_place"] = bool(data["in_place"])
    data["details"] = loads(data["details"]) or {}
    return Exhibit(**data)


def add(
    case: Case,
    source: Path,
    exhibit: str,
    description: str | None = None,
    expect: str | None = None,
    in_place: bool = False,
    reason: str | None = None,
    progress: Callable[[int], object] | None = None,
    kind: str = "file",
    details: dict[str, Any] | None = None,
    digests: Digests | None = None,
) -> Exhibit:
    """Register `source` as `exhibit`. The source is opened read-only and never written.

    A well-formed `expect` that does not match is refused (Refused, exit 1) and the refusal is
    recorded in the ledger; a malformed one is a UsageError (exit 2). With `digests` given (an
    acquisition that hashed while copying), the file is recorded in place without re-reading.
    """
    check_exhibit_id(exhibit)
    expected = None
    if expect:
        try:
            expected = parse_expect(expect)
        except ValueError as exc:
            raise UsageError(f"--expect: {exc}") from exc
    source = check_source(Path(source).expanduser())
    with case.locked():
        check_free(case, exhibit)
        examiner = case.ensure_examiner_registered()
        source_abs = str(source.resolve())
        before = os.stat(source)

        def accept(d: Digests) -> None:
            if expected is not None and d.hexdigests[expected[0]] != expected[1]:
                case.record("evidence-refused", subject(exhibit, d.sha256), details={
                    "source_path": source_abs, "reason": "hash does not match --expect",
                    "expected": f"{expected[0]}:{expected[1]}",
                    "computed": f"{expected[0]}:{d.hexdigests[expected[0]]}", "size": d.size,
                }, reason=reason)
                raise Refused(
                    f"refused: {expected[0]} of {source} is {d.hexdigests[expected[0]]}, "
                    f"expected {expected[1]} (recorded in the ledger)"
                )

        try:
            if in_place or digests is not None:
                if digests is None:
                    with open_readonly(source) as stream:
                        digests = hash_stream(stream, progress=progress)
                accept(digests)
                stored_path = source_abs
            else:
                digests, _created = case.objects.put_file(source, progress=progress, accept=accept)
                stored_path = case.objects.relpath(digests.sha256)
        except OSError as exc:
            raise DalilError(f"cannot read {source}: {exc.strerror or exc}") from exc
        after = os.stat(source)
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) and not stat.S_ISBLK(before.st_mode):
            raise DalilError(f"{source} changed while it was being read: not registered")
        row = Exhibit(
            exhibit=exhibit, path=stored_path, source_path=source_abs, in_place=in_place or stored_path == source_abs,
            size=digests.size, md5=digests.md5, sha1=digests.sha1, sha256=digests.sha256,
            description=description, kind=kind, added_at=rfc3339(), examiner=examiner.name, details=details or {},
        )
        with case.store.transaction() as conn:
            check_free(case, exhibit)
            insert(case, conn, row, reason, expected=f"{expected[0]}:{expected[1]}" if expected else None,
                   source_mtime_ns=str(before.st_mtime_ns))
        return row


def check_free(case: Case, exhibit: str) -> None:
    """Refuse an exhibit id that is registered, or that an acquisition holds (running or
    interrupted: its resume state is in images/, see triage/image/acquire.py)."""
    if case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (exhibit,)):
        raise UsageError(f"exhibit {exhibit!r} is already registered in this case")
    if acquire_state_path(case.root, exhibit).exists():
        raise UsageError(f"exhibit {exhibit!r} is being acquired, or its acquisition was interrupted "
                         f"(dalil image … --exhibit {exhibit} --resume finishes it): choose another id")


def insert(case: Case, conn: Any, row: Exhibit, reason: str | None, **ledger_details: Any) -> None:
    """The evidence row and its `evidence-registered` entry, in the caller's transaction `conn`."""
    if not row.in_place:
        conn.execute("INSERT OR IGNORE INTO objects VALUES (?, ?, ?, ?)",
                     (row.sha256, row.size, row.added_at, f"evidence {row.exhibit}"))
    conn.execute(
        "INSERT INTO evidence (exhibit, description, kind, path, source_path, in_place, size, md5, sha1,"
        " sha256, added_at, examiner, details) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (row.exhibit, row.description, row.kind, row.path, row.source_path, int(row.in_place), row.size,
         row.md5, row.sha1, row.sha256, row.added_at, row.examiner, dumps(row.details)),
    )
    case.record("evidence-registered", subject(row.exhibit, row.sha256), details={
        "source_path": row.source_path, "stored_path": row.path, "in_place": row.in_place,
        "kind": row.kind, "description": row.description, "size": row.size, "md5": row.md5,
        "sha1": row.sha1, "sha256": row.sha256, **ledger_details,
        **({"extra": row.details} if row.details else {}),
    }, reason=reason, conn=conn)
