"""Logical extractions (phone dumps) given as a directory, a zip or a tar: entries like a file system's.

Nothing is extracted to disk; members are read through their archive. Member names are kept as
written (they are only data: `export` sanitises them), except that leading `/` and `./` prefixes
are dropped (`./.bashrc` is `/.bashrc`; `../up.txt` stays `/../up.txt`). Zip times are local
wall-clock: read in `--tz`.

Types are fls's letters: r regular, d directory, l symbolic link (target in `link`), p FIFO,
c/b character/block device, s socket, - unknown. In a folder, FIFOs, devices and sockets are never
opened and symbolic links never followed. Inside an archive a member's data is only bytes, so it is
read whatever type the member declares: every zip member with data (a symbolic link's data is also
its target), and a tar member of unknown type (which GNU tar extracts as a regular file; a warning
says so); tar symbolic links, devices and FIFOs have no data of their own. A tar hard link is type r
with the content of the member it names, which is also given in `link`.

Names are stored as text (see `name_text`): a name that is not valid UTF-8 keeps each byte that
does not decode as the four characters `\\xNN` (two lower-case hex digits), and a literal backslash
that is followed by `x` and two hex digits is itself written `\\x5c`. So every stored name maps back
to exactly one byte string (`name_bytes`): two different raw names never share a stored path, and
a name that contains the text `\\xff` is not confused with one that contains the byte 0xff. Files
are still opened by their real bytes. A zip name without the UTF-8 flag is read as UTF-8 where its
bytes are valid UTF-8 (as unzip does: many tools write UTF-8 without the flag), else as code page
437; a name flagged UTF-8 that is not keeps its bytes, with a warning, and the other members are
listed.
"""

from __future__ import annotations

import errno
import functools
import os
import posixpath
import re
import stat
import struct
import tarfile
import threading
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Literal
from zoneinfo import ZoneInfo

from ..core.errors import Corrupted, UsageError
from ..core.hashing import open_file_or_device, open_readonly
from .walk import Entry
from .zipnames import UTF8_FLAG, unflagged

_LITERAL_BACKSLASH = re.compile(r"\\(?=[xX][0-9a-fA-F]{2})")
_ESCAPE = re.compile(r"\\[xX]([0-9a-fA-F]{2})")
_KINDS = {stat.S_IFREG: "r", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFIFO: "p", stat.S_IFCHR: "c",
          stat.S_IFBLK: "b", stat.S_IFSOCK: "s"}
_TAR_KINDS = {tarfile.SYMTYPE: "l", tarfile.FIFOTYPE: "p", tarfile.CHRTYPE: "c", tarfile.BLKTYPE: "b"}
LINK_MAX = 4096  # bytes of a zip symbolic link's content read as its target


class MemberError(IOError):
    """A member's content could not be read (damaged archive, changed file)."""


def name_text(raw: bytes) -> str:
    """A raw name as stored text: valid UTF-8 as is, each undecodable byte as `\\xNN`, and a
    backslash that would read as such an escape as `\\x5c`. `name_bytes` reverses it exactly."""
    text = _LITERAL_BACKSLASH.sub(r"\\x5c", raw.decode("utf-8", "surrogateescape"))
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return "".join(f"\\x{ord(ch) - 0xDC00:02x}" if "\udc80" <= ch <= "\udcff" else ch for ch in text)


def name_bytes(text: str) -> bytes:
    """The raw name a stored `name_text` stands for."""
    out, pos = bytearray(), 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("utf-8") + bytes([int(m.group(1), 16)])
        pos = m.end()
    return bytes(out + text[pos:].encode("utf-8"))


