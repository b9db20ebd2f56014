"""The custody ledger: `custody.jsonl`, one canonical JSON entry a line, hash-chained and signed.

Every line is the RFC 8785 canonical form of its entry, so any edited byte either changes a
value (and the entry's hash no longer matches) or leaves a non-canonical line — both detected.
Each entry carries `prev` (the previous entry's `hash`), its own `hash` (SHA-256 of the
canonical entry without `hash` and `signature`) and `signature` (Ed25519 over those same bytes,
base64). The head (sequence, hash, byte length) is kept in `case.db` so a cut-off tail shows.

Appends are one `write()` on an O_APPEND descriptor followed by fsync, made under the case lock;
a torn line left by a crash is cut off (and disclosed) at the next append, and an entry written
just before a crash is adopted when it chains onto the head.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .. import TOOL_NAME, __version__
from . import invocation
from .canonical import canonical, sha256_tagged
from .clock import rfc3339
from .errors import Corrupted, IntegrityError
from .identity import Examiner, fingerprint, strict_b64decode, verify_signature
from .store import Store

GENESIS = "sha256:" + "0" * 64
REQUIRED = ("seq", "time", "examiner", "examiner_key", "action", "subject", "reason", "tool",
            "host", "command", "details", "prev", "hash", "signature")
KEY_ACTION = "examiner-registered"
WITHHELD_KEYS = ("hash", "prev", "redacted", "seq")  # what a withheld entry keeps


def entry_body(entry: Mapping[str, Any]) -> bytes:
    """The canonical bytes that an entry's hash and signature cover."""
    return canonical({k: v for k, v in entry.items() if k not in ("hash", "signature")})


def subject(exhibit: str | None = None, sha256: str | None = None, **extra: Any) -> dict[str, Any]:
    """A ledger subject: exhibit id and `sha256:<hex>` (either may be None)."""
    if sha256 and not sha256.startswith("sha256:"):
        sha256 = "sha256:" + sha256
    return {"exhibit": exhibit, "sha256": sha256, **extra}


@dataclass
class Problem:
    """The first thing that does not hold in a ledger."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"custody.jsonl line {self.line}: {self.message}" if self.line else self.message


@dataclass
class LedgerCheck:
    """Outcome of checking a ledger's lines."""

    entries: int = 0
    last_hash: str = GENESIS
    keys: dict[str, str] = field(default_factory=dict)  # fingerprint -> base64 public key
    problem: Problem | None = None
    withheld: int = 0  # entries withheld from a bundle (only with allow_withheld)

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_lines(lines: Iterable[bytes], known_keys: Mapping[str, str] | None = None,
                allow_withheld: bool = False) -> LedgerCheck:
    """Check chain links, hashes, canonical form and signatures; stops at the first problem.

    Public keys come from `examiner-registered` entries (self-signed) and `known_keys`. With
    `allow_withheld`, an entry reduced to `seq`, `prev`, `hash` and `redacted: true` (a bundle limited
    to some exhibits withholds the others') is accepted: the next entry's signed `prev` still commits
    to its hash, so the chain holds; `withheld` counts them.
    """
    result = LedgerCheck(keys=dict(known_keys or {}))
    prev = GENESIS
    for number, raw in enumerate(lines, start=1):
        entry, message = _check_entry(raw, number, prev, result.keys, allow_withheld)
        if message is not None or entry is None:
            result.problem = Problem(number, message or "not a ledger entry")
            return result
        result.withheld += entry.get("redacted") is True
        prev = entry["hash"]
        result.entries = number
        result.last_hash = prev
    return result


