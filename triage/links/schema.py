"""Tables of the entity index (component "triage.links").

- `entities`: one row per (kind, value), with the figures `dalil links` sorts by, kept up to date
  as exhibits are indexed: exhibits, sources (distinct kinds of source), count, first/last seen.
- `occurrences`: each place an entity was seen (stored in entity order, so one entity's places are
  read together): exhibit, source (`file`, `capture`, `message`,
  `call`, `contact`, `account`, or a phone record's kind), `ref` (the exact place: file path; capture
  URL and WARC record id; record file, table and row, and thread), time, role, label (the contact's
  or sender's name), detail (JSON: platform, network, image hashes).
- `entity_places`: occurrences summed per (entity, exhibit, source): what the listing, the graph
  and the lab repository read.
- `image_hashes` (pHash of stored objects, computed once per content), `image_members` (the images
  of each exhibit: SHA-256 and pHash), `image_clusters` (each pHash's group of look-alikes).
- `links_exhibits`: which exhibits are indexed, by which version of the index, with what counts.
"""

from __future__ import annotations

from ..core.store import register_schema

LINKS_V1 = """
CREATE TABLE entities (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL, rank INTEGER NOT NULL,
    exhibits INTEGER NOT NULL DEFAULT 0, sources INTEGER NOT NULL DEFAULT 0, count INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT, last_seen TEXT, UNIQUE (kind, value));
CREATE INDEX entities_strength ON entities(exhibits DESC, sources DESC, rank, count DESC, kind, value)
    WHERE exhibits >= 2;
CREATE TABLE occurrences (
    entity INTEGER NOT NULL, exhibit TEXT NOT NULL, source TEXT NOT NULL, ref TEXT NOT NULL,
    time TEXT, role TEXT, label TEXT, detail TEXT, PRIMARY KEY (entity, exhibit, source, ref)) WITHOUT ROWID;
CREATE TABLE entity_places (
    entity INTEGER NOT NULL, exhibit TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
    first_seen TEXT, last_seen TEXT, PRIMARY KEY (entity, exhibit, source)) WITHOUT ROWID;
CREATE INDEX entity_places_exhibit ON entity_places(exhibit, entity);
CREATE TABLE image_hashes (
    sha256 TEXT PRIMARY KEY, phash TEXT, width INTEGER, height INTEGER, note TEXT);
CREATE TABLE image_members (
    exhibit TEXT NOT NULL, sha256 TEXT NOT NULL, phash TEXT NOT NULL, PRIMARY KEY (exhibit, sha256)) WITHOUT ROWID;
CREATE INDEX image_members_sha256 ON image_members(sha256);
CREATE INDEX image_members_phash ON image_members(phash);
CREATE TABLE image_clusters (phash TEXT PRIMARY KEY, cluster TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX image_clusters_cluster ON image_clusters(cluster);
CREATE TABLE links_exhibits (
    exhibit TEXT PRIMARY KEY, version TEXT NOT NULL, indexed_at TEXT NOT NULL, occurrences INTEGER NOT NULL,
    entities INTEGER NOT NULL, details TEXT NOT NULL DEFAULT '{}');
"""

register_schema("triage.links", [LINKS_V1])

TABLES = ("entities", "occurrences", "entity_places", "image_members", "image_clusters", "links_exhibits")
