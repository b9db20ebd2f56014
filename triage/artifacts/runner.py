"""After the walk: run every parser on the files collected for it and store the records.

One parser failing on one file is a warning naming the parser, the file (and table, where the
parser says); its records up to the failure are kept and every other parser goes on. A re-parse of
an exhibit replaces its records. The summary goes into the `parsed` ledger entry.
"""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..core.processes import die_with_parent
from ..core.store import interrupts_held
from . import Artifact, load, source_sha256
from . import schema  # noqa: F401  (registers the tables)
from .collect import Collector, describe, matches
from .context import ArtifactFile, Context, Unreadable
from .records import Call, Contact, Item, Message, Record
from .query import PARTY_COLUMNS, message_party
from .rows import COLUMNS, TABLE_OF, insert_sql, resolve_attachments, row_of
from .schema import TABLES

KIND = {Message: "messages", Call: "calls", Contact: "contacts", Item: "items"}


@dataclass
class Summary:
    """What the artifact stage did, for the console and the ledger."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    recovered: int = 0
    warnings: int = 0

    def ledger(self) -> dict[str, Any]:
        return {"counts": self.counts, "recovered": self.recovered,
                "parsers": [{k: r[k] for k in ("parser", "version", "path", "counts", "status")} for r in self.runs]}


def _parse_one(cls: type[Artifact], file: ArtifactFile, ctx: Context, notes: list[str]) -> tuple[list[Record], str]:
    records: list[Record] = []
    try:
        if cls.FORMAT == "sqlite":
            file.sqlite()
        elif cls.FORMAT == "plist":
            file.plist()
        for record in cls().parse(ctx):
            records.append(record)
        return records, "parsed"
    except Unreadable as exc:
        notes.append(str(exc))
        return records, "unreadable"
    except Exception as exc:  # one parser failing on one file never stops the others
        notes.append(f"parser stopped after {len(records)} record(s): {type(exc).__name__}: {exc}")
        return records, "partial"


@dataclass
class Part:
    """One parser's output on one file: records parsed in this process (resolved and turned into rows
    by `Staged.store`), or the rows a worker process made of them (attachments already resolved)."""

    parser: str
    records: list[Record]
    rows: dict[str, list[tuple[Any, ...]]] | None = None
    derived: list[list[Any]] | None = None  # per message row, what `derive` made of it (worker parts)


@dataclass
class Staged:
    """Records parsed and waiting to be stored (by `store`, inside the run's final transaction)."""

    exhibit: str
    run_id: int | None
    parts: list[Part]
    summary: Summary
    # what `derive` made of each stored message, in the order of their ids, when the workers made it
    # for all of them (set by `store`); None: the entity index reads the messages back instead
    derived: list[list[Any]] | None = None

    def store(self, conn: sqlite3.Connection) -> None:
        """Insert the records (then let them go: the entity index reads them back from the tables)."""
        self.derived = _derived(self.parts)
        resolve_attachments(conn, self.exhibit, [r for p in self.parts if p.rows is None for r in p.records])
        by_table: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        for part in self.parts:  # in job order, as the records were parsed: row ids do not depend on workers
            if part.rows is not None:
                for table, rows in part.rows.items():
                    by_table[table].extend(rows)
                continue
            for record in part.records:
                table, row = row_of(record, self.exhibit, self.run_id, part.parser)
                by_table[table].append(row)
        self.parts = []
        _store(conn, self.exhibit, self.run_id, by_table, self.summary)


def _derived(parts: list[Part]) -> list[list[Any]] | None:
    out: list[list[Any]] = []
    for part in parts:
        if part.rows is None and any(isinstance(r, Message) for r in part.records):
            return None
        if part.rows is not None and part.rows.get("messages"):
            if part.derived is None or len(part.derived) != len(part.rows["messages"]):
                return None
            out.extend(part.derived)
    return out


Job = tuple[int, str]  # (index of the file in the run's list, parser name)
Derive = Callable[[dict[str, Any], str], Iterable[Any]]  # (message as query.message_parties gives it, region)


@dataclass
class Outcome:
    """What one job gave: its part, its counts by kind, how many records were recovered, status, notes."""

    part: Part
    counts: dict[str, int]
    recovered: int
    status: str
    notes: list[str]


_WORK: tuple[str, str, list[ArtifactFile], int | None, str | None, Derive | None] | None = None
# (exhibit, region, files, run id, case database, derive) of the run: set before workers fork


def _do(job: Job) -> Outcome:
    """One parser on one file, in this process: the records as they were parsed."""
    assert _WORK is not None
    exhibit, region, files, _run_id, _db, _derive = _WORK
    index, name = job
    file, cls = files[index], load()[name]
    notes: list[str] = []
    try:
        records, status = _parse_one(cls, file, Context(exhibit, region, name, file, files, notes.append), notes)
        notes = file.notes + notes
    finally:
        file.notes = []
        file.close()
    if file.deleted:
        for r in records:
            (r.data if isinstance(r, Item) else r.extra)["from_deleted_file"] = True
    counts: dict[str, int] = {}
    for r in records:
        kind = KIND[type(r)]
        counts[kind] = counts.get(kind, 0) + 1
    return Outcome(Part(name, records), counts, sum(int(r.recovered) for r in records), status, notes)


def _do_in_worker(job: Job) -> Outcome:
    """One job in a worker process: its records come back as rows (a tuple of plain values pickles
    many times faster than a record object), attachments resolved through a read-only connection
    to the case database (the walk's files are committed by now)."""
    assert _WORK is not None
    exhibit, region, _files, run_id, db, derive = _WORK
    done = _do(job)
    if done.part.records and db is not None:
        conn = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            resolve_attachments(conn, exhibit, done.part.records)
        finally:
            conn.close()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for record in done.part.records:
        table, row = row_of(record, exhibit, run_id, done.part.parser)
        rows.setdefault(table, []).append(row)
    derived = _derive_messages(rows.get("messages", []), region, derive) if derive is not None else None
    done.part = Part(done.part.parser, [], rows, derived)
    return done


_PARTY_AT = [COLUMNS["messages"].index(c) for c in PARTY_COLUMNS[1:]]
_INTEGER = {"recovered", "source_partition", "source_row"}  # the other PARTY_COLUMNS are TEXT


def _derive_messages(rows: list[tuple[Any, ...]], region: str, derive: Derive) -> list[list[Any]] | None:
    """`derive` of each message row, given the message as `query.message_parties` would read it back
    (its id aside: not known before the insert). Only when every value is what SQLite gives back
    unchanged (text in TEXT columns, int in INTEGER ones, or NULL); else None."""
    kinds = [(int,) if name in _INTEGER else (str,) for name in PARTY_COLUMNS[1:]]
    out: list[list[Any]] = []
    for row in rows:
        values = [row[i] for i in _PARTY_AT]
        if any(v is not None and type(v) not in k for v, k in zip(values, kinds)):
            return None
        try:
            out.append(list(derive(message_party(dict(zip(PARTY_COLUMNS, (None, *values)))), region)))
        except Exception:  # noqa: BLE001 - the entity index reads the messages back, and says what fails
            return None
    return out


def _worker_init() -> None:
    """In each forked worker: Ctrl-C is the parent's, and the worker dies with its parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def _run_jobs(jobs: list[Job], files: list[ArtifactFile], workers: int) -> list[Outcome]:
    """Outcomes in job order. With two or more jobs and cores, the jobs run in forked worker
    processes, the largest files first (WhatsApp's and the SMS database run side by side); a worker
    that dies (a crash on a hostile file) leaves its jobs and those not done to this process, where
    a crash is recorded as the parse's (the parse runs in a child process)."""
    done: dict[int, Outcome] = {}
    if workers > 1 and len(jobs) > 1 and _WORK is not None and _WORK[4] is not None:
        order = sorted(range(len(jobs)), key=lambda i: (-(files[jobs[i][0]].size or 0), i))
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                     mp_context=multiprocessing.get_context("fork"),
                                     initializer=_worker_init) as pool:
                with interrupts_held((signal.SIGINT,)):  # the workers are forked at the first submit: see there
                    futures = {i: pool.submit(_do_in_worker, jobs[i]) for i in order}
                for i, future in futures.items():
                    try:
                        done[i] = future.result()
                    except BrokenProcessPool:
                        break
        except BrokenProcessPool:
            pass
    return [done[i] if i in done else _do(job) for i, job in enumerate(jobs)]


def run(exhibit: str, run_id: int | None, region: str, collector: Collector,
        warn: Callable[[str, str], None], db: Path | None = None, workers: int = 1,
        derive: Derive | None = None) -> Staged:
    """Parse the collected files; the records are stored later, with the run's ledger entry. With
    `db` (the case database, for attachments) and `workers` > 1, parsers run in worker processes,
    which also apply `derive` to each message they parsed (see `Staged.derived`)."""
    global _WORK
    parsers = load()
    summary = Summary()
    for location, message in collector.errors:
        warn(location, message)
        summary.warnings += 1
    files = sorted((ArtifactFile(g) for g in collector.groups()), key=lambda f: (f.partition, f.path, f.deleted))
    jobs = [(i, name) for i, file in enumerate(files) for name, cls in parsers.items()
            if matches(cls, file.path) or name in file.group.parsers]
    parts: list[Part] = []
    _WORK = (exhibit, region, files, run_id, str(db) if db is not None else None, derive)
    try:
        for (index, name), done in zip(jobs, _run_jobs(jobs, files, workers)):
            file, cls = files[index], parsers[name]
            location = f"{exhibit}@{file.partition}:{file.path}"
            for note in done.notes:
                warn(location, f"{name}: {note}")
            summary.warnings += len(done.notes)
            for kind, n in done.counts.items():
                summary.counts[kind] = summary.counts.get(kind, 0) + n
            summary.recovered += done.recovered
            summary.runs.append({"parser": name, "version": cls.VERSION, "sha256": source_sha256(cls),
                                 "app": cls.APP, "path": file.path, "partition": file.partition,
                                 **describe(file.group), "counts": done.counts, "warnings": done.notes,
                                 "status": done.status})
            parts.append(done.part)
    finally:
        _WORK = None
        for file in files:
            file.close()
    return Staged(exhibit, run_id, parts, summary)


def _store(conn: sqlite3.Connection, exhibit: str, run_id: int | None, by_table: dict[str, list[tuple[Any, ...]]],
           summary: Summary) -> None:
    from ..core.store import dumps

    for table in TABLES:
        conn.execute(f"DELETE FROM {table} WHERE exhibit = ?", (exhibit,))
    conn.execute("DELETE FROM artifact_runs WHERE exhibit = ?", (exhibit,))
    for table, values in by_table.items():
        if values:
            conn.executemany(insert_sql(table), values)
    conn.executemany(
        "INSERT INTO artifact_runs (exhibit, run_id, parser, version, sha256, app, path, partition, files, counts,"
        " warnings, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(exhibit, run_id, r["parser"], r["version"], r["sha256"], r["app"], r["path"], r["partition"],
          dumps(r["files"]), dumps(r["counts"]), dumps(r["warnings"]), r["status"]) for r in summary.runs])
    assert set(TABLE_OF.values()) == set(TABLES)
