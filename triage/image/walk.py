"""Volume systems and file-system walks with pytsk3, listing what `fls -r -p` lists.

`volumes()` reads MBR (with extended partitions) or GPT, else treats the whole image as one
file system at offset 0. `walk_fs()` yields one `Entry` per name (and per NTFS data stream):
deleted and orphan files included, the self/parent *directory entries* skipped (a regular file
named `..` is kept), directory loops cut by remembering visited inodes and capping the depth.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

import pytsk3

MAX_DEPTH = 256
NAME_TYPES = "-pcdbrlshwvV"
META_TYPES = "-rdpcblhswvV"
FS_NAMES = {
    pytsk3.TSK_FS_TYPE_NTFS: "NTFS", pytsk3.TSK_FS_TYPE_FAT12: "FAT12", pytsk3.TSK_FS_TYPE_FAT16: "FAT16",
    pytsk3.TSK_FS_TYPE_FAT32: "FAT32", pytsk3.TSK_FS_TYPE_EXFAT: "exFAT", pytsk3.TSK_FS_TYPE_EXT2: "ext2",
    pytsk3.TSK_FS_TYPE_EXT3: "ext3", pytsk3.TSK_FS_TYPE_EXT4: "ext4", pytsk3.TSK_FS_TYPE_HFS: "HFS+",
    pytsk3.TSK_FS_TYPE_ISO9660: "ISO9660", pytsk3.TSK_FS_TYPE_FFS1: "UFS1", pytsk3.TSK_FS_TYPE_FFS1B: "UFS1b",
    pytsk3.TSK_FS_TYPE_FFS2: "UFS2", pytsk3.TSK_FS_TYPE_YAFFS2: "YAFFS2",
}
LOCAL_TIME_FS = {"FAT12", "FAT16", "FAT32", "exFAT"}
_NAME_UNALLOC = int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
_META_UNALLOC = int(pytsk3.TSK_FS_META_FLAG_UNALLOC)
NTFS_DATA = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
NTFS_IDXROOT = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_IDXROOT)
NTFS_FNAME = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_FNAME)
_FILETIME_1970 = 116444736000000000  # 100 ns ticks from 1601 to 1970


@dataclass
class Volume:
    """A partition (or the whole image when there is no volume system)."""

    offset: int
    length: int
    slot: str | None
    description: str
    scheme: str = "none"            # how it was found: mbr, gpt, lvm, apfs, vss, … ("none": no volume system)
    encrypted: str | None = None    # bitlocker, luks, filevault, apfs, unknown-high-entropy; None: not seen
    snapshot: str | None = None     # the shadow-copy store or APFS snapshot this is a view of; None: live
    parent: int | None = None       # `offset` (partition id) of the layer it lies in, e.g. an LVM PV
    key_kind: str | None = None     # the kind of key it was read with (password, recovery-key, key-file), itself or
                                    # the encrypted layer it lies in; None: no key needed


@dataclass
class Entry:
    """One listed name: metadata plus how to read its content."""

    partition: int
    path: str
    name: str
    inode: int | None
    attr: str
    stream: str | None
    type: str
    mode: str
    uid: int | None
    gid: int | None
    size: int
    deleted: bool
    orphan: bool
    realloc: bool
    times: dict[str, str | None] = field(default_factory=dict)
    link: str | None = None     # symbolic link target
    file: Any = None            # pytsk3.File with content, or None
    attr_type: int | None = None
    attr_id: int | None = None
    note: str | None = None     # why the content is not read, where that is by design
    fn: dict[str, Any] | None = None  # NTFS $FILE_NAME times (see _file_name), on a file's first entry
    snapshot: str | None = None  # the view it was listed in (a shadow-copy store, an APFS snapshot); None: live
    carved: bool = False         # found by carving: its content is `carved_length` bytes at `carved_offset`
    carved_offset: int | None = None
    carved_length: int | None = None

    @property
    def has_content(self) -> bool:
        return self.file is not None and self.size > 0

    def read(self, offset: int, length: int) -> bytes:
        """Read `length` bytes at `offset` of this stream (length below 2**31)."""
        if self.attr_type is not None:
            return self.file.read_random(offset, length, self.attr_type, self.attr_id)
        return self.file.read_random(offset, length)


def volumes(img: pytsk3.Img_Info, size: int) -> tuple[str, list[Volume]]:
    """The allocated partitions of the image, or the whole image when there is no table."""
    try:
        vs = pytsk3.Volume_Info(img)
    except (IOError, OSError, RuntimeError):
        return "none", [Volume(0, size, None, "no volume system", "none")]
    block = vs.info.block_size
    vs_type = {int(pytsk3.TSK_VS_TYPE_DOS): "MBR", int(pytsk3.TSK_VS_TYPE_GPT): "GPT",
               int(pytsk3.TSK_VS_TYPE_MAC): "Mac", int(pytsk3.TSK_VS_TYPE_BSD): "BSD",
               int(pytsk3.TSK_VS_TYPE_SUN): "Sun"}.get(int(vs.info.vstype), str(vs.info.vstype))
    found = []
    for part in vs:
        if not int(part.flags) & int(pytsk3.TSK_VS_PART_FLAG_ALLOC):
            continue
        desc = part.desc.decode("utf-8", "replace") if isinstance(part.desc, bytes) else str(part.desc)
        found.append(Volume(part.start * block, part.len * block, f"{max(part.table_num, 0):03d}:{part.slot_num:03d}",
                            desc, vs_type.lower()))
    if not found:
        return vs_type, [Volume(0, size, None, "no allocated partition", vs_type.lower())]
    return vs_type, found


def fs_name(fs: pytsk3.FS_Info) -> str:
    return FS_NAMES.get(fs.info.ftype, f"type {int(fs.info.ftype)}")


TIME_CACHE = 100_000  # converted times remembered (then forgotten at once): bounded memory
_UNSEEN: Any = object()


def time_converter(fs_type: str, tz: str) -> Callable[[int, int], str | None]:
    """Seconds (+ nanoseconds) from TSK to RFC 3339 UTC; FAT/exFAT wall-clock times read in `tz`.

    libtsk turns FAT's local wall-clock time into seconds with the process's local zone; that wall
    time is recovered and re-read in the examiner's `--tz` zone.
    """
    zone = ZoneInfo(tz)
    local = fs_type in LOCAL_TIME_FS
    days: dict[int, str] = {}  # day number -> "YYYY-MM-DDT": files of one volume share few days
    seen: dict[tuple[int, int], str | None] = {}  # its text: many files share a time (an install, a copy)

    def convert(sec: int, nano: int) -> str | None:
        key = (sec, nano)
        text = seen.get(key, _UNSEEN)
        if text is _UNSEEN:
            if len(seen) >= TIME_CACHE:
                seen.clear()
            text = seen[key] = _convert(sec, nano)
        return text  # type: ignore[return-value]

    def _convert(sec: int, nano: int) -> str | None:
        if not sec:  # no time: e.g. $MFT's $STANDARD_INFORMATION as mkntfs writes it (0); Debian's fls
            return None  # 4.11 prints 2076-11-29 08:54:34 there, the unsigned wrap of 1601 in its conversion
        try:
            if not local and 0 < sec < 253402300800:
                day, rest = divmod(sec, 86400)
                date = days.get(day)
                if date is None:
                    date = days[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
                text = f"{date}{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
                return (text + f".{nano:09d}".rstrip("0") if nano else text) + "Z"
            if local:
                wall = datetime.fromtimestamp(sec)
                moment = wall.replace(tzinfo=zone).astimezone(timezone.utc)
            else:
                moment = datetime.fromtimestamp(sec, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if nano:
            text += f".{nano:09d}".rstrip("0")
        return text + "Z"

    return convert


_SPECIAL = {6: (0o4000, "s"), 3: (0o2000, "s"), 0: (0o1000, "t")}  # setuid, setgid, sticky: in x's place


@functools.lru_cache(maxsize=4096)  # files share a few modes (rw-r--r--, rwxr-xr-x)
def _perm(mode: int) -> str:
    """`rwxr-xr-x` as TSK writes it: a setuid, setgid or sticky bit in the owner's, group's or others'
    x place (`s`/`t` over x, `S`/`T` without x): `rwsr-xr-x`, `rwxrwxrwt`."""
    bits = ""
    for who in (6, 3, 0):
        r, w, x = (mode >> who) & 4, (mode >> who) & 2, (mode >> who) & 1
        flag, letter = _SPECIAL[who]
        exe = (letter if x else letter.upper()) if mode & flag else ("x" if x else "-")
        bits += ("r" if r else "-") + ("w" if w else "-") + exe
    return bits


def _streams(f: Any, fs_type: str, is_dir: bool
             ) -> tuple[list[tuple[int | None, int | None, str | None, int]], list[tuple[int, int]]]:
    """(attr type, attr id, stream name, size) as fls prints them, one default entry elsewhere; and
    on NTFS the (id, size) of each $FILE_NAME attribute."""
    meta = f.info.meta
    if fs_type != "NTFS" or meta is None:
        return [(None, None, None, int(meta.size) if meta is not None else 0)], []
    out: list[tuple[int | None, int | None, str | None, int]] = []
    fname: list[tuple[int, int]] = []
    for attr in f:
        info = attr.info
        kind = int(info.type)
        if kind == NTFS_FNAME:
            fname.append((int(info.id), int(info.size)))
            continue
        if kind not in (NTFS_DATA, NTFS_IDXROOT):
            continue
        name = info.name.decode("utf-8", "replace") if isinstance(info.name, bytes) else (info.name or "")
        if kind == NTFS_IDXROOT and name == "$I30":  # a folder: its index root, as `fls -m` lists it
            out.append((kind, int(info.id), None, int(info.size)))
            continue
        stream = None if name in ("", "$Data") else name
        out.append((kind, int(info.id), stream, int(info.size)))
    return out or [(None, None, None, int(meta.size))], fname


def _file_name(f: Any, fname: list[tuple[int, int]], name: str, convert: Callable[[int, int], str | None]
               ) -> dict[str, Any] | None:
    """The MACB times of NTFS's $FILE_NAME attribute, as `fls -m` prints them in its `($FILE_NAME)`
    lines. Windows sets them when the file is created or moved and tools that fake times rarely
    touch them: a $STANDARD_INFORMATION time older than these is a sign of backdating. Of several
    (a DOS 8.3 name, hard links) the one holding this entry's name; none when none does (another
    name's times would be wrong here)."""
    chosen = None
    for attr_id, size in fname:
        try:
            data = f.read_random(0, size, NTFS_FNAME, attr_id)
        except (IOError, OSError, RuntimeError):
            continue
        if len(data) < 66:
            continue
        if len(fname) == 1 or data[66:66 + 2 * data[64]].decode("utf-16-le", "replace") == name:
            chosen = (attr_id, size, data)
            break
    if chosen is None:
        return None
    attr_id, size, data = chosen
    out: dict[str, Any] = {"attr": f"{NTFS_FNAME}-{attr_id}", "size": size}
    for key, at in (("crtime", 8), ("mtime", 16), ("ctime", 24), ("atime", 32)):
        ticks = int.from_bytes(data[at:at + 8], "little") - _FILETIME_1970
        out[key] = convert(ticks // 10_000_000, ticks % 10_000_000 * 100) if ticks > -_FILETIME_1970 else None
    return out


# NTFS's bad-cluster map: a sparse stream as long as the volume, with no data runs unless clusters
# were marked bad; TSK reads nothing from it (icat gives 0 bytes), so reading it only made a warning
BAD_CLUSTER_MAP = "NTFS bad-cluster map ($BadClus:$Bad): a sparse stream the size of the volume, not read"


VIRTUAL_FILE = "TSK virtual file (file-system metadata such as $MBR or $FAT1, made up by TSK): not read"


def walk_fs(fs: pytsk3.FS_Info, partition: int, tz: str,
            on_error: Callable[[str, str], None]) -> Iterator[Entry]:
    """Every name in the file system, depth first, as `fls -r -p` lists them."""
    fs_type = fs_name(fs)
    convert = time_converter(fs_type, tz)
    visited: set[int] = set()
    root = int(fs.info.root_inum)
    stack: list[tuple[int, str, int, int]] = [(root, "/", 0, root)]
    visited.add(root)
    while stack:
        addr, prefix, depth, parent = stack.pop()
        try:
            directory = fs.open_dir(inode=addr)
        except (IOError, OSError, RuntimeError) as exc:
            on_error(prefix, f"cannot open directory: {exc}")
            continue
        subdirs: list[tuple[int, str, int, int]] = []
        try:
            for f in directory:
                if prefix == ORPHANS:
                    f = _with_meta(fs, f)
                entries, sub = _describe(f, fs_type, partition, prefix, addr, parent, convert)
                yield from entries
                if sub is not None:
                    if sub[0] in visited:
                        continue
                    if depth + 1 > MAX_DEPTH:
                        on_error(sub[1], f"directory depth above {MAX_DEPTH}: not followed")
                        continue
                    visited.add(sub[0])
                    subdirs.append((sub[0], sub[1] + "/", depth + 1, addr))
        except (IOError, OSError, RuntimeError, ValueError) as exc:
            on_error(prefix, f"directory listing cut short: {exc}")
        stack.extend(reversed(subdirs))


ORPHANS = "/$OrphanFiles/"


def _with_meta(fs: pytsk3.FS_Info, f: Any) -> Any:
    """An entry of TSK's virtual `$OrphanFiles` folder (they come without metadata) opened by its
    inode, as `fls` and `icat` do: an orphan keeps its size, times and recoverable content. Only
    there: elsewhere a name without metadata is one whose inode TSK found reused (its sequence
    number differs), and the inode's metadata belongs to another file."""
    info = f.info
    if info.meta is not None:
        return f
    addr = int(info.name.meta_addr)
    if not addr:
        return f
    try:
        opened = fs.open_meta(inode=addr)
    except (IOError, OSError, RuntimeError):
        return f
    if opened.info.meta is None:
        return f
    return _Named(opened, info.name)


class _Named:
    """A file opened by inode, carrying the directory entry's name (TSK gives it none)."""

    def __init__(self, opened: Any, name: Any) -> None:
        self._opened = opened
        self.info = _Info(name, opened.info.meta)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._opened, attr)

    def __iter__(self) -> Any:
        return iter(self._opened)


