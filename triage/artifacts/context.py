"""What a parser gets: the file it parses (a private copy, opened read-only) and the run around it."""

from __future__ import annotations

import plistlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from . import normalise
from .collect import Group
from .records import Source
from .recover import RecoveredRow, RecoveryError
from .recover.engine import recover_all, select

SQLITE_MAGIC = b"SQLite format 3\x00"


class Unreadable(Exception):
    """The file is not what the parser reads (not SQLite, damaged beyond opening): one warning, no records."""


class ArtifactFile:
    """A database or plist copied out of the exhibit, with its `-wal` and `-journal` beside it."""

    def __init__(self, group: Group) -> None:
        assert group.main is not None
        self.group = group
        self.path = group.main.path
        self.partition = group.main.partition
        self.sha256 = group.main.sha256
        self.size = group.main.size
        self.deleted = group.main.deleted
        self.local = group.main.local
        self.wal = group.companions["-wal"].local if "-wal" in group.companions else None
        self.journal = group.companions["-journal"].local if "-journal" in group.companions else None
        self._conn: sqlite3.Connection | None = None
        self._recovered: dict[tuple[str, ...] | None, list[RecoveredRow]] = {}
        self._everything: list[RecoveredRow] | str | None = None  # every recovered row, or why there are none
        self.notes: list[str] = []

    def head(self, n: int = 16) -> bytes:
        with open(self.local, "rb") as fh:
            return fh.read(n)

    def read_bytes(self) -> bytes:
        return self.local.read_bytes()

    def is_sqlite(self) -> bool:
        return self.head(16) == SQLITE_MAGIC

    def sqlite(self) -> sqlite3.Connection:
        """A read-only connection to the copy, WAL included (a hot journal is rolled back on a second copy)."""
        if self._conn is not None:
            return self._conn
        if not self.is_sqlite():
            raise Unreadable(f"not a SQLite database (it starts with {self.head(8)!r})")
        try:
            conn = self._open(self.local, read_only=True)
        except sqlite3.DatabaseError as exc:
            if self.journal is None:
                raise Unreadable(f"SQLite cannot open it: {exc}") from exc
            # a hot journal needs a writer to roll it back: do that on a copy of the copy
            folder = self.local.parent / "rolled-back"
            folder.mkdir(mode=0o700, exist_ok=True)
            for src in (self.local, self.journal):
                shutil.copyfile(src, folder / src.name)
            try:
                conn = self._open(folder / self.local.name, read_only=False)
            except sqlite3.DatabaseError as exc2:
                raise Unreadable(f"SQLite cannot open it: {exc2}") from exc2
            self.notes.append("a hot rollback journal was rolled back (on a copy) before reading")
        self._conn = conn
        return conn

    @staticmethod
    def _open(path: Path, read_only: bool) -> sqlite3.Connection:
        uri = f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails here if it is no database
        return conn

    def tables(self) -> set[str]:
        return {r[0] for r in self.sqlite().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.sqlite().execute(f"PRAGMA table_info(\"{table.replace(chr(34), '')}\")")]

    def recovered(self, tables: Sequence[str] | None = None) -> list[RecoveredRow]:
        """Rows recovered from free space, freelist, WAL and journal. A failure of the recovery is a
        note (a warning on this file), never the end of the parser: the live rows stand."""
        key = tuple(tables) if tables is not None else None
        if key not in self._recovered:
            if self._everything is None:  # the database is read and carved once, whatever tables are asked for
                try:
                    self._everything = recover_all(self.local, self.wal, self.journal)
                except RecoveryError as exc:
                    self._everything = f"deleted rows not recovered: {exc}"
                except Exception as exc:  # a fault in the recovery on hostile pages: disclosed, the run goes on
                    self._everything = f"deleted rows not recovered: {type(exc).__name__}: {exc}"
            if isinstance(self._everything, str):
                self.notes.append(self._everything)
                self._recovered[key] = []
            else:
                self._recovered[key] = select(self._everything, tables)
        return self._recovered[key]

    def plist(self) -> Any:
        try:
            with open(self.local, "rb") as fh:
                return plistlib.load(fh)
        except Exception as exc:  # plistlib raises several kinds on damaged input
            raise Unreadable(f"not a readable property list: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Context:
    """One parser's view of one file, and of the other files collected in the same run."""

    def __init__(self, exhibit: str, region: str, parser: str, file: ArtifactFile,
                 files: list[ArtifactFile], warn: Callable[[str], None]) -> None:
        self.exhibit = exhibit
        self.region = region
        self.parser = parser
        self.file = file
        self._files = files
        self._warn = warn

    def warn(self, message: str, table: str | None = None) -> None:
        """A gap to disclose, located at this file (and table)."""
        self._warn(f"{message}" if table is None else f"table {table}: {message}")

    def source(self, table: str | None, row: int | None, where: str | None = None) -> Source:
        return Source(self.file.path, table, row, where, self.file.partition)

    def recovered_source(self, recovered: RecoveredRow) -> Source:
        where = recovered.where + (" (partial)" if recovered.partial else "")
        if recovered.file != "main":
            where += f" [{recovered.file}]"
        return Source(self.file.path, recovered.table, recovered.offset, where, self.file.partition)

    def find(self, pattern: str) -> list[ArtifactFile]:
        """Other collected files matching `pattern` (a glob over listed paths), nearest folder first."""
        import fnmatch

        found = [f for f in self._files if f is not self.file and fnmatch.fnmatchcase(f.path, pattern)
                 and f.partition == self.file.partition]
        here = self.file.path.split("/")

        def distance(f: ArtifactFile) -> int:
            there = f.path.split("/")
            common = 0
            for a, b in zip(here, there):
                if a != b:
                    break
                common += 1
            return -common

        return sorted(found, key=lambda f: (f.deleted, distance(f), f.path))

    def phone(self, raw: str | int | None) -> str | None:
        return normalise.phone(raw, self.region)

    def jid(self, raw: str | None) -> str | None:
        return normalise.jid(raw, self.region)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[sqlite3.Row]:
        """Rows of a query on this file's database."""
        yield from self.file.sqlite().execute(sql, params)

    def has(self, table: str, *columns: str) -> bool:
        """Whether the database has `table` with all `columns`."""
        if table not in self.file.tables():
            return False
        have = set(self.file.columns(table))
        return all(c in have for c in columns)
