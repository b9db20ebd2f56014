"""After the walk: run every parser on the files collected for it and store the records.

One parser failing on one file is a warning naming the parser, the file (and table, where the
parser says); its records up to the failure are kept and every other parser goes on. A re-parse of
an exhibit replaces its records. The summary goes into the `parsed` ledger entry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import Artifact, load, source_sha256
from . import schema  # noqa: F401  (registers the tables)
from .collect import Collector, describe, matches
from .context import ArtifactFile, Context, Unreadable
from .records import Call, Contact, Item, Message, Record
from .rows import TABLE_OF, insert_sql, resolve_attachments, row_of
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
class Staged:
    """Records parsed and waiting to be stored (by `store`, inside the run's final transaction)."""

    exhibit: str
    run_id: int | None
    records: list[tuple[str, Record]]
    summary: Summary

    def store(self, conn: sqlite3.Connection) -> None:
        """Insert the records (then let them go: the entity index reads them back from the tables)."""
        resolve_attachments(conn, self.exhibit, [r for _, r in self.records])
        _store(conn, self.exhibit, self.run_id, self.records, self.summary)
        self.records = []


Job = tuple[int, str]  # (index of the file in the run's list, parser name)
Outcome = tuple[list[Record], str, list[str]]  # records, status, notes
_WORK: tuple[str, str, list[ArtifactFile]] | None = None  # (exhibit, region, files) of the run


def _do(job: Job) -> Outcome:
    """One parser on one file."""
    assert _WORK is not None
    exhibit, region, files = _WORK
    index, name = job
    file, cls = files[index], load()[name]
    notes: list[str] = []
    try:
        records, status = _parse_one(cls, file, Context(exhibit, region, name, file, files, notes.append), notes)
        return records, status, file.notes + notes
    finally:
        file.notes = []
        file.close()


def _run_jobs(jobs: list[Job]) -> Iterator[tuple[Job, Outcome]]:
    """Outcomes in job order, in this process. (Forked workers were tried: returning 200,000 records
    by pickle cost more than the second core gave; the parse runs in a child process anyway, so a
    crash here ends as a recorded crashed run.)"""
    for job in jobs:
        yield job, _do(job)


def run(exhibit: str, run_id: int | None, region: str, collector: Collector,
        warn: Callable[[str, str], None]) -> Staged:
    """Parse the collected files; the records are stored later, with the run's ledger entry."""
    global _WORK
    parsers = load()
    summary = Summary()
    for location, message in collector.errors:
        warn(location, message)
        summary.warnings += 1
    files = sorted((ArtifactFile(g) for g in collector.groups()), key=lambda f: (f.partition, f.path, f.deleted))
    jobs = [(i, name) for i, file in enumerate(files) for name, cls in parsers.items()
            if matches(cls, file.path) or name in file.group.parsers]
    everything: list[tuple[str, Record]] = []
    _WORK = (exhibit, region, files)
    try:
        for (index, name), (records, status, notes) in _run_jobs(jobs):
            file, cls = files[index], parsers[name]
            location = f"{exhibit}@{file.partition}:{file.path}"
            for note in notes:
                warn(location, f"{name}: {note}")
            summary.warnings += len(notes)
            if file.deleted:
                for r in records:
                    (r.data if isinstance(r, Item) else r.extra)["from_deleted_file"] = True
            counts: dict[str, int] = {}
            for r in records:
                kind = KIND[type(r)]
                counts[kind] = counts.get(kind, 0) + 1
                summary.counts[kind] = summary.counts.get(kind, 0) + 1
                summary.recovered += int(r.recovered)
            summary.runs.append({"parser": name, "version": cls.VERSION, "sha256": source_sha256(cls),
                                 "app": cls.APP, "path": file.path, "partition": file.partition,
                                 **describe(file.group), "counts": counts, "warnings": notes, "status": status})
            everything.extend((name, r) for r in records)
    finally:
        _WORK = None
        for file in files:
            file.close()
    return Staged(exhibit, run_id, everything, summary)


def _store(conn: sqlite3.Connection, exhibit: str, run_id: int | None, records: list[tuple[str, Record]],
           summary: Summary) -> None:
    from ..core.store import dumps

    by_table: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    for parser, record in records:
        table, row = row_of(record, exhibit, run_id, parser)
        by_table[table].append(row)
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
