"""APFS containers: each volume listed and walked through libfsapfs (pytsk3 has no pool API).

A volume's `partition` id is the image offset of its volume superblock (`APSB`), found as libtsk's
`pstat` finds it (the container's object map, at its block 0 superblock): `fls -P apfs -B <block>`
lists the same volume. Its row carries the volume's name, its snapshot count and whether it is
encrypted; an encrypted volume is opened with `--password` or `--recovery-key`, else `locked`.
Snapshots are counted, not walked: libfsapfs has no snapshot access.

Entries are made as `walk.walk_fs` makes them (`fls -r -p` paths, TSK-style mode strings, inode =
the file-system object id); contents are read through libfsapfs (decompressed, decrypted).
"""

from __future__ import annotations

import stat
import struct
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .encryption import Read, Slice, VolumeKeys
from .walk import MAX_DEPTH, Entry, Volume, _perm, time_converter

NXSB = b"NXSB"
APSB = b"APSB"
FS_UNENCRYPTED = 0x1
TYPES = {stat.S_IFREG: "r", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c", stat.S_IFBLK: "b",
         stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}
Warn = Callable[[str, str], None]


def is_container(read: Read) -> bool:
    try:
        return read(32, 4) == NXSB
    except (IOError, OSError, RuntimeError):
        return False


@dataclass
class ApfsVolume:
    vol: Volume
    status: str                    # parsed, locked
    message: str
    entries: Callable[[str, Warn], Iterator[Entry]] | None
    key_kind: str | None = None


def volumes(read: Read, container: Volume, keys: VolumeKeys) -> list[ApfsVolume]:
    """The container's volumes, each opened (unlocked with the keys given when encrypted)."""
    import pyfsapfs

    fh = Slice(read, container.length)
    handle = pyfsapfs.container()
    handle.open_file_object(fh)
    lock = threading.Lock()  # one container: its volumes' reads are serialised
    superblocks = _volume_superblocks(read)
    found = []
    for index in range(handle.number_of_volumes):
        apfs = handle.get_volume(index)
        where = superblocks[index] if index < len(superblocks) else None
        info = _apsb(read, where) if where is not None else {}
        name = str(apfs.name)
        encrypted = apfs.is_locked() or info.get("encrypted", False)
        vol = Volume(container.offset + where if where is not None else container.offset + index + 1,
                     container.length, f"apfs:{index}", f"APFS volume {name!r}", "apfs",
                     "apfs" if encrypted else None, parent=container.offset)
        snaps = info.get("snapshots")
        message = f"APFS volume {name!r}" + (f", {snaps} snapshot(s) (counted, not read)" if snaps else "")
        kind = None
        if apfs.is_locked():
            kind = _unlock(apfs, keys)
            if kind is None:
                what = (f"the key given ({', '.join(keys.describe())}) does not open it" if keys.given
                        else "locked; to read it give --password or --recovery-key")
                found.append(ApfsVolume(vol, "locked", f"{message}, encrypted: {what}", None))
                continue
            message += f", encrypted: opened with the {kind}"
            vol.key_kind = kind
        found.append(ApfsVolume(vol, "parsed", message, _walker(apfs, vol.offset, lock, (handle, fh)), kind))
    return found


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
    for key, getter in (("mtime", f.get_modification_time_as_integer), ("atime", f.get_access_time_as_integer),
                        ("ctime", f.get_inode_change_time_as_integer), ("crtime", f.get_creation_time_as_integer)):
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


def _volume_superblocks(read: Read) -> list[int]:
    """Byte offsets (in the container) of its volume superblocks, in fs_oid order, via the object map."""
    try:
        nx = read(0, 4096)
        block = struct.unpack_from("<I", nx, 36)[0]
        if nx[32:36] != NXSB or block < 4096 or block > 65536:
            return []
        omap = read(struct.unpack_from("<Q", nx, 160)[0] * block, block)
        tree = struct.unpack_from("<Q", omap, 48)[0]
        xid = struct.unpack_from("<Q", nx, 16)[0]
        out: list[int] = []
        for i in range(min(struct.unpack_from("<I", nx, 180)[0], 100)):
            oid = struct.unpack_from("<Q", nx, 184 + 8 * i)[0]
            if not oid:
                continue
            paddr = _omap_lookup(read, block, tree, oid, xid)
            if paddr is None:
                return out
            out.append(paddr * block)
        return out
    except (IOError, OSError, RuntimeError, struct.error):
        return []


def _omap_lookup(read: Read, block: int, node_addr: int, oid: int, xid: int, depth: int = 0) -> int | None:
    """The physical block of virtual object `oid` (newest version at or before `xid`) in an object map
    B-tree (fixed-size keys: oid, xid; values: flags, size, paddr; child nodes by physical address)."""
    if depth > 8:
        return None
    node = read(node_addr * block, block)
    flags, level, nkeys = struct.unpack_from("<HHI", node, 32)
    toc_off, toc_len = struct.unpack_from("<HH", node, 40)
    keys_start = 56 + toc_off + toc_len
    vals_end = block - (40 if flags & 0x1 else 0)
    best = None
    for i in range(nkeys):
        k, v = struct.unpack_from("<HH", node, 56 + toc_off + 4 * i)
        k_oid, k_xid = struct.unpack_from("<QQ", node, keys_start + k)
        if (k_oid, k_xid) <= (oid, xid):
            best = (k_oid, k_xid, vals_end - v)
    if best is None:
        return None
    if level > 0:
        return _omap_lookup(read, block, struct.unpack_from("<Q", node, best[2])[0], oid, xid, depth + 1)
    if best[0] != oid:
        return None
    return int(struct.unpack_from("<Q", node, best[2] + 8)[0])


def _apsb(read: Read, offset: int) -> dict[str, Any]:
    try:
        sb = read(offset, 1024)
    except (IOError, OSError, RuntimeError):
        return {}
    if sb[32:36] != APSB:
        return {}
    return {"snapshots": struct.unpack_from("<Q", sb, 216)[0],
            "encrypted": not struct.unpack_from("<Q", sb, 264)[0] & FS_UNENCRYPTED}