class _Info:
    def __init__(self, name: Any, meta: Any) -> None:
        self.name = name
        self.meta = meta


def numbered(entries: Iterable[Entry]) -> Iterator[Entry]:
    """The entries, a listing key met again (a name listed twice, as damaged or logical sources
    can) given an `#n` suffix on its attr: parse stores, and export matches, each one apart."""
    count: dict[tuple[int, str, int | None, str], int] = {}
    for entry in entries:
        key = (entry.partition, entry.path, entry.inode, entry.attr)
        n = count.get(key, 0) + 1
        count[key] = n
        if n > 1:  # the second is `#2`, the third `#3`: one lookup each, however many there are
            entry.attr = f"{entry.attr}#{n}"
        yield entry


def _link(meta: Any) -> str | None:
    if meta is None or int(meta.type) != 6 or not meta.link:
        return None
    raw = meta.link
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _describe(f: Any, fs_type: str, partition: int, prefix: str, dir_addr: int, parent: int,
              convert: Callable[[int, int], str | None]) -> tuple[list[Entry], tuple[int, str] | None]:
    info = f.info
    name_info, meta = info.name, info.meta
    raw = name_info.name
    name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    name_addr = int(name_info.meta_addr)
    name_type = int(name_info.type)  # each attribute read through pytsk3 costs: read once
    meta_type = int(meta.type) if meta is not None else 0
    is_dir = (meta is not None and meta_type in (2, 11)) or (meta_type == 0 and name_type in (3, 11))
    if name in (".", "..") and is_dir and (name_addr in (dir_addr, parent) or (name == ".." and prefix == "/")):
        return [], None
    name_unalloc = bool(int(name_info.flags) & _NAME_UNALLOC)
    meta_unalloc = meta is not None and bool(int(meta.flags) & _META_UNALLOC)
    deleted = name_unalloc or meta_unalloc
    realloc = name_unalloc and meta is not None and not meta_unalloc
    path = prefix + name
    ntype = NAME_TYPES[name_type] if name_type < len(NAME_TYPES) else "-"
    mtype = META_TYPES[meta_type] if meta is not None and meta_type < len(META_TYPES) else "-"
    mode = f"{ntype}/{mtype}{_perm(int(meta.mode)) if meta is not None else '---------'}"
    times: dict[str, str | None] = {}
    if meta is not None:
        times = {"mtime": convert(meta.mtime, meta.mtime_nano), "atime": convert(meta.atime, meta.atime_nano),
                 "ctime": convert(meta.ctime, meta.ctime_nano), "crtime": convert(meta.crtime, meta.crtime_nano)}
    regular = meta is not None and meta_type == 1
    entries: list[Entry] = []
    streams, fname = _streams(f, fs_type, is_dir)
    fn = _file_name(f, fname, name, convert)
    for attr_type, attr_id, stream, size in streams:
        readable = (regular or attr_type is not None) and not realloc \
            and not (attr_type == NTFS_IDXROOT and stream is None)  # a folder's index: listed, not read
        note = None
        if fs_type == "NTFS" and path == "/$BadClus" and stream == "$Bad":
            readable, note = False, BAD_CLUSTER_MAP
        elif not readable and mtype in ("v", "V"):
            note = VIRTUAL_FILE
        entries.append(Entry(
            partition=partition, path=path + (f":{stream}" if stream else ""), name=name, inode=name_addr,
            attr=f"{attr_type}-{attr_id}" if attr_type is not None else "", stream=stream,
            type=ntype if stream is None else "r", mode=mode,
            uid=int(meta.uid) if meta is not None else None, gid=int(meta.gid) if meta is not None else None,
            size=size, deleted=deleted, orphan=prefix.startswith(ORPHANS), realloc=realloc,
            times=times, file=f if readable else None, attr_type=attr_type, attr_id=attr_id,
            link=_link(meta), note=note, fn=None if entries else fn,
        ))
    # a "." or ".." folder entry that is not the folder or its parent (a damaged or crafted directory) is
    # listed, never entered: `fls` does not enter it either, and its paths would read `/a/../b`
    dots = name in (".", "..")
    sub = (int(meta.addr) if meta is not None else name_addr, path) if is_dir and name_addr and not dots else None
    return entries, sub