def _check_entry(raw: bytes, number: int, prev: str, keys: dict[str, str],
                 allow_withheld: bool) -> tuple[dict[str, Any] | None, str | None]:
    """One line: (the entry, None) when it holds, else (entry or None, what is wrong)."""
    if not raw.endswith(b"\n"):
        return None, "incomplete last line (no newline): torn write or cut"
    body = raw[:-1]
    try:
        entry = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "not valid JSON"
    if not isinstance(entry, dict):
        return None, "not a ledger entry"
    withheld = allow_withheld and entry.get("redacted") is True
    if not withheld and any(k not in entry for k in REQUIRED):
        return entry, "not a ledger entry (fields missing)"
    if canonical(entry) != body:
        return entry, f"entry seq {entry.get('seq')} is not in canonical form (edited)"
    if entry.get("seq") != number:
        return entry, f"sequence {entry.get('seq')} where {number} was expected (entry removed, inserted or reordered)"
    if entry.get("prev") != prev:
        return entry, (f"entry seq {number} does not link to the previous entry "
                       "(entry removed, inserted, reordered or edited)")
    if withheld:
        if sorted(entry) != sorted(WITHHELD_KEYS) or not str(entry.get("hash", "")).startswith("sha256:"):
            return entry, f"withheld entry seq {number} is malformed"
        return entry, None
    body_bytes = entry_body(entry)
    if sha256_tagged(body_bytes) != entry["hash"]:
        return entry, f"entry seq {number} hash does not match its content (edited)"
    key_fp = entry["examiner_key"]
    if entry["action"] == KEY_ACTION and isinstance(entry["details"], dict):
        public = entry["details"].get("public_key", "")
        try:
            if isinstance(public, str) and fingerprint(strict_b64decode(public)) == key_fp:
                keys.setdefault(key_fp, public)
        except (ValueError, TypeError):
            pass
    public_b64 = keys.get(key_fp)
    if public_b64 is None:
        return entry, f"entry seq {number} is signed by an unknown key {key_fp}"
    if not verify_signature(public_b64, entry["signature"], body_bytes):
        return entry, f"entry seq {number} signature is not valid"
    return entry, None


def read_lines(path: Path) -> list[bytes]:
    """The ledger's raw lines (each with its newline, the last possibly without)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise Corrupted(f"custody ledger missing: {path}") from exc
    return data.splitlines(keepends=True)


def iter_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Parsed entries, for display (no checking: use `check_lines` for that)."""
    for number, raw in enumerate(read_lines(path), start=1):
        try:
            yield json.loads(raw)
        except ValueError as exc:
            raise Corrupted(f"custody.jsonl line {number} is not valid JSON (run dalil verify)") from exc


PENDING_NAME = ".custody.pending"  # see Ledger.pending


def pending_entries(case_root: Path) -> bool:
    """Whether a transaction's entries may be beyond the head (its marker is set)."""
    marker = case_root / PENDING_NAME
    return marker.exists() and marker.stat().st_size > 0


