"""`dalil verify CASE`: ledger chain and signatures, head against case.db, every object re-hashed."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .case import DB_NAME, LEDGER_NAME
from .evidence import evidence_files, regular_files
from .hashing import iter_chunks, open_file_or_device, open_readonly
from .textsafe import display
from .ledger import check_lines, pending_entries, read_lines
from .objects import ObjectStore
from .store import Store, check_sqlite_header


@dataclass
class Check:
    """One verification step and its outcome (`message` names the first broken item)."""

    name: str
    ok: bool
    message: str
    warn: bool = False  # passed, but with something the reader must act on (an unpinned key)

    def line(self) -> str:
        label = "FAIL" if not self.ok else ("WARN" if self.warn else "PASS")
        return f"{label}  {self.name}: {self.message}"


def _sha256_of(path: Path, progress: Callable[[int], object] | None = None) -> str:
    h = hashlib.sha256()
    with open_readonly(path) as stream:
        for chunk in iter_chunks(stream, 4 * 1024 * 1024):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def _sha256_of_parts(parts: list[Path], progress: Callable[[int], object] | None = None) -> str:
    """SHA-256 of the concatenation of `parts` (the segments of a split image, in order)."""
    h = hashlib.sha256()
    for part in parts:
        with open_file_or_device(part) as stream:
            for chunk in iter_chunks(stream, 4 * 1024 * 1024):
                h.update(chunk)
                if progress:
                    progress(len(chunk))
    return h.hexdigest()


def _evidence_parts(root: Path, row: dict) -> list[Path]:
    """The file(s) of an evidence row as stored in case.db (details as JSON text)."""
    try:
        details = json.loads(row.get("details") or "{}")
    except ValueError:
        details = {}
    return evidence_files(root, row["path"], details if isinstance(details, dict) else {})


def _files_added(root: Path, row: dict) -> str | None:
    """For a folder exhibit: files in the folder now that were not in it when it was registered
    (parse and export would take them as evidence), else None."""
    try:
        details = json.loads(row.get("details") or "{}")
    except ValueError:
        return None
    if not isinstance(details, dict) or details.get("format") != "directory":
        return None
    registered = {os.fsencode(p) for p in _evidence_parts(root, row)}
    added = [p for p in regular_files(Path(row["path"])) if os.fsencode(p) not in registered]
    if not added:
        return None
    return (f"exhibit {row['exhibit']}: {len(added)} file(s) in {row['path']} that were not there when it was "
            f"registered, e.g. {display(str(added[0]))}")


def _hash_many(paths: Iterable[Path], progress: Callable[[int], object] | None) -> dict[Path, str | Exception]:
    def one(path: Path) -> tuple[Path, str | Exception]:
        try:
            return path, _sha256_of(path, progress)
        except OSError as exc:
            return path, exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, list(paths)))


def verify_case(
    root: Path, evidence: bool = False, progress: Callable[[int], object] | None = None
) -> list[Check]:
    """Every check on a case directory, in order; never raises for a broken case."""
    root = Path(root)
    checks: list[Check] = []
    try:
        check_sqlite_header(root / DB_NAME)
        store = Store(root / DB_NAME)
        meta = {r["key"]: r["value"] for r in store.query("SELECT key, value FROM meta")}
        examiners = {r["fingerprint"]: r["public_key"] for r in store.query("SELECT * FROM examiners")}
        objects_rows = {r["sha256"]: r["size"] for r in store.query("SELECT sha256, size FROM objects")}
        evidence_rows = [dict(r) for r in store.query("SELECT * FROM evidence")]
        store.close()
    except Exception as exc:  # a broken database is a finding, not a crash
        return [Check("case database", False, f"cannot read case.db: {exc}")]
    checks.append(Check("case database", True, f"case {meta.get('case_id')} readable"))

    lines = read_lines(root / LEDGER_NAME) if (root / LEDGER_NAME).exists() else []
    ledger = check_lines(lines)
    if ledger.ok:
        checks.append(Check("ledger chain and signatures", True,
                            f"{ledger.entries} entries linked and signed"))
    else:
        checks.append(Check("ledger chain and signatures", False, str(ledger.problem)))

    head_seq = int(meta.get("head_seq", "0"))
    head_hash = meta.get("head_hash", "")
    if not ledger.ok:
        checks.append(Check("ledger head", False, "not checked: the ledger is broken"))
    elif ledger.entries != head_seq or ledger.last_hash != head_hash:
        if ledger.entries < head_seq:
            msg = f"ledger ends at entry {ledger.entries} but case.db records head entry {head_seq}: entries cut off"
        elif ledger.entries > head_seq and pending_entries(root):
            msg = (f"ledger has {ledger.entries} entries but case.db records head entry {head_seq}: the entries "
                   f"after it were written by a transaction a crash stopped before it committed (the next dalil "
                   f"command that writes to the case removes them and says so)")
        elif ledger.entries > head_seq:
            msg = f"ledger has {ledger.entries} entries but case.db records head entry {head_seq}: entries appended outside Dalil"
        else:
            msg = f"last entry {ledger.entries} hash differs from the head in case.db"
        checks.append(Check("ledger head", False, msg))
    else:
        checks.append(Check("ledger head", True, f"head entry {head_seq} matches case.db"))

    mismatched = [fp for fp, key in examiners.items() if ledger.ok and ledger.keys.get(fp) != key]
    if mismatched:
        checks.append(Check("examiner keys", False, f"key {mismatched[0]} in case.db differs from the ledger"))
    elif ledger.ok:
        checks.append(Check("examiner keys", True, f"{len(examiners)} examiner key(s) match the ledger"))

    store_objs = ObjectStore(root / "objects")
    files = dict(store_objs.iter_objects())
    digests = _hash_many(files.values(), progress)
    problem = None
    for name, path in files.items():
        got = digests[path]
        rel = path.relative_to(root)
        if isinstance(got, Exception):
            problem = problem or f"{rel}: unreadable ({got})"
        elif got != name or path.parent.name != name[:2]:
            problem = problem or f"{rel}: content hash is sha256:{got} (modified or swapped)"
        elif name not in objects_rows:
            problem = problem or f"{rel}: not recorded in case.db (added outside Dalil)"
    for name in sorted(objects_rows):
        if name not in files:
            problem = problem or f"objects/{name[:2]}/{name}: missing"
    if problem:
        checks.append(Check("objects", False, problem))
    else:
        checks.append(Check("objects", True, f"{len(files)} object(s) re-hashed, all match their names"))

    if evidence:
        in_place = [row for row in evidence_rows if row["in_place"]]

        def rehash(row: dict) -> tuple[str, str | Exception]:
            try:
                return row["exhibit"], _sha256_of_parts(_evidence_parts(root, row), progress)
            except OSError as exc:
                return row["exhibit"], exc

        with ThreadPoolExecutor(max_workers=2) as pool:
            got_map: dict[str, str | Exception] = dict(pool.map(rehash, in_place))
        bad: str | None = None
        for row in in_place:
            outcome = got_map.get(row["exhibit"])
            if isinstance(outcome, Exception):
                bad = bad or f"exhibit {row['exhibit']}: {row['path']} unreadable ({outcome})"
            elif outcome != row["sha256"]:
                bad = bad or f"exhibit {row['exhibit']}: {row['path']} now has sha256:{outcome}, registered sha256:{row['sha256']}"
            else:
                bad = bad or _files_added(root, row)
        checks.append(Check("evidence in place", bad is None,
                            bad or f"{len(in_place)} exhibit(s) registered in place re-hashed, all match"))
    return checks
