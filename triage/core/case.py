"""The case workspace: `case.db`, `custody.jsonl`, `objects/`, `images/`, and its lock.

Every command that changes a case runs inside `case.locked()`, which takes an exclusive
`flock` on `CASE/.lock` (waiting up to `DALIL_LOCK_TIMEOUT` seconds, then "case is busy"),
recovers what a crash may have left in the ledger, and records actions with `record()`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Mapping

from . import identity
from .clock import rfc3339
from .hashing import Digests
from .errors import CaseBusy, ConfigError, Corrupted, NotFound, UsageError
from .ledger import KEY_ACTION, Ledger
from .objects import ObjectStore
from .settings import ENV_CASE, lock_timeout
from .store import Store, check_sqlite_header

DB_NAME = "case.db"
LEDGER_NAME = "custody.jsonl"
EXHIBIT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")  # whole id: fullmatch


def check_exhibit_id(exhibit: str) -> str:
    """Exhibit ids: letters, digits and `._/-`, up to 128 characters."""
    if not isinstance(exhibit, str) or not EXHIBIT_RE.fullmatch(exhibit) or ".." in exhibit:
        raise UsageError(f"invalid exhibit id {exhibit!r}: use letters, digits and . _ / - (e.g. EXH-001)")
    return exhibit


def exhibit_file_stem(exhibit: str) -> str:
    """The stem of the exhibit's files in the case (images/): a `/` in an id becomes `%2F` (`%` is
    not allowed in ids, so `A/B` and `A_B` never share files)."""
    return check_exhibit_id(exhibit).replace("/", "%2F")


def acquire_state_path(root: Path, exhibit: str) -> Path:
    """The resume state of an acquisition of `exhibit` into the case at `root` (while it runs, or
    after an interruption): it reserves the id."""
    return root / "images" / f"{exhibit_file_stem(exhibit)}.acquire.json"


def is_case_dir(path: Path) -> bool:
    return (path / DB_NAME).is_file() and (path / LEDGER_NAME).exists()


def find_case(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> Path:
    """`--case DIR`, else `DALIL_CASE`, else the current directory and its parents."""
    given = explicit or os.environ.get(ENV_CASE)
    if given:
        path = Path(given).expanduser()
        if not path.exists():
            raise NotFound(f"case directory not found: {path}")
        if not path.is_dir():
            raise UsageError(f"not a directory: {path}")
        if not is_case_dir(path):
            raise NotFound(f"not a Dalil case (no {DB_NAME} and {LEDGER_NAME}): {path}")
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if is_case_dir(candidate):
            return candidate
    raise NotFound("no case here: give --case DIR, set DALIL_CASE, or run inside a case directory")


class Case:
    """An open case directory."""

    def __init__(self, root: Path, read_only: bool = False) -> None:
        """`read_only`: case.db opened with SQLite's mode=ro (readers: `dalil serve`); such a case
        cannot record, lock or store objects."""
        self.root = Path(root).resolve()
        db = self.root / DB_NAME
        check_sqlite_header(db)
        self.store = Store(db, read_only=read_only)
        self.objects = ObjectStore(self.root / "objects")
        self.ledger = Ledger(self.root / LEDGER_NAME, self.store)
        self._lock_fd: int | None = None
        self._examiner: identity.Examiner | None = None
        if self.store.get_meta("case_id") is None:
            raise Corrupted(f"case.db holds no case record: {db}")

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None) -> "Case":
        case = cls(find_case(explicit))
        case.store.migrate()
        return case

    @classmethod
    def init(
        cls, root: Path, case_id: str, title: str, examiner_name: str,
        organisation: str | None = None, region: str = "LY", reason: str | None = None,
    ) -> "Case":
        """Create the case directory of the guide and record `case-opened`."""
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise UsageError(f"not a directory: {root}")
        if root.exists() and any(root.iterdir()):
            if is_case_dir(root):
                raise UsageError(f"a case already exists in {root}")
            raise UsageError(f"directory is not empty: {root}")
        if not case_id.strip() or not title.strip():
            raise UsageError("--case-id and --title must not be empty")
        examiner = identity.load_or_create(examiner_name)
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("objects", "images"):
            (root / sub).mkdir(exist_ok=True)
        (root / LEDGER_NAME).touch()
        store = Store(root / DB_NAME, create=True)
        store.migrate()
        with store.transaction() as conn:
            for key, value in {
                "case_id": case_id, "title": title, "organisation": organisation or "",
                "lead_examiner": examiner_name, "created": rfc3339(), "region": region.upper(),
            }.items():
                store.set_meta(key, value, conn)
        store.close()
        case = cls(root)
        with case.locked():
            case._examiner = examiner
            case._register_examiner(examiner)
            case.record("case-opened", details={
                "case_id": case_id, "title": title, "organisation": organisation or None,
                "lead_examiner": examiner_name, "layout": ["case.db", LEDGER_NAME, "objects/", "images/"],
            }, reason=reason)
        return case

    # --- properties --------------------------------------------------------------------------

    @property
    def case_id(self) -> str:
        return self.store.get_meta("case_id") or ""

    @property
    def region(self) -> str:
        return self.store.get_meta("region", "LY") or "LY"

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.store.query("SELECT key, value FROM meta")}

    # --- locking -----------------------------------------------------------------------------

    def _record_left_objects(self) -> None:
        """Objects a command linked into objects/ and was killed before recording: recorded now, as
        left by an interrupted command (the file is named by its SHA-256, checked by verify)."""
        names = self.objects.noted_unrecorded()
        if not names:
            return
        known = {r["sha256"] for r in self.store.query("SELECT sha256 FROM objects")}
        rows = []
        for name in dict.fromkeys(names):
            if name in known:
                continue  # recorded as usual: the note only outlived its command
            try:
                size = self.objects.path_for(name).stat().st_size
            except (ValueError, OSError):
                continue
            rows.append((name, size, rfc3339(), "stored by a command that stopped before recording it"))
        if rows:
            with self.store.transaction() as conn:
                conn.executemany("INSERT OR IGNORE INTO objects VALUES (?, ?, ?, ?)", rows)
        self.objects.forget_unrecorded()  # only once recorded: a crash before keeps the note

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator["Case"]:
        """Hold the case's exclusive lock (re-entrant within one process)."""
        if self._lock_fd is not None:
            yield self
            return
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + (lock_timeout() if timeout is None else timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise CaseBusy(f"case is busy: another dalil process is working on {self.root}")
                time.sleep(0.1)
        self._lock_fd = fd
        try:
            self.ledger.recover()
            self._record_left_objects()
            yield self
        finally:
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # --- examiners and the ledger ------------------------------------------------------------

    def examiner(self) -> identity.Examiner:
        """The acting examiner: `DALIL_EXAMINER`, else this account's default, else the case lead."""
        if self._examiner is None:
            name = identity.default_name() or self.store.get_meta("lead_examiner")
            if not name:
                raise ConfigError("no examiner: run dalil examiner init --name NAME")
            self._examiner = identity.load_or_create(name)
        return self._examiner

    def _register_examiner(self, examiner: identity.Examiner) -> None:
        known = self.store.query("SELECT 1 FROM examiners WHERE fingerprint = ?", (examiner.fingerprint,))
        if known:
            return
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO examiners VALUES (?, ?, ?, ?)",
                (examiner.fingerprint, examiner.name, examiner.public_b64, rfc3339()),
            )
            self.ledger.append(
                examiner, KEY_ACTION,
                details={"name": examiner.name, "fingerprint": examiner.fingerprint,
                         "public_key": examiner.public_b64, "algorithm": "Ed25519"},
                conn=conn,
            )

    def record(
        self, action: str, subject: Mapping[str, Any] | None = None, details: Mapping[str, Any] | None = None,
        reason: str | None = None, conn: sqlite3.Connection | None = None,
    ) -> dict[str, Any]:
        """Append a signed custody entry (the caller holds the lock, see `locked()`)."""
        if self._lock_fd is None:
            raise RuntimeError("Case.record() needs the case lock")
        examiner = self.examiner()
        if conn is None:
            self._register_examiner(examiner)
        return self.ledger.append(examiner, action, subject, details, reason, conn=conn)

    def ensure_examiner_registered(self) -> identity.Examiner:
        """Register the acting examiner's key (outside any open transaction) and return it."""
        examiner = self.examiner()
        self._register_examiner(examiner)
        return examiner

    def put_object(self, source: "Path | bytes | BinaryIO", origin: str,
                   progress: Callable[[int], object] | None = None) -> Digests:
        """Store a file, stream or bytes in `objects/` and record it in case.db (idempotent)."""
        if isinstance(source, (bytes, bytearray)):
            digests, _ = self.objects.put_bytes(bytes(source))
        elif isinstance(source, (str, Path)):
            digests, _ = self.objects.put_file(source, progress=progress)
        else:
            digests, _ = self.objects.put_stream(source, progress=progress)
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO objects VALUES (?, ?, ?, ?)",
                         (digests.sha256, digests.size, rfc3339(), origin))
        return digests

    def close(self) -> None:
        self.store.close()
