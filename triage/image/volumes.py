"""Volumes and container layers of an exhibit: the `partitions` rows `dalil parse` stores and
`dalil volumes` lists.

One row per layer seen: a partition of an MBR/GPT table, a bare file system, an LVM logical volume,
an APFS volume, a shadow-copy store (a `snapshot` view of its volume), an encrypted volume (locked or
opened), the root of a logical container. `status` says what became of it (`parsed`, `partial`,
`locked`, `unreadable`, `truncated`, `unsupported`, `no-filesystem`, …) and `message` why, in one line.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..core.case import Case
from ..core.errors import NotFound
from .walk import Volume

# `dalil volumes` fields (a contract: names and order), then the extra ones jsonl/csv also carry
COLUMNS = ["exhibit", "partition", "offset", "length", "scheme", "fs_type", "encrypted", "status", "message"]
EXTRA = ["slot", "description", "snapshot", "parent", "files", "run_id"]
TABLE_COLUMNS = ["exhibit", "partition", "snapshot", "scheme", "fs_type", "encrypted", "status", "files", "message"]


def volume_row(vol: Volume) -> dict[str, Any]:
    """A fresh `partitions` row for a volume about to be opened (status `parsed` until told otherwise)."""
    return {"partition": vol.offset, "offset": vol.offset, "length": vol.length, "scheme": vol.scheme,
            "slot": vol.slot, "description": vol.description, "fs_type": None, "encrypted": vol.encrypted,
            "status": "parsed", "message": None, "snapshot": vol.snapshot, "parent": vol.parent, "files": 0,
            "key": vol.key_kind}


_INSERT = ("INSERT OR REPLACE INTO partitions (exhibit, partition, offset, length, scheme, slot, description, fs_type,"
           " encrypted, status, message, files, run_id, snapshot, parent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


def store_volumes(conn: sqlite3.Connection, exhibit: str, run_id: int, rows: list[dict[str, Any]]) -> None:
    """Replace the exhibit's rows for these layers (a re-parse updates them, others stay)."""
    for p in rows:
        conn.execute(_INSERT, (exhibit, p["partition"], p.get("offset"), p.get("length"), p.get("scheme"),
                               p.get("slot"), p.get("description"), p.get("fs_type"), p.get("encrypted"),
                               p["status"], p.get("message"), p.get("files", 0), run_id, p.get("snapshot"),
                               p.get("parent")))


def select(case: Case, exhibit: str | None = None) -> list[dict[str, Any]]:
    """The `partitions` rows (all exhibits, or one), in image order, each view after its live volume."""
    params: tuple[str, ...] = ()
    where = ""
    if exhibit:
        if not case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (exhibit,)):
            raise NotFound(f"no exhibit {exhibit!r} in case {case.case_id}")
        where, params = " WHERE exhibit = ?", (exhibit,)
    rows = case.store.query("SELECT * FROM partitions" + where
                            + " ORDER BY exhibit, partition, snapshot IS NOT NULL, snapshot", params)
    return [{k: r[k] for k in COLUMNS + EXTRA} for r in rows]
