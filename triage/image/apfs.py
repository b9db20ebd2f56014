"""APFS containers: each volume listed and walked through libfsapfs (pytsk3 has no pool API).

A volume's `partition` id is the image offset of its volume superblock (`APSB`), found as libtsk's
`pstat` finds it (through the container's object map, apfs_snapshots.py): `fls -P apfs -B <block>`
lists the same volume. Its row carries the volume's name and whether it is encrypted; an encrypted
volume is opened with `--password` or `--recovery-key`, else `locked`. Its snapshots (from the
on-disk snapshot tree: libfsapfs has no snapshot access) are views of their own (`snapshot` = name),
read by Dalil's own reader (apfs_fstree.py) when the volume is not encrypted. A volume libfsapfs
refuses (a snapshot tree of more than one level; a newest checkpoint that fails its checksum) is
read by that reader too, at the newest checkpoint that passes its checks.

Entries are made as `walk.walk_fs` makes them (`fls -r -p` paths, TSK-style mode strings, inode =
the file-system object id); contents are read through libfsapfs (decompressed, decrypted).
"""
from __future__ import annotations

import stat
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import apfs_fstree as fstree
from . import apfs_snapshots as snaps
from .apfs_btree import Damaged
from .apfs_snapshots import Snapshot
from .encryption import Read, Slice, VolumeKeys
from .walk import MAX_DEPTH, Entry, Volume, _perm, time_converter

NXSB = b"NXSB"
TYPES = {stat.S_IFREG: "r", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c", stat.S_IFBLK: "b",
         stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}
Warn = Callable[[str, str], None]
Walker = Callable[[str, Warn], Iterator[Entry]]


def is_container(read: Read) -> bool:
    try:
        return read(32, 4) == NXSB
    except (IOError, OSError, RuntimeError):
        return False


@dataclass
class ApfsVolume:
    vol: Volume
    status: str                    # parsed, locked, unreadable
    message: str
    entries: Callable[[str, Warn], Iterator[Entry]] | None
    key_kind: str | None = None
    warnings: list[str] = field(default_factory=list)  # its snapshot list is not whole: why
    views: list[tuple[Snapshot, Walker | None]] = field(default_factory=list)  # its snapshots, each with its
                                                   # own reader's walk (None: not readable here, e.g. encrypted)


@dataclass
class ApfsContainer:
    status: str                    # parsed (an unreadable container raises Damaged)
    message: str
    volumes: list[ApfsVolume]
    warnings: list[str] = field(default_factory=list)  # newer checkpoints passed over, and why


def volumes(read: Read, container: Volume, keys: VolumeKeys) -> ApfsContainer:
    """The container's volumes, each opened (unlocked with the keys given when encrypted) through
    libfsapfs, with its snapshots listed from the on-disk structures (apfs_snapshots.py). A volume
    libfsapfs refuses (or whose container it refuses) is read by Dalil's own reader when its
    superblocks pass their checks and it is not encrypted, else listed as `unreadable` with its
    snapshots. Raises `Damaged` when neither can read the container."""
    lock = threading.Lock()  # one container: its volumes' reads are serialised
    try:
        own: snaps.Container | None = snaps.open_container(_locked(read, lock), container.length)
        own_error = None
    except Damaged as exc:
        own, own_error = None, str(exc)
    infos = snaps.volumes(own) if own is not None else []
    skipped = f"; newer checkpoints passed over: {'; '.join(own.notes)}" if own is not None and own.notes else ""
    handle, fh, refused = _open_library(read, container.length)
    if handle is None and own is None:
        raise Damaged(f"{refused}; its own superblocks: {own_error}")
    count = int(handle.number_of_volumes) if handle is not None else len(infos)
    found = []
    for index in range(count):
        info = infos[index] if index < len(infos) else None
        found.append(_volume(handle, fh, index, info, own, container, keys, lock))
    gaps = [f"APFS container: newer checkpoint passed over: {note}" for note in own.notes] if own is not None else []
    if handle is None:
        return ApfsContainer("parsed", f"APFS container: {count} volume(s) read at checkpoint xid {own.xid if own else '?'} "
                             f"by Dalil's own reader (libfsapfs cannot open it: {refused}){skipped}", found, gaps)
    return ApfsContainer("parsed", f"APFS container: {count} volume(s)" + (f" (checkpoint xid {own.xid})" if own else "")
                         + skipped, found, gaps)


