"""Building the entity index: one exhibit at a time, inside the transaction that stores its data.

`index_exhibit(case, conn, exhibit)` replaces the exhibit's occurrences with what its stored data
holds now, regroups look-alike images, and brings the figures of every entity it touched up to
date. `dalil parse` and `dalil collect` call it in their final transaction, just before their
ledger entry (which records the counts), so the index never disagrees with the ledger: both commit
or neither does. `rebuild` does every exhibit again (`dalil links --rebuild`).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable

from ..core.case import Case
from ..core.clock import rfc3339
from ..core.store import dumps
from ..image import schema as _files_schema  # noqa: F401  (files.phash must exist before it is read)
from . import VERSION, images, schema  # noqa: F401  (registers the tables)
from .sources import Occ, collect, message_occurrences  # noqa: F401  (for dalil parse)

RANK = {"iban": 0, "wallet": 1, "phone": 2, "email": 3, "handle": 4, "device": 5, "image": 6, "domain": 7}
CACHE_KIB = 256 * 1024  # SQLite page cache of the connection while indexing (default: 2 MiB)
INSERT = ("INSERT OR IGNORE INTO occurrences (entity, exhibit, source, ref, time, role, label, detail) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _temp_ids(conn: sqlite3.Connection, name: str, ids: Iterable[int]) -> None:
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
    conn.execute(f"DELETE FROM {name}")
    conn.executemany(f"INSERT OR IGNORE INTO {name} VALUES (?)", ((i,) for i in ids))


def entity_ids(conn: sqlite3.Connection, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of (kind, value) pairs, creating the entities that are new."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_entities (kind TEXT, value TEXT, PRIMARY KEY (kind, value))")
    conn.execute("DELETE FROM wanted_entities")
    conn.executemany("INSERT OR IGNORE INTO wanted_entities VALUES (?, ?)", pairs)
    conn.execute("INSERT OR IGNORE INTO entities (kind, value, rank) SELECT kind, value, CASE kind "
                 + " ".join(f"WHEN '{k}' THEN {r}" for k, r in RANK.items()) + " ELSE 9 END FROM wanted_entities")
    return {(k, v): i for i, k, v in conn.execute(
        "SELECT e.id, e.kind, e.value FROM wanted_entities w JOIN entities e ON e.kind = w.kind AND e.value = w.value")}


def refresh(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    """Recompute the figures of these entities from `entity_places`; drop those seen nowhere now."""
    _temp_ids(conn, "touched_entities", ids)
    conn.execute("DROP TABLE IF EXISTS temp.entity_figures")
    conn.execute(
        "CREATE TEMP TABLE entity_figures AS SELECT t.id AS entity, COUNT(DISTINCT p.exhibit) AS exhibits,"
        " COUNT(DISTINCT p.source) AS sources, IFNULL(SUM(p.count), 0) AS count, MIN(p.first_seen) AS first_seen,"
        " MAX(p.last_seen) AS last_seen FROM touched_entities t LEFT JOIN entity_places p ON p.entity = t.id GROUP BY t.id")
    conn.execute(
        "UPDATE entities SET exhibits = f.exhibits, sources = f.sources, count = f.count, first_seen = f.first_seen,"
        " last_seen = f.last_seen FROM entity_figures f WHERE entities.id = f.entity AND (entities.exhibits,"
        " entities.sources, entities.count, entities.first_seen, entities.last_seen) IS NOT (f.exhibits, f.sources,"
        " f.count, f.first_seen, f.last_seen)")
    conn.execute("DELETE FROM entities WHERE id IN (SELECT entity FROM entity_figures WHERE exhibits = 0)")


def _places(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> None:
    conn.execute("INSERT INTO entity_places SELECT entity, exhibit, source, COUNT(*), MIN(time), MAX(time) "
                 f"FROM occurrences WHERE {where} GROUP BY entity, exhibit, source", params)


def _regroup(conn: sqlite3.Connection, changes: dict[str, tuple[str | None, str]]) -> set[int]:
    """Move the occurrences of images whose group changed to their new group's entity."""
    moved = {(old, new) for old, new in changes.values() if old is not None}
    if not moved:
        return set()
    ids = entity_ids(conn, [("image", "phash:" + c) for pair in moved for c in pair if c])
    affected: set[int] = set()
    for value, (old, new) in changes.items():
        if old is None:
            continue
        src, dst = ids[("image", "phash:" + old)], ids[("image", "phash:" + new)]
        conn.execute("UPDATE OR REPLACE occurrences SET entity = ? WHERE entity = ? AND json_extract(detail, '$.phash') = ?",
                     (dst, src, value))
        affected |= {src, dst}
    _temp_ids(conn, "regrouped_entities", affected)
    conn.execute("DELETE FROM entity_places WHERE entity IN (SELECT id FROM regrouped_entities)")
    _places(conn, "entity IN (SELECT id FROM regrouped_entities)", ())
    return affected


