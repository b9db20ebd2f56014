"""The case database: SQLite in WAL mode with per-component, versioned schemas.

Each component (core, triage.files, collectors, reports, ...) registers an ordered list of
migration scripts with `register_schema`; `Store.migrate()` applies the missing ones in one
transaction each and records the version in `schema_versions`. Components can thus evolve
their tables independently without a central list.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .errors import Corrupted, DalilError

_SCHEMAS: dict[str, list[str]] = {}

CORE_SCHEMA = [
    # version 1
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE examiners (
        fingerprint TEXT PRIMARY KEY, name TEXT NOT NULL, public_key TEXT NOT NULL,
        first_seen TEXT NOT NULL);
    CREATE TABLE evidence (
        exhibit TEXT PRIMARY KEY, description TEXT, kind TEXT NOT NULL DEFAULT 'file',
        path TEXT NOT NULL, source_path TEXT NOT NULL, in_place INTEGER NOT NULL,
        size INTEGER NOT NULL, md5 TEXT NOT NULL, sha1 TEXT NOT NULL, sha256 TEXT NOT NULL,
        added_at TEXT NOT NULL, examiner TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE objects (
        sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, added_at TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT '');
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, exhibit TEXT,
        started TEXT NOT NULL, ended TEXT, status TEXT NOT NULL DEFAULT 'running',
        details TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE warnings (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, exhibit TEXT,
        location TEXT NOT NULL, message TEXT NOT NULL, time TEXT NOT NULL);
    CREATE INDEX warnings_exhibit ON warnings(exhibit);
    """,
]


def register_schema(component: str, migrations: Sequence[str]) -> None:
    """Register `component`'s ordered migration scripts (index i brings it to version i+1).

    Registering the same component twice with different scripts fails loudly.
    """
    existing = _SCHEMAS.get(component)
    if existing is not None and existing != list(migrations):
        raise RuntimeError(f"schema component {component!r} registered twice")
    _SCHEMAS[component] = list(migrations)


register_schema("core", CORE_SCHEMA)


@contextmanager
def interrupts_held(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """SIGINT and SIGTERM (or just `signals`) arriving inside the block take effect when it ends
    (main thread only, where Python runs signal handlers); elsewhere, and when nested, the block
    runs as it is.

    Also what the forking of worker processes is wrapped in, for SIGINT alone: Python runs a
    signal's handler at the next bytecode, which may be a fork hook's (logging releases its lock
    there), and a KeyboardInterrupt raised in a fork hook is printed and dropped: that Ctrl-C would
    be lost. (A worker forked in the block starts with SIGINT recorded, not raised, until its
    initializer ignores it.)"""
    if threading.current_thread() is not threading.main_thread() or _held:
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in signals}
    _held.append(True)
    try:
        for sig in previous:  # inside the try: a signal between the two calls still restores both
            signal.signal(sig, lambda signum, _frame: caught.append(signum))
        yield
    finally:
        _held.pop()
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


_held: list[bool] = []


class Store:
    """A connection to `case.db` with helpers for transactions, JSON columns and migrations."""

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False) -> None:
        """`read_only`: SQLite opens the file with mode=ro (any write fails), for readers such as
        `dalil serve`; such a connection may be used from any thread (one at a time)."""
        self.path = Path(path)
        self._after: list[tuple[Callable[[], None], Callable[[], None]]] = []
        if not create and not self.path.is_file():
            raise Corrupted(f"case database missing: {self.path}")
        if read_only:
            try:
                self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                                            isolation_level=None, check_same_thread=False)
                self.conn.row_factory = sqlite3.Row
                self.conn.execute("PRAGMA query_only=ON")
            except sqlite3.DatabaseError as exc:
                raise Corrupted(f"case database is not readable SQLite: {self.path} ({exc})") from exc
            return
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions "
                "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
        except sqlite3.DatabaseError as exc:
            raise Corrupted(f"case database is not readable SQLite: {self.path} ({exc})") from exc

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception. Ctrl-C and SIGTERM wait for the
        end of it: a ledger entry written in it is not left without the change it records."""
        with interrupts_held():
            self.conn.execute("BEGIN IMMEDIATE")
            self._after = []
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                for _, rolled_back in self._after:
                    rolled_back()
                raise
            finally:
                after, self._after = self._after, []
            for committed, _ in after:
                committed()

    def after(self, committed: Callable[[], None], rolled_back: Callable[[], None]) -> None:
        """Inside a transaction: run `committed` after its COMMIT, or `rolled_back` after a ROLLBACK
        (the ledger uses this to keep its file in step with the head)."""
        self._after.append((committed, rolled_back))

    def versions(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT component, version FROM schema_versions").fetchall()
        return {r["component"]: r["version"] for r in rows}

    def migrate(self) -> list[str]:
        """Bring every registered component up to date; returns what was applied."""
        applied: list[str] = []
        try:
            current = self.versions()
            for component in sorted(_SCHEMAS, key=lambda c: (c != "core", c)):
                scripts = _SCHEMAS[component]
                have = current.get(component, 0)
                if have > len(scripts):
                    raise Corrupted(
                        f"case.db has {component} schema v{have}, newer than this Dalil knows "
                        f"(v{len(scripts)}): upgrade Dalil"
                    )
                for version in range(have + 1, len(scripts) + 1):
                    with self.transaction() as conn:
                        for statement in _split_sql(scripts[version - 1]):
                            conn.execute(statement)
                        conn.execute(
                            "INSERT OR REPLACE INTO schema_versions VALUES (?, ?)",
                            (component, version),
                        )
                    applied.append(f"{component} v{version}")
        except sqlite3.DatabaseError as exc:
            raise Corrupted(f"case database is damaged: {self.path} ({exc})") from exc
        return applied

    # --- small helpers -------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set_meta(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        (conn or self.conn).execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise Corrupted(f"case database query failed ({exc})") from exc

    def add_warning(
        self, location: str, message: str, *, exhibit: str | None = None, run_id: int | None = None,
        time: str | None = None,
    ) -> None:
        """Store one warning (a gap to disclose) with its locator."""
        from .clock import rfc3339

        self.conn.execute(
            "INSERT INTO warnings (run_id, exhibit, location, message, time) VALUES (?,?,?,?,?)",
            (run_id, exhibit, location, message, time or rfc3339()),
        )


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def dumps(obj: Any) -> str:
    """Compact JSON for TEXT columns (one encoder for every call: json.dumps with options builds a
    new one each time, which was a third of the cost of storing 200,000 phone records)."""
    return _ENCODER.encode(obj)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def check_sqlite_header(path: Path) -> None:
    """Refuse a file that is not SQLite before sqlite3 would silently treat it as empty."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DalilError(f"cannot read {path}: {exc.strerror}") from exc
    if head and head != b"SQLite format 3\x00":
        raise Corrupted(f"case database is not SQLite (corrupt?): {path}")
