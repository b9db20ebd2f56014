"""During the walk: keep a private copy of every file an artifact parser wants, with its companions.

`Collector.offer(entry, data)` is called by the parse pipeline for every file whose content it read
(`data` is the whole content of a small file, None for a large one, which is then read here in
chunks). A file is wanted when its listed path matches a parser's pattern; its `-wal` and
`-journal` (met before or after it in the walk) are kept beside it so the database is read as the
phone last saw it. Copies go into a private work folder (0700) inside the case, are hashed while
they are written, and the folder is removed when the run ends. Evidence is never opened for writing.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import Artifact

COMPANIONS = ("-wal", "-journal")
SQLITE = b"SQLite format 3\x00"
CHUNK = 4 * 1024 * 1024
MAX_COPY = 8 * 1024 ** 3  # a single wanted file larger than this is not copied (a warning says so)


class Readable(Protocol):
    """What the walk's `Entry` offers the collector."""

    partition: int
    path: str
    name: str
    size: int
    deleted: bool

    def read(self, offset: int, length: int) -> bytes: ...


@dataclass
class Copied:
    """One file copied out of the exhibit: where it was listed and where its private copy is."""

    partition: int
    path: str
    local: Path
    size: int
    sha256: str
    deleted: bool


@dataclass
class Group:
    """A wanted file and its companions (`-wal`, `-journal`), copied under the same stem."""

    key: tuple[int, str, bool]
    main: Copied | None = None
    companions: dict[str, Copied] = field(default_factory=dict)
    parsers: tuple[str, ...] = ()  # for a carved database (no path to match): the parsers its tables call for


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))


class Collector:
    """Copies wanted files during the walk; `groups()` afterwards gives them to the runner."""

    def __init__(self, work: Path, parsers: dict[str, type[Artifact]]) -> None:
        self.work = work
        self.by_name: dict[str, list[re.Pattern[str]]] = {}
        self.wild: list[re.Pattern[str]] = []
        for cls in parsers.values():
            for pattern in cls.PATTERNS + cls.ALSO:
                base = pattern.rsplit("/", 1)[-1]
                if any(c in base for c in "*?["):
                    self.wild.append(_glob(pattern))
                else:
                    self.by_name.setdefault(base, []).append(_glob(pattern))
        self.by_tables = {cls.NAME: cls.TABLES for cls in parsers.values() if cls.TABLES}
        self._groups: dict[tuple[int, str, bool], Group] = {}
        self.errors: list[tuple[str, str]] = []  # (location, message) for the run's warnings
        self._made = False

    def wants(self, partition: int, path: str, name: str) -> str | None:
        """The companion suffix ('' for the file itself) if `path` is wanted, else None."""
        for suffix in ("",) + COMPANIONS:
            if suffix and not name.endswith(suffix):
                continue
            stem_name = name[:len(name) - len(suffix)] if suffix else name
            stem_path = path[:len(path) - len(suffix)] if suffix else path
            patterns = self.by_name.get(stem_name)
            if patterns and any(p.match(stem_path) for p in patterns):
                return suffix
            if self.wild and any(p.match(stem_path) for p in self.wild):
                return suffix
        return None

    def offer(self, entry: Readable, data: bytes | None) -> None:
        """Called for each file whose content the walk reads: copy it if a parser wants it."""
        suffix = self.wants(entry.partition, entry.path, entry.name)
        if suffix is None:
            if getattr(entry, "carved", False) and self.by_tables:
                self._offer_carved(entry, data)
            return
        stem_path = entry.path[:len(entry.path) - len(suffix)] if suffix else entry.path
        key = (entry.partition, stem_path, bool(entry.deleted))
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(key)
        if entry.size > MAX_COPY:
            self.errors.append((entry.path, f"not parsed for phone artifacts: {entry.size:,} bytes is above the "
                                            f"{MAX_COPY:,}-byte limit for a private copy"))
            return
        folder = self.work / str(len(self._groups))
        if group.main is not None:
            folder = group.main.local.parent
        elif group.companions:
            folder = next(iter(group.companions.values())).local.parent
        try:
            copied = self._copy(entry, data, folder / ("main" + suffix))  # never a name the suspect chose
        except Exception as exc:  # a damaged member: the others go on
            self.errors.append((entry.path, f"could not copy for phone-artifact parsing: {exc}"))
            return
        if suffix:
            group.companions[suffix] = copied
        else:
            group.main = copied

    def _offer_carved(self, entry: Readable, data: bytes | None) -> None:
        """A carved file that is a SQLite database: copied, and kept for the parsers whose TABLES it has."""
        key = (entry.partition, entry.path, bool(entry.deleted))
        folder = self.work / f"{len(self._groups) + 1}c"
        try:
            if not (data if data is not None else entry.read(0, len(SQLITE))).startswith(SQLITE):
                return
            copied = self._copy(entry, data, folder / "main")
            names = _tables(copied.local)
        except Exception as exc:  # a carved database too damaged to read: its row stays, no records
            self.errors.append((entry.path, f"carved database not readable for phone-artifact parsing: {exc}"))
            shutil.rmtree(folder, ignore_errors=True)
            return
        wanted = tuple(name for name, sets in self.by_tables.items() if any(set(s) <= names for s in sets))
        if not wanted:
            shutil.rmtree(folder, ignore_errors=True)
            return
        self._groups[key] = Group(key, copied, parsers=wanted)

    def _copy(self, entry: Readable, data: bytes | None, target: Path) -> Copied:
        if not self._made:
            self.work.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.work, 0o700)
            self._made = True
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        size = 0
        with open(target, "xb") as out:
            if data is not None:
                digest.update(data)
                out.write(data)
                size = len(data)
            else:
                while size < entry.size:
                    piece = entry.read(size, min(CHUNK, entry.size - size))
                    if not piece:
                        raise IOError(f"read returned nothing at offset {size}")
                    digest.update(piece)
                    out.write(piece)
                    size += len(piece)
        return Copied(entry.partition, entry.path, target, size, digest.hexdigest(), bool(entry.deleted))

    def clear_stale(self) -> None:
        """Remove copies an earlier run left beside this one's folder (it died before its clean-up)."""
        if self.work.parent.is_dir():
            for stale in self.work.parent.glob("artifacts-*"):
                if stale.is_dir() and not stale.is_symlink() and stale != self.work:
                    shutil.rmtree(stale, ignore_errors=True)

    def groups(self) -> list[Group]:
        """Wanted files that were found (companions without their database are dropped)."""
        return [g for g in self._groups.values() if g.main is not None]

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        try:
            self.work.parent.rmdir()  # CASE/.work too, once nothing else is in it
        except OSError:
            pass


def _tables(path: Path) -> set[str]:
    """The table names of a SQLite file (opened read-only, never changed)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def matches(cls: type[Artifact], path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in cls.PATTERNS)


def describe(group: Group) -> dict[str, Any]:
    """A group's files as the `artifacts` listing and the ledger record them."""
    assert group.main is not None
    files = [{"path": group.main.path, "sha256": group.main.sha256, "size": group.main.size}]
    for suffix in COMPANIONS:
        if suffix in group.companions:
            c = group.companions[suffix]
            files.append({"path": c.path, "sha256": c.sha256, "size": c.size})
    if group.main.deleted:
        files[0]["deleted"] = True
    return {"files": files}