def write_exhibit(conn: sqlite3.Connection, exhibit: str, found: list[Occ]) -> dict[str, Any]:
    """Replace `exhibit`'s occurrences with `found` (image values `phash:<own hash>` are put in their
    group here) and update every entity touched. Returns counts."""
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # the index's B-trees are written at random places
    before = {r[0] for r in conn.execute("SELECT DISTINCT entity FROM entity_places WHERE exhibit = ?", (exhibit,))}
    _temp_ids(conn, "exhibit_entities", before)  # occurrences are keyed by entity first: found through entity_places
    conn.execute("DELETE FROM occurrences WHERE entity IN (SELECT id FROM exhibit_entities) AND exhibit = ?", (exhibit,))
    conn.execute("DELETE FROM entity_places WHERE exhibit = ?", (exhibit,))
    conn.execute("DELETE FROM image_members WHERE exhibit = ?", (exhibit,))
    hashed = [(exhibit, json.loads(o[7] or "{}").get("sha256"), o[1][6:]) for o in found
              if o[0] == "image" and o[1].startswith("phash:")]
    conn.executemany("INSERT OR IGNORE INTO image_members VALUES (?, ?, ?)", hashed)
    changes = images.update_clusters(conn)
    group = images.cluster_of(conn, sorted({h[2] for h in hashed}))
    rows = [(o[0], "phash:" + group.get(o[1][6:], o[1][6:]) if o[0] == "image" and o[1].startswith("phash:")
             else o[1], *o[2:]) for o in found]
    ids = entity_ids(conn, {(r[0], r[1]) for r in rows})
    values = sorted(((ids[(r[0], r[1])], exhibit, r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows),
                    key=lambda v: (v[0], v[2], v[3]))
    conn.executemany(INSERT, values)  # in key order: pages are filled in place, not all over
    _temp_ids(conn, "exhibit_entities", ids.values())
    _places(conn, "entity IN (SELECT id FROM exhibit_entities) AND exhibit = ?", (exhibit,))
    regrouped = _regroup(conn, changes)
    refresh(conn, before | set(ids.values()) | regrouped)
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r[0]] = kinds.get(r[0], 0) + 1
    counts = {"occurrences": len(rows), "entities": len(ids), "by_kind": dict(sorted(kinds.items()))}
    conn.execute("INSERT OR REPLACE INTO links_exhibits VALUES (?, ?, ?, ?, ?, ?)",
                 (exhibit, VERSION, rfc3339(), len(rows), len(ids), dumps(counts)))
    return counts


def index_exhibit(case: Case, conn: sqlite3.Connection, exhibit: str,
                  messages: list[list[Occ]] | None = None) -> dict[str, Any]:
    """Index one exhibit from what the case stores for it now (inside the caller's transaction);
    `messages`: the occurrences of its messages, already made (see `sources.phone_records`)."""
    return {"version": VERSION, **write_exhibit(conn, exhibit, collect(case, conn, exhibit, messages))}


def rebuild(case: Case, conn: sqlite3.Connection) -> dict[str, Any]:
    """The whole index again, every exhibit (inside the caller's transaction)."""
    for table in ("occurrences", "entity_places", "entities", "image_members", "image_clusters", "links_exhibits"):
        conn.execute(f"DELETE FROM {table}")
    done = {}
    for (exhibit,) in conn.execute("SELECT exhibit FROM evidence ORDER BY exhibit").fetchall():
        done[exhibit] = index_exhibit(case, conn, exhibit)
    return {"version": VERSION, "exhibits": {e: {k: v for k, v in c.items() if k != "version"} for e, c in done.items()}}


def stale(case: Case) -> list[str]:
    """Exhibits holding data that the index has not seen (or saw with another version)."""
    indexed = {r["exhibit"]: r["version"] for r in case.store.query("SELECT exhibit, version FROM links_exhibits")}
    out = []
    for (exhibit,) in case.store.query("SELECT exhibit FROM evidence ORDER BY exhibit"):
        if indexed.get(exhibit) != VERSION and _has_data(case, exhibit):
            out.append(exhibit)
    return out


def _has_data(case: Case, exhibit: str) -> bool:
    for table in ("files", "captures", "messages", "calls", "contacts", "phone_items"):
        exists = case.store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        if exists and case.store.query(f"SELECT 1 FROM {table} WHERE exhibit = ? LIMIT 1", (exhibit,)):
            return True
    return False


def index_in_transaction(case: Case, conn: sqlite3.Connection, exhibit: str, run_id: int | None = None,
                         messages: list[list[Occ]] | None = None) -> dict[str, Any]:
    """`index_exhibit` for `parse` and `collect`: a failure leaves the index of the exhibit as it
    was (savepoint), becomes a stored warning, and never fails the command storing the evidence."""
    conn.execute("SAVEPOINT links_index")
    try:
        counts = index_exhibit(case, conn, exhibit, messages)
    except Exception as exc:  # noqa: BLE001 - the evidence is stored whatever the index does
        conn.execute("ROLLBACK TO links_index")
        conn.execute("RELEASE links_index")
        message = f"entity index not updated: {type(exc).__name__}: {exc} (dalil links --rebuild tries again)"
        case.store.add_warning(f"{exhibit}:links", message, exhibit=exhibit, run_id=run_id)
        return {"version": VERSION, "error": message}
    conn.execute("RELEASE links_index")
    return counts
