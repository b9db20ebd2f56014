"""Images in the index: pHash of stored objects (cached), and groups of look-alike images.

Two images are the same picture when their pHashes differ by at most `phash.THRESHOLD` bits; a
group is a connected component of that relation over every image in the case (single linkage),
named by the smallest pHash in it. Components do not depend on the order exhibits are indexed in,
so an incremental index and a rebuild give the same groups. Adding images only merges groups;
when an exhibit's images are replaced, groups are computed again from all images.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from ..core.case import Case
from . import phash

CELLS = 8_000_000  # distances computed at once (64 MB of uint64)


def object_phash(case: Case, conn: sqlite3.Connection, sha256: str | None) -> str | None:
    """The pHash of a stored object (an image served with a captured page), computed once."""
    if not sha256:
        return None
    row = conn.execute("SELECT phash FROM image_hashes WHERE sha256 = ?", (sha256,)).fetchone()
    if row is not None:
        return str(row[0]) if row[0] else None
    value, width, height, note = None, None, None, None
    if case.objects.has(sha256):
        try:
            value, width, height = phash.phash_bytes(case.objects.path_for(sha256).read_bytes())
        except phash.NotComparable as exc:
            note = f"not compared: {exc}"
        except Exception as exc:  # an undecodable image is one more image without a pHash
            note = f"undecodable: {type(exc).__name__}: {exc}"[:300]
    else:
        note = "object not stored"
    conn.execute("INSERT OR REPLACE INTO image_hashes VALUES (?, ?, ?, ?, ?)", (sha256, value, width, height, note))
    return value


def undecodable(conn: sqlite3.Connection, sha256: str) -> bool:
    row = conn.execute("SELECT note FROM image_hashes WHERE sha256 = ?", (sha256,)).fetchone()
    return bool(row and row[0] and str(row[0]).startswith("undecodable"))


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = sorted((ra, rb))
            self.parent[high] = low


def _pairs(new: list[str], hay: list[str], groups: _Groups) -> None:
    """Join every hash of `new` with the hashes of `hay` within the threshold."""
    if not new or not hay:
        return
    hay_ints = phash.to_ints(hay)
    rows = max(1, CELLS // len(hay))
    for start in range(0, len(new), rows):
        block = phash.to_ints(new[start:start + rows])
        close = np.bitwise_count(block[:, None] ^ hay_ints[None, :]) <= phash.THRESHOLD
        for i, j in zip(*np.nonzero(close)):
            groups.union(new[start + int(i)], hay[int(j)])


def update_clusters(conn: sqlite3.Connection) -> dict[str, tuple[str | None, str]]:
    """Bring `image_clusters` in line with `image_members`; returns {phash: (old group, new group)}
    for every hash whose group changed (old None for a new hash)."""
    live = sorted({r[0] for r in conn.execute("SELECT DISTINCT phash FROM image_members")})
    live_set = set(live)
    known = dict(conn.execute("SELECT phash, cluster FROM image_clusters").fetchall())
    groups = _Groups()
    if set(known) - live_set:  # images went away: groups may split, so compute them all again
        for value in live:
            groups.find(value)
        _pairs(live, live, groups)
        new = {v: groups.find(v) for v in live}
    else:
        fresh = [v for v in live if v not in known]
        if not fresh:
            return {}
        for value, cluster in known.items():  # existing groups stay joined
            groups.union(value, cluster)
        _pairs(fresh, live, groups)
        touched = {groups.find(v) for v in fresh}
        new = {v: groups.find(v) for v in live if groups.find(v) in touched}
        # the name of a group is its smallest hash (find() keeps the smallest root)
    changes = {v: (known.get(v), c) for v, c in new.items() if known.get(v) != c}
    gone = [v for v in known if v not in live_set]
    conn.executemany("DELETE FROM image_clusters WHERE phash = ?", [(v,) for v in gone])
    conn.executemany("INSERT OR REPLACE INTO image_clusters VALUES (?, ?)", [(v, c) for v, (_o, c) in changes.items()])
    return changes


def cluster_of(conn: sqlite3.Connection, values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        out.update(conn.execute(f"SELECT phash, cluster FROM image_clusters WHERE phash IN "
                                f"({','.join('?' for _ in chunk)})", chunk).fetchall())
    return out


def members(conn: sqlite3.Connection, sha256: str) -> list[str]:
    """The pHashes recorded for an image's SHA-256."""
    return [r[0] for r in conn.execute("SELECT DISTINCT phash FROM image_members WHERE sha256 = ?", (sha256,))]


def describe(values: list[str]) -> dict[str, Any]:
    """Distances within a group (for the documentation of a link)."""
    if len(values) < 2:
        return {"images": len(values), "max_distance": 0}
    return {"images": len(values), "max_distance": max(phash.distance(a, b) for a in values for b in values)}
