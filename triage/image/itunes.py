"""iTunes/Finder backups of iPhones (iOS 10 and later), read as the phone's file tree.

A backup folder holds `Manifest.db`, `Manifest.plist`, `Info.plist`, `Status.plist` and the files,
each stored as `xx/<fileID>`. `Manifest.db` (table `Files`: fileID, domain, relativePath, flags 1
file, 2 directory, 4 symbolic link, and `file`, an NSKeyedArchiver property list of class MBFile)
says where each file was on the phone; the walk yields it at `/<domain>/<relativePath>` (e.g.
`/HomeDomain/Library/SMS/sms.db`) with the MBFile's times (LastModified as mtime, LastStatusChange
as ctime, Birth as crtime), mode, owner and inode, and reads its content from `xx/<fileID>` (iOS
makes the fileID as SHA-1 of `<domain>-<relativePath>`). Everything else in the folder (the
manifests, `Info.plist`, a stored file no row names) is listed as it is under `/$Backup/` (no
domain starts with `$`), so nothing present goes unlisted.

Manifest.db is read from a copy in the case's private work folder, never in place (SQLite could
write beside it). A row whose stored file is missing keeps its row, with the error; a Manifest.db
that is not a database is one warning, and the folder is then listed as stored under `/$Backup/`.
Encrypted backups: see `itunes_crypto`.
"""

from __future__ import annotations

import functools
import os
import plistlib
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.errors import UsageError
from . import itunes_crypto
from .logical import Member, MemberError, iso_time, make_entry, name_text, one_line, open_regular, walk_dir
from .walk import Entry

PREFIX = "/$Backup"
MANIFEST = "Manifest.db"
FLAG_KINDS = {1: "r", 2: "d", 4: "l"}
PASSWORD_HINT = "give it with --password or the environment variable DALIL_BACKUP_PASSWORD"
COPY_CHUNK = 1 << 20


def is_backup(folder: Path) -> bool:
    """A folder holding a regular file `Manifest.db` (not through a symbolic link)."""
    try:
        return stat.S_ISREG((folder / MANIFEST).lstat().st_mode)
    except OSError:
        return False


@dataclass
class Backup:
    """A backup folder about to be walked: encrypted or not, and its unlocked keys."""

    root: Path
    encrypted: bool = False
    keys: itunes_crypto.Keys | None = None
    plist: dict[str, Any] = field(default_factory=dict)
    plist_problem: str | None = None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"encrypted": self.encrypted}
        if isinstance(self.plist.get("Version"), str):
            out["manifest_version"] = self.plist["Version"]
        return out


def open_backup(root: Path, password: str | None) -> Backup:
    """Read Manifest.plist; for an encrypted backup, unlock its keybag with `password` (a usage
    error if none was given, WrongPassword if it is not the backup's)."""
    backup = Backup(root)
    try:
        with open_regular(root / "Manifest.plist") as fh:
            loaded = plistlib.load(fh)
        if not isinstance(loaded, dict):
            raise ValueError("not a dictionary")
        backup.plist = loaded
    except FileNotFoundError:
        backup.plist_problem = "Manifest.plist is missing: the backup is taken as not encrypted"
    except Exception as exc:  # a damaged plist: the walk says so and goes on
        backup.plist_problem = f"Manifest.plist is not readable ({one_line(exc)}): the backup is taken as not encrypted"
    backup.encrypted = bool(backup.plist.get("IsEncrypted"))
    if backup.encrypted:
        if not password:
            raise UsageError(f"iOS backup {root.name} is encrypted: {PASSWORD_HINT}")
        backup.keys = itunes_crypto.unlock(backup.plist, password, root.name)
    return backup