def _open_library(read: Read, length: int) -> tuple[Any, Slice, str | None]:
    import pyfsapfs

    fh = Slice(read, length)
    handle = pyfsapfs.container()
    try:
        handle.open_file_object(fh)
    except (IOError, OSError, RuntimeError) as exc:
        return None, fh, f"libfsapfs: {_gist(exc)}"
    return handle, fh, None


def _volume(handle: Any, fh: Slice, index: int, info: snaps.VolumeInfo | Damaged | None, own: snaps.Container | None,
            container: Volume, keys: VolumeKeys, lock: threading.Lock) -> ApfsVolume:
    where = info.block * own.blocks.size if isinstance(info, snaps.VolumeInfo) and own is not None else None
    apfs, refused = None, None
    if handle is not None:
        try:
            apfs = handle.get_volume(index)
        except (IOError, OSError, RuntimeError) as exc:
            refused = f"libfsapfs cannot open it ({_gist(exc)})"
    else:
        refused = "the container is not opened by libfsapfs"
    name = str(apfs.name) if apfs is not None else info.name if isinstance(info, snaps.VolumeInfo) else f"#{index}"
    encrypted = (apfs is not None and apfs.is_locked()) or (isinstance(info, snaps.VolumeInfo) and info.encrypted)
    vol = Volume(container.offset + where if where is not None else container.offset + index + 1,
                 container.length, f"apfs:{index}", f"APFS volume {name!r}", "apfs",
                 "apfs" if encrypted else None, parent=container.offset)
    message = f"APFS volume {name!r}"
    listed: list[Snapshot] = []
    warnings: list[str] = []
    if isinstance(info, snaps.VolumeInfo) and own is not None:
        listed, note = snaps.snapshots(own.blocks, info)
        listed = _unique(listed)
        if listed:
            message += (f", {len(listed)} snapshot(s) listed as rows of their own: {listed[0].name!r} (xid "
                        f"{listed[0].xid})" + (f" … {listed[-1].name!r} (xid {listed[-1].xid})" if len(listed) > 1 else ""))
        if note:
            message += f"; {note}"
            warnings.append(f"APFS volume {name!r}: {note}")
    elif isinstance(info, Damaged):
        message += f"; its snapshots cannot be listed: {info}"
        warnings.append(f"APFS volume {name!r}: its snapshots cannot be listed: {info}")
    readable = isinstance(info, snaps.VolumeInfo) and own is not None and not info.encrypted
    views: list[tuple[Snapshot, Walker | None]]
    if readable:
        assert isinstance(info, snaps.VolumeInfo) and own is not None
        views = [(snap, own_walker(own, info, snap.sblock, snap.xid, vol.offset, f"snapshot {snap.name!r}"))
                 for snap in listed]
    else:
        views = [(snap, None) for snap in listed]
    if apfs is None and readable:
        assert isinstance(info, snaps.VolumeInfo) and own is not None
        return ApfsVolume(vol, "parsed", f"{message}; read by Dalil's own APFS reader: {refused}",
                          own_walker(own, info, info.block, info.xid, vol.offset, f"volume {name!r}"), warnings=warnings,
                          views=views)
    if apfs is None:
        return ApfsVolume(vol, "unreadable", f"{message}; its files are not listed: {refused}", None, warnings=warnings,
                          views=views)
    kind = None
    if apfs.is_locked():
        kind = _unlock(apfs, keys)
        if kind is None:
            what = (f"the key given ({', '.join(keys.describe())}) does not open it" if keys.given
                    else "locked; to read it give --password or --recovery-key")
            return ApfsVolume(vol, "locked", f"{message}, encrypted: {what}", None, warnings=warnings, views=views)
        message += f", encrypted: opened with the {kind}"
        vol.key_kind = kind
    return ApfsVolume(vol, "parsed", message, _walker(apfs, vol.offset, lock, (handle, fh)), kind, warnings, views)


def own_walker(own: snaps.Container, info: snaps.VolumeInfo, sblock: int, xid: int, partition: int,
               what: str) -> Walker:
    """The entries of the file-system tree of the volume superblock at `sblock` as of `xid` (a snapshot,
    or a live volume libfsapfs refuses), read by apfs_fstree.py."""
    def entries(tz: str, warn: Warn) -> Iterator[Entry]:
        tree = fstree.read_tree(own.blocks, info.omap, sblock, xid, what)
        yield from fstree.entries(tree, own.blocks, partition, tz, warn)

    return entries


