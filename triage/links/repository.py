"""The lab repository: where else has the unit seen this number? Entities of many cases in one place.

It holds values, kinds, case ids, exhibits, kinds of source, counts and first/last times — never
content, never where in an exhibit (paths, URLs, message text stay in the case). One small
interface, two backends with the same SQL: an SQLite file (the default, in the user's data
directory: `$XDG_DATA_HOME/dalil/repository.db`, else `~/.local/share/dalil/repository.db`) and
PostgreSQL (`DALIL_REPOSITORY=postgresql://user@host/db`, through psycopg 3). `sqlite:///PATH`
names another SQLite file.

A push replaces everything the repository held for that case, in one transaction. Images are
pushed by each image's own pHash (and SHA-256 when it has none), and found in other cases within
the pHash threshold, so a re-compressed copy seized in another case is found too.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..core.errors import ConfigError, DalilError
from . import phash

ENV = "DALIL_REPOSITORY"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS repo_cases (case_id TEXT PRIMARY KEY, pushed_at TEXT NOT NULL, "
    "entities INTEGER NOT NULL, places INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS repo_entities (case_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, "
    "exhibit TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL, first_seen TEXT, last_seen TEXT, "
    "PRIMARY KEY (case_id, kind, value, exhibit, source))",
    "CREATE INDEX IF NOT EXISTS repo_entities_value ON repo_entities (kind, value)",
)
COLUMNS = ("case_id", "kind", "value", "exhibit", "source", "count", "first_seen", "last_seen")
Row = tuple[str, str, str, str, int, str | None, str | None]  # kind, value, exhibit, source, count, first, last
BATCH = 500


def default_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dalil" / "repository.db"


def redact(url: str) -> str:
    """A repository location without its password (for the ledger and messages)."""
    return re.sub(r"(://[^/:@]*):[^@/]*@", r"\1:***@", url)


class Repository:
    """One connection to the lab repository (`open_repository()` chooses the backend)."""

    def __init__(self, conn: Any, location: str, postgres: bool) -> None:
        self.conn = conn
        self.location = location
        self.postgres = postgres
        with self._tx() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    # --- the two dialects ------------------------------------------------------------------

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> str:
        """psycopg takes %s (and %% for a literal %) when given parameters."""
        return sql.replace("%", "%%").replace("?", "%s") if self.postgres and params else sql

    def _tx(self) -> Any:
        return _Transaction(self)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql, params), (tuple(params) or None) if self.postgres else tuple(params))
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()
            if self.postgres:
                self.conn.rollback()  # end the read's implicit transaction

    # --- the interface ---------------------------------------------------------------------

    def push(self, case_id: str, rows: Iterable[Row], pushed_at: str) -> dict[str, int]:
        """Replace what the repository holds for `case_id` with `rows`."""
        data = [(case_id, *r) for r in rows]
        with self._tx() as cur:
            cur.execute(self._sql("DELETE FROM repo_entities WHERE case_id = ?", [case_id]), (case_id,))
            cur.execute(self._sql("DELETE FROM repo_cases WHERE case_id = ?", [case_id]), (case_id,))
            insert = self._sql(f"INSERT INTO repo_entities ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                               COLUMNS)
            for start in range(0, len(data), 10_000):
                cur.executemany(insert, data[start:start + 10_000])
            entities = len({(r[1], r[2]) for r in data})
            cur.execute(self._sql("INSERT INTO repo_cases VALUES (?, ?, ?, ?)", [case_id]),
                        (case_id, pushed_at, entities, len(data)))
        return {"entities": entities, "places": len(data)}

    def cases(self) -> list[dict[str, Any]]:
        return [{"case": c, "pushed_at": t, "entities": e, "places": p}
                for c, t, e, p in self._all("SELECT case_id, pushed_at, entities, places FROM repo_cases ORDER BY case_id")]

    def find(self, pairs: Iterable[tuple[str, str]], exclude_case: str | None = None) -> list[dict[str, Any]]:
        """Rows holding any of these (kind, value) pairs (images by pHash also within the threshold)."""
        by_kind: dict[str, list[str]] = {}
        for kind, value in pairs:
            by_kind.setdefault(kind, []).append(value)
        out: list[dict[str, Any]] = []
        for kind, values in sorted(by_kind.items()):
            values = sorted(set(values))
            for start in range(0, len(values), BATCH):
                chunk = values[start:start + BATCH]
                sql = (f"SELECT {', '.join(COLUMNS)} FROM repo_entities WHERE kind = ? AND value IN "
                       f"({', '.join('?' * len(chunk))})")
                params: list[Any] = [kind, *chunk]
                if exclude_case is not None:
                    sql += " AND case_id <> ?"
                    params.append(exclude_case)
                out += [{**dict(zip(COLUMNS, r)), "matched": r[2]} for r in self._all(sql, params)]
            if kind == "image":
                out += self._near([v for v in values if v.startswith("phash:")], exclude_case)
        return _unique(out)

    def _near(self, wanted: list[str], exclude_case: str | None) -> list[dict[str, Any]]:
        if not wanted:
            return []
        sql = f"SELECT {', '.join(COLUMNS)} FROM repo_entities WHERE kind = 'image' AND value LIKE 'phash:%'"
        params: list[Any] = []
        if exclude_case is not None:
            sql += " AND case_id <> ?"
            params.append(exclude_case)
        rows = self._all(sql, params)
        if not rows:
            return []
        hay = phash.to_ints([r[2][6:] for r in rows])
        out = []
        for value in wanted:
            for i in phash.within(int(value[6:], 16), hay):
                row = rows[int(i)]
                out.append({**dict(zip(COLUMNS, row)), "matched": value,
                            "distance": phash.distance(value[6:], row[2][6:])})
        return out

    def close(self) -> None:
        self.conn.close()


class _Transaction:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.cur: Any = None

    def __enter__(self) -> Any:
        if not self.repo.postgres:
            self.repo.conn.execute("BEGIN IMMEDIATE")
        self.cur = self.repo.conn.cursor()
        return self.cur

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        self.cur.close()
        if kind is None:
            self.repo.conn.commit() if self.repo.postgres else self.repo.conn.execute("COMMIT")
        else:
            self.repo.conn.rollback() if self.repo.postgres else self.repo.conn.execute("ROLLBACK")


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        seen.setdefault((r["case_id"], r["kind"], r["value"], r["exhibit"], r["source"], r["matched"]), r)
    return sorted(seen.values(), key=lambda r: (r["case_id"], r["kind"], r["value"], r["exhibit"], r["source"]))


def open_repository(url: str | None = None) -> Repository:
    """The repository `url` (else $DALIL_REPOSITORY, else the default SQLite file) names."""
    url = (url if url is not None else os.environ.get(ENV, "")).strip()
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigError("DALIL_REPOSITORY names PostgreSQL but psycopg is not installed") from exc
        try:
            pg = psycopg.connect(url, connect_timeout=10)
        except psycopg.Error as exc:
            raise DalilError(f"lab repository {redact(url)} unreachable: {str(exc).strip().splitlines()[0]}") from exc
        return Repository(pg, redact(url), postgres=True)
    if url and not url.startswith("sqlite:///"):
        raise ConfigError(f"{ENV} must be postgresql://… or sqlite:///PATH, not {redact(url)!r}")
    path = Path(url[len("sqlite://"):]) if url else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as exc:
        raise DalilError(f"lab repository {path} is not readable SQLite ({exc})") from exc
    return Repository(conn, f"sqlite:///{path}", postgres=False)