class Ledger:
    """Appends to a case's ledger and keeps its head in `case.db`. Callers hold the case lock."""

    def __init__(self, path: Path, store: Store) -> None:
        self.path = Path(path)
        self.store = store
        # While a transaction that appends entries is open, this file holds the ledger's length
        # before them: a crash before COMMIT leaves it, and the next recover() cuts those entries.
        self.pending = self.path.with_name(PENDING_NAME)
        self._marked = False

    def head(self) -> tuple[int, str, int]:
        """(sequence, hash, byte length) recorded in case.db."""
        seq = int(self.store.get_meta("head_seq", "0") or 0)
        digest = self.store.get_meta("head_hash", GENESIS) or GENESIS
        length = int(self.store.get_meta("head_offset", "0") or 0)
        return seq, digest, length

    @property
    def pending_recovery(self) -> dict[str, Any] | None:
        """A crash repair not yet disclosed in an entry (kept in case.db until the next entry)."""
        text = self.store.get_meta("pending_recovery")
        return json.loads(text) if text else None

    def _set_head(self, conn: sqlite3.Connection, seq: int, digest: str, length: int) -> None:
        self.store.set_meta("head_seq", str(seq), conn)
        self.store.set_meta("head_hash", digest, conn)
        self.store.set_meta("head_offset", str(length), conn)

    def _mark(self, length: int) -> None:
        """Before the first entry of a transaction: note the ledger's length (made durable first), to
        be cleared after COMMIT, or cut back to after a ROLLBACK (see Store.after)."""
        if self._marked:
            return
        _write_durably(self.pending, str(length).encode())
        self._marked = True
        self.store.after(self._committed, self._rolled_back)

    def _committed(self) -> None:
        self._marked = False
        _clear(self.pending)

    def _rolled_back(self) -> None:
        """The entries of a transaction that did not commit are cut off again: the ledger never
        records a change the case does not hold."""
        self._marked = False
        try:
            length = int(self.pending.read_text())
            with open(self.path, "r+b") as fh:
                fh.truncate(length)
                os.fsync(fh.fileno())
            _clear(self.pending)
        except (OSError, ValueError):
            pass  # the marker stays: the next recover() does it

    def _cut_uncommitted(self, length: int, seq: int) -> dict[str, Any] | None:
        """A crash between the entries of a transaction and its COMMIT: their change is not in the
        case, so the entries are cut off (and disclosed with their hashes)."""
        try:
            marked = int(self.pending.read_text())
        except (OSError, ValueError):
            marked = length
        note = None
        if marked == length and self.path.exists() and self.path.stat().st_size > length:
            with open(self.path, "rb") as fh:
                fh.seek(length)
                extra = fh.read()
            hashes = []
            for raw in extra.splitlines():
                try:
                    hashes.append(json.loads(raw).get("hash"))
                except (ValueError, AttributeError):
                    hashes.append(None)
            with open(self.path, "r+b") as fh:
                fh.truncate(length)
                os.fsync(fh.fileno())
            note = {"recovered": "uncommitted-entries-removed", "after_seq": seq, "bytes_removed": len(extra),
                    "entries": hashes}
            with self.store.transaction() as conn:
                self.store.set_meta("pending_recovery", json.dumps(note), conn)
        _clear(self.pending)
        return note

    def recover(self) -> dict[str, Any] | None:
        """Repair what a crash can leave: a torn last line, or one entry not yet in the head.

        Returns a description of the repair (to disclose in the next entry), or None.
        Anything else beyond the head is tampering and raises IntegrityError.
        """
        seq, digest, length = self.head()
        if not self._marked and pending_entries(self.path.parent):
            note = self._cut_uncommitted(length, seq)
            if note is not None:
                return note
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == length:
            return None
        if size < length:
            raise IntegrityError(
                f"custody ledger is shorter than recorded (head seq {seq}): entries were cut off; run dalil verify"
            )
        with open(self.path, "rb") as fh:
            fh.seek(length)
            extra = fh.read()
        lines = extra.splitlines(keepends=True)
        if len(lines) == 1 and not lines[0].endswith(b"\n"):
            with open(self.path, "r+b") as fh:
                fh.truncate(length)
                fh.flush()
                os.fsync(fh.fileno())
            note = {"recovered": "torn-write", "bytes_removed": len(extra), "after_seq": seq}
            with self.store.transaction() as conn:
                self.store.set_meta("pending_recovery", json.dumps(note), conn)
            return note
        if len(lines) == 1:
            try:
                entry = json.loads(lines[0])
            except ValueError:
                entry = None
            if (
                isinstance(entry, dict) and entry.get("seq") == seq + 1 and entry.get("prev") == digest
                and entry.get("hash") == sha256_tagged(entry_body(entry))
            ):
                note = {"recovered": "adopted-entry", "seq": seq + 1}
                with self.store.transaction() as conn:
                    self._set_head(conn, seq + 1, entry["hash"], size)
                    self.store.set_meta("pending_recovery", json.dumps(note), conn)
                return note
        raise IntegrityError(
            f"custody ledger has {len(lines)} unexpected line(s) after the recorded head (seq {seq}); run dalil verify"
        )

    def append(
        self,
        examiner: Examiner,
        action: str,
        subject_: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        reason: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> dict[str, Any]:
        """Write one signed entry and move the head. With `conn` (an open transaction), the head
        update joins the caller's transaction so data and ledger commit together."""
        self.recover()
        recovery = self.pending_recovery
        seq, prev, length = self.head()
        details = dict(details or {})
        if recovery:
            details["ledger_recovery"] = recovery
        entry: dict[str, Any] = {
            "seq": seq + 1,
            "time": rfc3339(),
            "examiner": examiner.name,
            "examiner_key": examiner.fingerprint,
            "action": action,
            "subject": dict(subject_) if subject_ else None,
            "reason": reason,
            "tool": {"name": TOOL_NAME, "version": __version__},
            "host": socket.gethostname(),
            "command": invocation.command_line(),
            "details": details,
            "prev": prev,
        }
        body = entry_body(entry)
        entry["hash"] = sha256_tagged(body)
        entry["signature"] = examiner.sign(body)
        line = canonical(entry) + b"\n"
        if conn is not None:
            self._mark(length)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if conn is not None:
            self._set_head(conn, seq + 1, entry["hash"], length + len(line))
            conn.execute("DELETE FROM meta WHERE key = 'pending_recovery'")
        else:
            with self.store.transaction() as tx:
                self._set_head(tx, seq + 1, entry["hash"], length + len(line))
                tx.execute("DELETE FROM meta WHERE key = 'pending_recovery'")
        return entry


def _write_durably(path: Path, data: bytes) -> None:
    """The marker's content, on disk before what follows (the file is kept, emptied, between uses:
    its folder entry needs a sync only the first time)."""
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _clear(path: Path) -> None:
    """Empty the marker (no sync: a stale length no longer equal to the head's is ignored)."""
    try:
        os.truncate(path, 0)
    except FileNotFoundError:
        pass