def _text(name: str) -> str:
    """`name_text` of a name Python decoded with surrogateescape (os.walk, tarfile)."""
    try:
        return name_text(name.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte: shown by its code points
        return name_text(name.encode("utf-8", "surrogatepass"))


def member_path(name: str) -> str:
    """'/' + the member name without leading '/' and './' prefixes (and no trailing '/'); nothing else
    changes, so '../x' stays visible as '/../x'."""
    while True:
        if name.startswith("./"):
            name = name[2:]
        elif name.startswith("/"):
            name = name[1:]
        else:
            break
    if name == ".":
        name = ""
    return "/" + _text(name.rstrip("/"))


def iso_time(ts: float | None) -> str | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


class _Sequential:
    """Reads a member stream at increasing offsets, reopening it if asked to go back. Any failure of
    the archive library (bad CRC, corrupt deflate data, truncated archive) is a MemberError."""

    def __init__(self, opener: Callable[[], Any], size: int) -> None:
        self.opener = opener
        self.size = size
        self.stream: Any = None
        self.pos = 0
        self.lock = threading.Lock()

    def __call__(self, offset: int, length: int) -> bytes:
        with self.lock:
            try:
                return self._read(offset, length)
            except Exception as exc:
                self._drop()
                if isinstance(exc, MemberError):
                    raise
                raise MemberError(f"{type(exc).__name__}: {exc}") from exc

    def _read(self, offset: int, length: int) -> bytes:
        if self.stream is None or offset < self.pos:
            self._drop()
            self.stream, self.pos = self.opener(), 0
        while self.pos < offset:
            skipped = self.stream.read(min(offset - self.pos, 1 << 20))
            if not skipped:
                raise MemberError(f"member ends before offset {offset}")
            self.pos += len(skipped)
        data = self.stream.read(length)
        self.pos += len(data)
        if self.pos >= self.size:
            self._drop()
        return bytes(data)

    def _drop(self) -> None:
        if self.stream is not None:
            try:
                self.stream.close()
            except Exception:  # closing a damaged member must not hide why it failed
                pass
        self.stream = None


class Member:
    """Stands in for a pytsk3.File: `read_random(offset, length)`."""

    def __init__(self, opener: Callable[[], Any], size: int) -> None:
        self.reader = _Sequential(opener, size)

    def read_random(self, offset: int, length: int) -> bytes:
        return self.reader(offset, length)


def make_entry(path: str, size: int, kind: str, times: dict[str, str | None], member: Any,
           mode: int = 0o644, link: str | None = None) -> Entry:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    perm = "".join(ch if mode & bit else "-" for ch, bit in zip("rwxrwxrwx", (256, 128, 64, 32, 16, 8, 4, 2, 1)))
    return Entry(partition=0, path=path, name=name, inode=None, attr="", stream=None, type=kind,
                 mode=f"{kind}/{kind}{perm}", uid=None, gid=None, size=size, deleted=False, orphan=False,
                 realloc=False, times=times, file=member, link=link)


def _zip_kind(info: zipfile.ZipInfo) -> str:
    unix = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(unix):  # made on Unix: the mode says what it is
        return _KINDS.get(stat.S_IFMT(unix), "-")
    return "d" if info.is_dir() else "r"


def walk_zip(path: Path, tz: str, on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    zone = ZoneInfo(tz)
    fh = open_readonly(path)
    relabelled: set[int] = set()  # members flagged UTF-8 whose names are not: read unflagged
    try:
        try:
            archive = zipfile.ZipFile(fh)
        except UnicodeDecodeError:  # zipfile rejects the whole zip for one such name
            archive, relabelled = unflagged(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        fh.close()
        raise Corrupted(f"not a readable zip: {path.name} ({one_line(exc)})") from exc
    lock = threading.Lock()
    for index, info in enumerate(archive.infolist()):
        name = _zip_name(info, index in relabelled)
        if index in relabelled:
            on_error(name, "name flagged as UTF-8 but not UTF-8: its bytes are kept as stored text")
        try:
            when = datetime(*info.date_time, tzinfo=zone).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            when = None

        def opener(info: zipfile.ZipInfo = info) -> Any:
            with lock:
                return archive.open(info)

        kind = _zip_kind(info)
        mode = (info.external_attr >> 16) & 0o777 or 0o644
        link = _zip_link(opener, name, on_error) if kind == "l" else None
        # inside a zip a member's data is bytes whatever its declared type (unzip writes it out): a
        # FIFO, device or unknown mode must not hide it from hashing, scanning and export
        member = Member(opener, info.file_size) if kind == "r" or info.file_size > 0 else None
        yield make_entry(name, info.file_size, kind, {"mtime": when}, member, mode, link)


def _zip_name(info: zipfile.ZipInfo, relabelled: bool) -> str:
    """The member's path. A name without the UTF-8 flag is code page 437 by the standard, but
    macOS, Windows and other tools write UTF-8 names without setting it (unzip, 7-Zip and the
    archive tools of both systems read them as UTF-8): so its raw bytes are read as UTF-8 where they
    are valid UTF-8 (cp437 text that is also valid UTF-8 is rare: two or more accented or box
    characters in a row, in an exact lead/continuation pattern), else as cp437. A name flagged
    UTF-8 that is not keeps its bytes (`name_text`)."""
    if info.flag_bits & UTF8_FLAG:
        return member_path(info.filename)
    raw = info.orig_filename.encode("cp437").split(b"\0", 1)[0]  # zipfile ends names at a NUL too
    if relabelled:
        return member_path(raw.decode("utf-8", "surrogateescape"))
    try:
        return member_path(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return member_path(info.filename)


def _zip_link(opener: Callable[[], Any], name: str, on_error: Callable[[str, str], None]) -> str | None:
    """A zip symbolic link's target: its content."""
    try:
        with opener() as stream:
            return name_text(stream.read(LINK_MAX))
    except Exception as exc:  # a damaged member: the entry is still listed
        on_error(name, f"symbolic link target not readable: {one_line(exc)}")
        return None


_TarMode = Literal["r:gz", "r:bz2", "r:xz", "r:"]
_COMPRESSIONS: tuple[tuple[bytes, _TarMode, str], ...] = (
    (b"\x1f\x8b", "r:gz", "gzip"), (b"BZh", "r:bz2", "bzip2"), (b"\xfd7zXZ", "r:xz", "xz"))


def _tar_mode(path: Path) -> tuple[_TarMode, str]:
    """The tarfile mode for this file's compression and its name, so a failure names one cause
    (`r:*` would list every method it tried, on several lines)."""
    with open_readonly(path) as fh:
        head = fh.read(6)
    for magic, mode, what in _COMPRESSIONS:
        if head.startswith(magic):
            return mode, what
    return "r:", "as an uncompressed tar"


class _TarWalk:
    """A tar being listed. `lock` covers every use of the shared handle (moving on to the next
    member, reading a member's data): tarfile keeps one file position for both. Reads from the walking
    thread use that handle, where the walk has just left it (no seek back, which a compressed stream
    pays by decompressing again from the start); reads from any other thread (the engine streams
    large members in its own) get a private handle, so they never move the walk's."""

    def __init__(self, path: Path, mode: _TarMode, archive: tarfile.TarFile) -> None:
        self.path, self.mode, self.archive = path, mode, archive
        self.lock = threading.Lock()
        self.thread = threading.get_ident()

    def next(self) -> tarfile.TarInfo | None:
        with self.lock:
            return self.archive.next()

    def shared(self, member: tarfile.TarInfo, offset: int, length: int) -> bytes:
        with self.lock:
            try:
                stream = self.archive.extractfile(member)
                if stream is None:
                    raise MemberError("no content")
                stream.seek(offset)
                return stream.read(length)
            except MemberError:
                raise
            except Exception as exc:
                raise MemberError(f"{type(exc).__name__}: {exc}") from exc

    def private(self, member: tarfile.TarInfo) -> Any:
        """A stream of the member's data over a handle of its own (closed with the stream)."""
        fh = open_readonly(self.path)
        try:
            archive = tarfile.open(fileobj=fh, mode=self.mode, encoding="utf-8", errors="surrogateescape")
            stream = archive.extractfile(member)
            if stream is None:
                raise MemberError("no content")
        except BaseException:
            fh.close()
            raise
        return _Closing(stream, fh)

    def ended_early(self) -> str | None:
        """Why the listing stopped before the archive's end, or None. tarfile ends a listing at the
        first header it cannot read (a bad checksum after the first member) as at the end-of-archive
        zero blocks; GNU tar reports it. So whatever follows where tarfile stopped must be zeros."""
        with self.lock:
            fileobj = self.archive.fileobj
            assert fileobj is not None
            at = self.archive.offset
            try:
                fileobj.seek(at)
                block = fileobj.read(tarfile.BLOCKSIZE)
                if block.strip(b"\0"):
                    return _bad_header(block, at)
                pos = at + len(block)
                while True:
                    chunk = fileobj.read(1 << 20)
                    if not chunk:
                        return None
                    if chunk.strip(b"\0"):
                        pos += len(chunk) - len(chunk.lstrip(b"\0"))
                        return f"non-zero data at byte {pos} after the end-of-archive block"
                    pos += len(chunk)
            except Exception as exc:  # a damaged compressed stream after the last member
                return one_line(exc)


def _bad_header(block: bytes, at: int) -> str:
    if len(block) < tarfile.BLOCKSIZE:
        return f"the file ends inside the header at byte {at}"
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except Exception as exc:
        return f"unreadable header ({one_line(exc)})"
    return "unreadable header"


class _Closing:
    """A member stream that also closes the handle under it."""

    def __init__(self, stream: Any, fh: BinaryIO) -> None:
        self.stream, self.fh = stream, fh

    def read(self, length: int) -> bytes:
        return bytes(self.stream.read(length))

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            self.fh.close()


class _TarMember:
    """A tar member's data (stands in for a pytsk3.File): see `_TarWalk`."""

    def __init__(self, walk: _TarWalk, member: tarfile.TarInfo) -> None:
        self.walk, self.member = walk, member
        self.reader = _Sequential(functools.partial(walk.private, member), member.size)

    def read_random(self, offset: int, length: int) -> bytes:
        if threading.get_ident() == self.walk.thread:
            return self.walk.shared(self.member, offset, length)
        return self.reader(offset, length)


def walk_tar(path: Path, on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    mode, what = _tar_mode(path)
    fh = open_readonly(path)
    try:
        archive = tarfile.open(fileobj=fh, mode=mode, encoding="utf-8", errors="surrogateescape")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        fh.close()
        raise Corrupted(f"not a readable tar: {path.name} ({what}: {one_line(exc)})") from exc
    walk = _TarWalk(path, mode, archive)  # made when the listing starts, in the thread that lists
    regular: dict[str, tarfile.TarInfo] = {}  # members so far by normalised name: hard link targets
    listed = 0
    try:
        while (member := walk.next()) is not None:
            listed += 1
            yield _tar_entry(walk, member, regular, on_error)
    except Exception as exc:  # a truncated or damaged archive: what was listed is kept
        on_error(path.name, f"tar listing cut short: {one_line(exc)}")
        return
    why = walk.ended_early()
    if why is not None:
        on_error(path.name, f"tar listing cut short at member {listed + 1} / byte {archive.offset}: {why}")


def _tar_entry(walk: _TarWalk, member: tarfile.TarInfo, regular: dict[str, tarfile.TarInfo],
               on_error: Callable[[str, str], None]) -> Entry:
    name = member_path(member.name)
    times = {"mtime": iso_time(member.mtime)}
    if member.isdir():
        return make_entry(name, 0, "d", times, None, member.mode)
    if member.issym() or member.ischr() or member.isblk() or member.isfifo():  # no data of their own
        link = _text(member.linkname) if member.issym() else None
        return make_entry(name, 0, _TAR_KINDS[member.type], times, None, member.mode, link)
    target, link, kind = member, None, "r"
    if member.islnk():
        found = regular.get(_key(member.linkname))
        link = member_path(member.linkname)
        if found is None:
            on_error(name, f"hard link to {link}, which is not an earlier member: content not read")
            return make_entry(name, 0, "r", times, None, member.mode, link)
        target = found
    else:
        if not member.isreg():  # GNU tar (and tarfile) extract an unknown type as a regular file
            kind = "-"
            on_error(name, f"unknown tar member type {member.type!r}: its data is read as a regular file's")
        regular[_key(member.name)] = member
    return make_entry(name, target.size, kind, times, _TarMember(walk, target), member.mode, link)


def _key(name: str) -> str:
    """A tar member name as hard links name it: `a/b`, `./a/b` and `/a/b` are the same member."""
    return posixpath.normpath(name.lstrip("/"))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a file read-only only if it is (still) a regular file: never a FIFO or device (no
    hang), never through a symbolic link."""
    try:
        return open_file_or_device(path, devices=False, follow=False)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            raise MemberError("no longer a regular file") from exc
        raise


def walk_dir(root: Path, on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    root = root.resolve()
    def unlisted(exc: OSError) -> None:
        rel = os.path.relpath(exc.filename, root) if exc.filename else "."
        on_error("/" + (_text(rel) if rel != "." else ""), f"cannot list the folder: {exc.strerror}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath) / name
            rel = "/" + _text(str(full.relative_to(root)))
            try:
                st = full.lstat()
            except OSError as exc:
                on_error(rel, f"cannot stat: {exc.strerror}")
                continue
            times = {"mtime": iso_time(st.st_mtime), "atime": iso_time(st.st_atime), "ctime": iso_time(st.st_ctime)}
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "-")
            if kind == "r":
                member = Member(functools.partial(open_regular, full), st.st_size)
                yield make_entry(rel, st.st_size, kind, times, member, st.st_mode)
            elif kind == "l":
                yield make_entry(rel, st.st_size, kind, times, None, st.st_mode, _readlink(full, rel, on_error))
            else:
                yield make_entry(rel, 0, kind, times, None, st.st_mode)


def _readlink(full: Path, rel: str, on_error: Callable[[str, str], None]) -> str | None:
    try:
        return name_text(os.readlink(os.fsencode(full)))
    except OSError as exc:
        on_error(rel, f"cannot read the symbolic link: {exc.strerror}")
        return None


def kind_of(path: Path) -> str | None:
    """'directory', 'zip', 'tar' for a logical extraction, else None (a disk image). Anything but a
    regular file, a folder or a block device (a FIFO, a socket) is refused: opening it could hang."""
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    if stat.S_ISBLK(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        what = {"p": "a FIFO", "c": "a character device", "s": "a socket"}.get(_KINDS.get(stat.S_IFMT(st.st_mode), ""),
                                                                             "not a regular file")
        raise UsageError(f"{path} is {what}: give an image file, a block device, or an extraction folder/zip/tar")
    with open_readonly(path) as fh:
        head = fh.read(512)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) and ".tar" in path.name.lower() or path.suffix.lower() in (".tgz", ".tbz2", ".txz"):
        return "tar"
    return None


def one_line(exc: BaseException) -> str:
    """An error's message on one line (a stored warning, a run's error)."""
    return " ".join(str(exc).split()) or type(exc).__name__