def _locked(read: Read, lock: threading.Lock) -> Read:
    def locked(offset: int, length: int) -> bytes:
        with lock:
            return read(offset, length)

    return locked


def _unique(found: list[Snapshot]) -> list[Snapshot]:
    """Snapshot names are unique in a volume; a damaged tree repeating one gets its xid added."""
    seen: set[str] = set()
    for snap in found:
        if snap.name in seen:
            snap.name = f"{snap.name} (xid {snap.xid})"
        seen.add(snap.name)
    return found


def _gist(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _unlock(apfs: Any, keys: VolumeKeys) -> str | None:
    for kind, value, setter in (("password", keys.password, "set_password"),
                                ("recovery-key", keys.recovery_key, "set_recovery_password")):
        if not value:
            continue
        getattr(apfs, setter)(value)
        try:
            if apfs.unlock():
                return kind
        except (IOError, OSError, RuntimeError):
            continue
    return None


def _walker(apfs: Any, partition: int, lock: threading.Lock, keep: Any) -> Callable[[str, Warn], Iterator[Entry]]:
    def entries(tz: str, warn: Warn) -> Iterator[Entry]:
        convert = time_converter("APFS", tz)
        with lock:
            root = apfs.get_root_directory()
        stack: list[tuple[Any, str, int]] = [(root, "/", 0)]
        while stack:
            directory, prefix, depth = stack.pop()
            try:
                with lock:
                    children = [directory.get_sub_file_entry(i) for i in range(directory.number_of_sub_file_entries)]
            except (IOError, OSError, RuntimeError) as exc:
                warn(prefix, f"directory listing cut short: {exc}")
                continue
            subdirs = []
            for child in children:
                try:
                    with lock:
                        entry, is_dir = _entry(child, partition, prefix, convert, lock, keep)
                except (IOError, OSError, RuntimeError) as exc:
                    warn(prefix, f"entry unreadable: {exc}")
                    continue
                yield entry
                if is_dir:
                    if depth + 1 > MAX_DEPTH:
                        warn(entry.path, f"directory depth above {MAX_DEPTH}: not followed")
                    else:
                        subdirs.append((child, entry.path + "/", depth + 1))
            stack.extend(reversed(subdirs))

    return entries


def _entry(f: Any, partition: int, prefix: str, convert: Callable[[int, int], str | None], lock: threading.Lock,
           keep: Any) -> tuple[Entry, bool]:
    name = str(f.name)
    mode = int(f.file_mode)
    kind = TYPES.get(stat.S_IFMT(mode), "-")
    times = {}
    # libfsapfs (through 20260921 at least) names the inode's first two times the other way round from
    # Apple's reference (create_time, then mod_time) and from TSK's istat: its "modification" time is
    # the creation time. Tested against istat (tests/image/test_apfs_images.py).
    for key, getter in (("crtime", f.get_modification_time_as_integer), ("atime", f.get_access_time_as_integer),
                        ("ctime", f.get_inode_change_time_as_integer), ("mtime", f.get_creation_time_as_integer)):
        ns = int(getter() or 0)
        times[key] = convert(ns // 1_000_000_000, ns % 1_000_000_000)
    link = str(f.symbolic_link_target) if kind == "l" and f.symbolic_link_target else None
    size = int(f.size or 0)
    entry = Entry(partition=partition, path=prefix + name, name=name, inode=int(f.identifier), attr="", stream=None,
                  type=kind, mode=f"{kind}/{kind}{_perm(mode)}", uid=int(f.owner_identifier),
                  gid=int(f.group_identifier), size=size, deleted=False, orphan=False, realloc=False, times=times,
                  link=link, file=_Content(f, lock, keep) if kind == "r" else None)
    return entry, kind == "d"


class _Content:
    """`read_random` over a libfsapfs file entry (as the engine reads a pytsk3 file)."""

    def __init__(self, f: Any, lock: threading.Lock, keep: Any) -> None:
        self._f, self._lock, self._keep = f, lock, keep

    def read_random(self, offset: int, length: int) -> bytes:
        with self._lock:
            data = self._f.read_buffer_at_offset(length, offset)
        return bytes(data)