@dataclass
class MBFile:
    """The fields of a Manifest row's `file` property list that the walk uses."""

    size: int | None = None
    mtime: int | None = None
    ctime: int | None = None
    birth: int | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    inode: int | None = None
    key: bytes | None = None  # EncryptionKey: protection class (4 bytes) + wrapped key
    target: str | None = None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mbfile(blob: bytes) -> MBFile:
    """Decode an MBFile (NSKeyedArchiver binary plist); ValueError/KeyError/TypeError if it is not one."""
    archive = plistlib.loads(blob)
    objects = archive["$objects"]

    def deref(value: Any) -> Any:
        return objects[value.data] if isinstance(value, plistlib.UID) else value

    root = deref(archive["$top"]["root"])
    if not isinstance(root, dict):
        raise TypeError("its root object is not a dictionary")
    key = deref(root.get("EncryptionKey"))
    if isinstance(key, dict):
        key = key.get("NS.data")
    target = deref(root.get("Target"))
    return MBFile(size=_int(root.get("Size")), mtime=_int(root.get("LastModified")),
                  ctime=_int(root.get("LastStatusChange")), birth=_int(root.get("Birth")), mode=_int(root.get("Mode")),
                  uid=_int(root.get("UserID")), gid=_int(root.get("GroupID")), inode=_int(root.get("InodeNumber")),
                  key=key if isinstance(key, bytes) else None, target=target if isinstance(target, str) else None)


class Unreadable:
    """A content that cannot be had: reading it raises, so the row keeps the reason as its error."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def read_random(self, offset: int, length: int) -> bytes:
        raise MemberError(self.reason)


def _copy(src: Path, dst: Path) -> None:
    """A copy of a regular file (never through a link), created new."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out, open_regular(src) as fh:
        while chunk := fh.read(COPY_CHUNK):
            out.write(chunk)


def _manifest(backup: Backup, work: Path) -> sqlite3.Connection:
    """Manifest.db opened on a copy in `work` (decrypted there for an encrypted backup)."""
    copy = work / MANIFEST
    if backup.keys is not None:
        wrapped = backup.plist.get("ManifestKey")
        if not isinstance(wrapped, bytes):
            raise ValueError("Manifest.plist holds no ManifestKey")
        itunes_crypto.decrypt_to(backup.root / MANIFEST, backup.keys.unwrap(wrapped), copy)
    else:
        _copy(backup.root / MANIFEST, copy)
        for suffix in ("-wal", "-journal"):  # rows only in the WAL are the backup's too
            side = backup.root / (MANIFEST + suffix)
            if side.is_file() and not side.is_symlink():
                _copy(side, work / (MANIFEST + suffix))
    conn = sqlite3.connect(copy)
    conn.text_factory = bytes  # names are decoded by name_text: bytes that are not UTF-8 stay visible
    conn.execute("SELECT fileID, domain, relativePath, flags, file FROM Files LIMIT 1").fetchall()
    return conn


