"""Register a logical extraction folder as an exhibit, in place.

`evidence.add` takes files only. A folder is recorded like a split image: its regular files in
sorted order are its `segments` (path, size, SHA-256 each), and the exhibit's hashes cover their
concatenation in that order, so `dalil verify --evidence` re-checks it unchanged. The manifest
(`sha256  size  hex(path)` per file) is also stored in objects/ and named in the ledger entry.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..core.case import Case, check_exhibit_id
from ..core.clock import rfc3339
from ..core.errors import UsageError
from ..core.evidence import Exhibit, check_free, get, regular_files
from ..core.hashing import MultiHasher, iter_chunks
from ..core.ledger import subject
from ..core.store import dumps
from .logical import name_text, open_regular


def _segment(full: Path, size: int, sha256: str) -> dict[str, Any]:
    """A file's record: `path` as text (`name_text`: undecodable bytes as \\xNN) and, when the
    path is not plain UTF-8, `path_hex`: its real bytes, which `dalil verify` opens."""
    raw = os.fsencode(full)
    seg: dict[str, Any] = {"path": name_text(raw), "size": size, "sha256": sha256}
    if seg["path"] != str(full):
        seg["path_hex"] = raw.hex()
    return seg


def _raw(segment: dict[str, Any]) -> bytes:
    return bytes.fromhex(segment["path_hex"]) if "path_hex" in segment else os.fsencode(segment["path"])


def register_directory(case: Case, root: Path, exhibit: str, reason: str | None) -> Exhibit:
    check_exhibit_id(exhibit)
    check_free(case, exhibit)  # registered, or held by an acquisition
    root = root.resolve()
    try:
        str(root).encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"the folder's own path is not valid UTF-8: {name_text(os.fsencode(root))} "
                         "(bind-mount it read-only at a UTF-8 path to register it)") from None
    hasher = MultiHasher()
    segments: list[dict[str, Any]] = []
    try:
        for full in regular_files(root):
            one = hashlib.sha256()
            size = 0
            with open_regular(full) as fh:
                for chunk in iter_chunks(fh):
                    hasher.update(chunk)
                    one.update(chunk)
                    size += len(chunk)
            segments.append(_segment(full, size, one.hexdigest()))
    except BaseException:
        hasher.abort()
        raise
    digests = hasher.finish()
    prefix = len(os.fsencode(root)) + 1
    manifest = "".join(f"{s['sha256']}  {s['size']}  {_raw(s)[prefix:].hex()}\n" for s in segments).encode()
    manifest_digests = case.put_object(manifest, origin=f"manifest of folder exhibit {exhibit}")
    examiner = case.ensure_examiner_registered()
    details = {"format": "directory", "files": len(segments), "manifest_sha256": manifest_digests.sha256,
               "sha256_covers": "the files concatenated in sorted path order (see segments)", "segments": segments}
    # (not evidence.insert: its ledger entry would carry every file's segment; this one names the manifest)
    with case.store.transaction() as conn:
        check_free(case, exhibit)
        conn.execute(
            "INSERT INTO evidence (exhibit, description, kind, path, source_path, in_place, size, md5, sha1,"
            " sha256, added_at, examiner, details) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (exhibit, "logical extraction folder", "directory", str(root), str(root), 1, digests.size, digests.md5,
             digests.sha1, digests.sha256, rfc3339(), examiner.name, dumps(details)))
        case.record("evidence-registered", subject(exhibit, digests.sha256), details={
            "source_path": str(root), "stored_path": str(root), "in_place": True, "kind": "directory",
            "size": digests.size, "md5": digests.md5, "sha1": digests.sha1, "sha256": digests.sha256,
            "files": len(segments), "manifest_sha256": manifest_digests.sha256,
            "sha256_covers": details["sha256_covers"],
        }, reason=reason, conn=conn)
    return get(case, exhibit)
