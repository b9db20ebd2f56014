"""Tables of `dalil parse`: `partitions` (volumes and container layers seen, `dalil volumes`) and `files` (one row per file or stream).

Column names are a contract: `dalil files`, `export`, `timeline` and the report read them.
"""

from __future__ import annotations

from ..core.store import register_schema

# files.recovered_note of a deleted name whose inode was reused (TSK's "deleted-realloc")
REALLOC_NOTE = "name deleted; its inode now belongs to another file: content not read"

FILES_V1 = """
CREATE TABLE partitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exhibit TEXT NOT NULL, partition INTEGER NOT NULL, length INTEGER, slot TEXT,
    description TEXT, fs_type TEXT, status TEXT NOT NULL, message TEXT, files INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER,
    UNIQUE (exhibit, partition));
CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exhibit TEXT NOT NULL, run_id INTEGER, partition INTEGER NOT NULL, path TEXT NOT NULL,
    name TEXT NOT NULL, ext TEXT, inode INTEGER, attr TEXT NOT NULL DEFAULT '', stream TEXT,
    type TEXT, mode TEXT, link TEXT, uid INTEGER, gid INTEGER, size INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0, orphan INTEGER NOT NULL DEFAULT 0,
    recovered INTEGER NOT NULL DEFAULT 0, recovered_note TEXT,
    md5 TEXT, sha1 TEXT, sha256 TEXT, mime TEXT, ext_mismatch INTEGER,
    mtime TEXT, atime TEXT, ctime TEXT, crtime TEXT,
    gps_lat REAL, gps_lon REAL, exif TEXT, yara_matches TEXT,
    entropy REAL, encrypted_flag INTEGER, known TEXT, indicators TEXT, error TEXT,
    UNIQUE (exhibit, partition, path, inode, attr));
CREATE INDEX files_exhibit ON files(exhibit);
CREATE INDEX files_sha256 ON files(sha256);
"""

# v2: the row key ignores that logical entries (folder, zip, tar members) have no inode. SQLite treats
# NULLs in a UNIQUE constraint as distinct, so `INSERT OR REPLACE` never replaced such a row and every
# re-parse added a copy. The key is now a unique index with the inode as IFNULL(inode, -1) (no file
# system has inode -1); copies stored before are removed first, keeping each key's newest row.
FILES_V2 = """
DELETE FROM files WHERE inode IS NULL AND id NOT IN (
    SELECT MAX(id) FROM files WHERE inode IS NULL GROUP BY exhibit, partition, path, attr);
CREATE UNIQUE INDEX files_key ON files(exhibit, partition, path, IFNULL(inode, -1), attr);
"""

# v3: NTFS $FILE_NAME times (JSON: attr, size, mtime, atime, ctime, crtime) for the timeline, as
# `fls -m` gives them in its `($FILE_NAME)` lines
FILES_V3 = """
ALTER TABLE files ADD COLUMN fn_times TEXT;
"""

# v4: perceptual hash of images (analyser `phash`), which `dalil links` groups look-alike images by
FILES_V4 = """
ALTER TABLE files ADD COLUMN phash TEXT;
"""

# v5: rows of other views of a volume and of carved content. `snapshot` names the view a row was
# listed in (a Volume Shadow Copy store, an APFS snapshot; NULL for the live volume) and is part of the
# row key; `carved` rows were found by carving unallocated space, at `carved_offset` for `carved_length`
# bytes of the image (`dalil files` shows them as `offset` and `length`).
FILES_V5 = """
ALTER TABLE files ADD COLUMN snapshot TEXT;
ALTER TABLE files ADD COLUMN carved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN carved_offset INTEGER;
ALTER TABLE files ADD COLUMN carved_length INTEGER;
DROP INDEX files_key;
CREATE UNIQUE INDEX files_key ON files(exhibit, partition, IFNULL(snapshot, ''), path, IFNULL(inode, -1), attr);
"""

# v6: `partitions` holds every volume or container layer seen (`dalil volumes`): `offset` in the image
# (NULL where a layer is not one run of the image, e.g. a logical volume spread over extents), the
# `scheme` it was found through (`mbr`, `gpt`, `lvm`, `apfs`, `vss`, `none` for a bare file system,
# `logical` for a folder or archive), `encrypted` (NULL, or `bitlocker`, `luks`, `filevault`, `apfs`,
# `unknown-high-entropy`), the `snapshot` a view belongs to and the `parent` layer (its `partition`).
# `partition` stays the identifier that files.partition refers to; the row key gains the snapshot.
FILES_V6 = """
CREATE TABLE partitions_v6 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exhibit TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER, length INTEGER, scheme TEXT,
    slot TEXT, description TEXT, fs_type TEXT, encrypted TEXT, status TEXT NOT NULL, message TEXT,
    files INTEGER NOT NULL DEFAULT 0, run_id INTEGER, snapshot TEXT, parent INTEGER);
INSERT INTO partitions_v6 (id, exhibit, partition, offset, length, scheme, slot, description, fs_type, status,
                           message, files, run_id)
    SELECT id, exhibit, partition, partition, length,
           CASE WHEN description LIKE 'logical %' THEN 'logical' ELSE NULL END,
           slot, description, fs_type, status, message, files, run_id FROM partitions;
DROP TABLE partitions;
ALTER TABLE partitions_v6 RENAME TO partitions;
CREATE UNIQUE INDEX partitions_key ON partitions(exhibit, partition, IFNULL(snapshot, ''));
"""

# v7: files_exhibit dropped: files_key and files_browse start with the exhibit too and serve its
# queries, and every row stored paid for a fifth full index (1.7 us a row, 0.035 s a 21,000-file parse)
FILES_V7 = """
DROP INDEX IF EXISTS files_exhibit;
"""

register_schema("triage.files", [FILES_V1, FILES_V2, FILES_V3, FILES_V4, FILES_V5, FILES_V6, FILES_V7])

# The browser's (`dalil serve`) page order: exhibit, partition, path, id. A component of its own, so the
# files schema's versions stay with parse; a covering index lets a page at any depth be found in the index.
# Partial indexes (same order) for the filters that pick few rows: their WHERE is the filter's SQL
# text in triage.image.query.PAGE_FLAGS, which is how SQLite knows it may use them.
register_schema("triage.files.browse", ["""
CREATE INDEX files_browse ON files(exhibit, partition, path, id);
CREATE INDEX files_browse_deleted ON files(exhibit, partition, path, id) WHERE (deleted = 1 OR orphan = 1);
CREATE INDEX files_browse_yara ON files(exhibit, partition, path, id, yara_matches)
    WHERE yara_matches IS NOT NULL AND yara_matches NOT IN ('', '[]');
CREATE INDEX files_browse_pictures ON files(exhibit, partition, path, id) WHERE mime LIKE 'image/%';
CREATE INDEX files_browse_gps ON files(exhibit, partition, path, id) WHERE gps_lat IS NOT NULL AND gps_lon IS NOT NULL;
"""])