def walk_backup(backup: Backup, work: Path, on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    """Every file the Manifest names, at its phone path; then the rest of the folder under /$Backup."""
    if backup.plist_problem:
        on_error(f"{PREFIX}/Manifest.plist", backup.plist_problem)
    served: set[str] = set()  # stored files given as the content of a Manifest row
    try:
        conn = _manifest(backup, work)
    except Exception as exc:  # not a database, not decryptable, no Files table
        what = "does not decrypt" if backup.keys is not None else "is not a readable Manifest database"
        on_error(f"{PREFIX}/{MANIFEST}", f"{MANIFEST} {what} ({one_line(exc)}): the backup's files are listed "
                                         f"as stored, under {PREFIX}/, without their paths on the phone")
    else:
        try:
            rows = conn.execute("SELECT fileID, domain, relativePath, flags, file FROM Files "
                                "ORDER BY domain, relativePath, fileID")
            for row in rows:
                yield _row_entry(backup, row, served, on_error)
        except sqlite3.Error as exc:
            on_error(f"{PREFIX}/{MANIFEST}", f"reading {MANIFEST} stopped early ({one_line(exc)}): the rows read "
                                             f"are listed, and every stored file under {PREFIX}/")
        finally:
            conn.close()
    yield from _stored(backup.root, served, on_error)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return name_text(value)
    return "" if value is None else str(value)


def _row_entry(backup: Backup, row: tuple[Any, ...], served: set[str],
               on_error: Callable[[str, str], None]) -> Entry:
    file_id, domain, relative, flags, blob = _text(row[0]), _text(row[1]), _text(row[2]), row[3], row[4]
    path = ("/" + domain + ("/" + relative.strip("/") if relative.strip("/") else "")).rstrip("/") or "/"
    kind = FLAG_KINDS.get(flags if isinstance(flags, int) else -1, "-")
    meta, problem = MBFile(), None
    try:
        meta = mbfile(blob if isinstance(blob, bytes) else b"")
    except Exception as exc:  # one damaged row: listed with what the table says
        problem = f"Manifest row {file_id}: its file metadata (MBFile) is not readable ({one_line(exc)})"
    times = {"mtime": iso_time(meta.mtime), "ctime": iso_time(meta.ctime), "crtime": iso_time(meta.birth)}
    mode = meta.mode if meta.mode is not None else (0o755 if kind == "d" else 0o644)
    size, member = 0, None
    if kind == "r" or (kind == "-" and _stored_path(backup.root, file_id) is not None):
        size, member = _content(backup, file_id, domain, relative, meta, problem, on_error, path)
        if member is not None and not isinstance(member, Unreadable):
            served.add(file_id)
    if problem and not (isinstance(member, Unreadable) and member.reason == problem):
        on_error(path, problem)  # else the row's error says it (one warning)
    entry = make_entry(path, size, kind, times, member, mode, meta.target if kind == "l" else None)
    entry.uid, entry.gid, entry.inode = meta.uid, meta.gid, meta.inode
    return entry


def _stored_path(root: Path, file_id: str) -> Path | None:
    """Where a fileID's content is stored, if that is a plain 40-hex-digit name that exists."""
    if len(file_id) != 40 or any(c not in "0123456789abcdef" for c in file_id):
        return None
    path = root / file_id[:2] / file_id
    return path if os.path.lexists(path) else None


def _content(backup: Backup, file_id: str, domain: str, relative: str, meta: MBFile, problem: str | None,
             on_error: Callable[[str, str], None], path: str) -> tuple[int, Any]:
    """(size, reader) of a file row: the stored file (decrypted on demand), or an Unreadable saying why."""
    stored = _stored_path(backup.root, file_id)
    listed = meta.size or 0
    if stored is None:
        reason = (f"stored file {file_id[:2]}/{file_id} ({domain}/{relative}) is missing from the backup"
                  if len(file_id) == 40 else f"Manifest row names no valid stored file ({file_id!r})")
        if listed:
            return listed, Unreadable(reason)
        on_error(path, reason)  # nothing to read, but the gap is said
        return 0, None
    try:
        st = stored.lstat()
    except OSError as exc:
        return max(listed, 1), Unreadable(f"stored file {file_id[:2]}/{file_id}: {exc.strerror}")
    if not stat.S_ISREG(st.st_mode):
        return max(listed, 1), Unreadable(f"stored file {file_id[:2]}/{file_id} is not a regular file")
    if backup.keys is None:
        return st.st_size, Member(functools.partial(open_regular, stored), st.st_size)
    if meta.key is None:
        if st.st_size == 0:
            return 0, Member(functools.partial(open_regular, stored), 0)
        reason = problem or f"Manifest row {file_id} holds no EncryptionKey: the stored file cannot be decrypted"
        return st.st_size, Unreadable(reason)
    try:
        reader = itunes_crypto.EncryptedFile(stored, backup.keys.unwrap(meta.key))
    except (ValueError, MemberError, OSError) as exc:
        return max(st.st_size, 1), Unreadable(f"stored file {file_id[:2]}/{file_id} cannot be decrypted: "
                                              f"{one_line(exc)}")
    return reader.size, reader


def _stored(root: Path, served: set[str], on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    """The folder as stored, under /$Backup, less the stored files already given at their phone path."""
    def located(loc: str, message: str) -> None:
        on_error(PREFIX + loc, message)

    for entry in walk_dir(root, located):
        parts = entry.path.split("/")
        if len(parts) == 3 and parts[2] in served and parts[1] == parts[2][:2]:
            continue
        entry.path = PREFIX + entry.path
        yield entry
