"""An APFS volume's file-system tree read without a library: a snapshot's files, and a live volume
libfsapfs refuses (it cannot open a volume whose snapshot tree has more than one level).

The tree named by a volume superblock (`apfs_root_tree_oid`, a virtual B-tree) is read through the
volume's object map at the superblock's transaction: for a snapshot, the superblock kept at its
`sblock_oid` and the snapshot's xid, so the object map gives each node as it was then. One pass over
the tree gathers inodes, directory records, extents and the extended attributes needed (symbolic
link targets, compression); entries are then made as `apfs._entry` makes them from libfsapfs (same
paths, inode numbers, modes and times), so a snapshot's entries can be told from the live ones.

Not read here (the entry says so in `note`): the content of compressed files (decmpfs) and anything
of an encrypted volume (its tree nodes are encrypted: `Damaged`).
"""

from __future__ import annotations

import stat
import struct
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .apfs_btree import OBJECT_TYPE_FS, Blocks, Damaged, omap_lookup, walk
from .walk import MAX_DEPTH, Entry, _perm, time_converter

ROOT_DIR = 2
TYPE_INODE, TYPE_XATTR, TYPE_FILE_EXTENT, TYPE_DIR_REC = 3, 4, 8, 9
INCOMPAT_CASE_INSENSITIVE, INCOMPAT_NORM_INSENSITIVE = 0x1, 0x8
INO_EXT_TYPE_DSTREAM = 8
XATTR_DATA_EMBEDDED = 0x2
UF_COMPRESSED = 0x20
OBJ_ID_MASK = (1 << 60) - 1
MAX_RECORDS = 20_000_000
TYPES = {stat.S_IFREG: "r", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c", stat.S_IFBLK: "b",
         stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}
Warn = Callable[[str, str], None]


@dataclass
class Inode:
    private_id: int
    times: tuple[int, int, int, int]   # create, modify, change, access (ns since 1970)
    bsd_flags: int
    uid: int
    gid: int
    mode: int
    size: int


@dataclass
class Tree:
    """What one pass over a file-system tree gathered."""

    inodes: dict[int, Inode] = field(default_factory=dict)
    children: dict[int, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    extents: dict[int, list[tuple[int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    links: dict[int, str] = field(default_factory=dict)
    compressed: set[int] = field(default_factory=set)
    sizes: dict[int, int] = field(default_factory=dict)  # compressed files: the size their decmpfs header gives


def read_tree(blocks: Blocks, omap: int, sblock: int, xid: int, what: str) -> Tree:
    """Gather the tree of the volume superblock at block `sblock`, its nodes as of transaction `xid`."""
    sb = blocks.object(sblock, OBJECT_TYPE_FS, f"{what} volume superblock")
    incompat = struct.unpack_from("<Q", sb, 56)[0]
    hashed = bool(incompat & (INCOMPAT_CASE_INSENSITIVE | INCOMPAT_NORM_INSENSITIVE))
    root_oid = struct.unpack_from("<Q", sb, 136)[0]

    def resolve(oid: int) -> int:
        return omap_lookup(blocks, omap, oid, xid, what)

    tree = Tree()
    for count, (key, value) in enumerate(walk(blocks, resolve(root_oid), resolve, f"{what} file-system tree")):
        if count >= MAX_RECORDS:
            raise Damaged(f"{what}: more than {MAX_RECORDS:,} file-system records")
        if len(key) < 8:
            raise Damaged(f"{what}: a file-system record key of {len(key)} bytes")
        head = struct.unpack_from("<Q", key)[0]
        kind, oid = head >> 60, head & OBJ_ID_MASK
        try:
            _record(tree, kind, oid, key, value, hashed)
        except struct.error:
            raise Damaged(f"{what}: record of object {oid} (type {kind}) is cut short") from None
    return tree


def _record(tree: Tree, kind: int, oid: int, key: bytes, value: bytes, hashed: bool) -> None:
    if kind == TYPE_INODE:
        _parent, private, created, modified, changed, accessed = struct.unpack_from("<QQQQQQ", value)
        bsd_flags, uid, gid, mode, _pad, uncompressed = struct.unpack_from("<IIIHHQ", value, 68)
        size = uncompressed if bsd_flags & UF_COMPRESSED else _dstream_size(value[92:])
        tree.inodes[oid] = Inode(private, (created, modified, changed, accessed), bsd_flags, uid, gid, mode, size)
    elif kind == TYPE_DIR_REC:
        if hashed:
            length = struct.unpack_from("<I", key, 8)[0] & 0x3FF
            raw = key[12:12 + length]
        else:
            length = struct.unpack_from("<H", key, 8)[0]
            raw = key[10:10 + length]
        file_id = struct.unpack_from("<Q", value)[0]
        tree.children[oid].append((raw.split(b"\0", 1)[0].decode("utf-8", "replace"), file_id))
    elif kind == TYPE_FILE_EXTENT:
        logical = struct.unpack_from("<Q", key, 8)[0]
        length_flags, physical = struct.unpack_from("<QQ", value)
        tree.extents[oid].append((logical, length_flags & 0x00FFFFFFFFFFFFFF, physical))
    elif kind == TYPE_XATTR:
        length = struct.unpack_from("<H", key, 8)[0]
        name = key[10:10 + length].split(b"\0", 1)[0]
        flags, data_len = struct.unpack_from("<HH", value)
        if name == b"com.apple.fs.symlink" and flags & XATTR_DATA_EMBEDDED:
            tree.links[oid] = value[4:4 + data_len].split(b"\0", 1)[0].decode("utf-8", "replace")
        elif name == b"com.apple.decmpfs":
            tree.compressed.add(oid)
            if flags & XATTR_DATA_EMBEDDED and value[4:8] == b"fpmc":  # its header: the uncompressed size
                tree.sizes[oid] = struct.unpack_from("<Q", value, 12)[0]


def _dstream_size(xfields: bytes) -> int:
    """The size in the inode's data-stream extended field (0 when it has none)."""
    if len(xfields) < 4:
        return 0
    count = struct.unpack_from("<H", xfields)[0]
    data = 4 + 4 * count
    for i in range(count):
        x_type, _flags, size = struct.unpack_from("<BBH", xfields, 4 + 4 * i)
        if x_type == INO_EXT_TYPE_DSTREAM:
            return int(struct.unpack_from("<Q", xfields, data)[0])
        data += (size + 7) & ~7
    return 0


def entries(tree: Tree, blocks: Blocks, partition: int, tz: str, warn: Warn) -> Iterator[Entry]:
    """The tree's entries, depth first from the root directory, as `apfs._entry` makes them."""
    convert = time_converter("APFS", tz)
    seen = {ROOT_DIR}
    stack: list[tuple[int, str, int]] = [(ROOT_DIR, "/", 0)]
    while stack:
        directory, prefix, depth = stack.pop()
        subdirs = []
        for name, file_id in sorted(tree.children.get(directory, []), key=lambda c: c[0]):
            inode = tree.inodes.get(file_id)
            if inode is None:
                warn(prefix + name, f"directory record names object {file_id}, which has no inode")
                continue
            entry = _entry(tree, blocks, inode, file_id, partition, prefix + name, name, convert)
            yield entry
            if entry.type == "d":
                if file_id in seen:
                    warn(entry.path, f"directory {file_id} reached twice (a loop): not followed again")
                elif depth + 1 > MAX_DEPTH:
                    warn(entry.path, f"directory depth above {MAX_DEPTH}: not followed")
                else:
                    seen.add(file_id)
                    subdirs.append((file_id, entry.path + "/", depth + 1))
        stack.extend(reversed(subdirs))


def _entry(tree: Tree, blocks: Blocks, inode: Inode, file_id: int, partition: int, path: str, name: str,
           convert: Callable[[int, int], str | None]) -> Entry:
    kind = TYPES.get(stat.S_IFMT(inode.mode), "-")
    size = tree.sizes.get(file_id, inode.size)
    times = {key: convert(ns // 1_000_000_000, ns % 1_000_000_000)
             for key, ns in zip(("crtime", "mtime", "ctime", "atime"), inode.times)}
    content, note = None, None
    if kind == "r":
        if inode.bsd_flags & UF_COMPRESSED or file_id in tree.compressed:
            note = "compressed (decmpfs): its content is not read by Dalil's own APFS reader"
        else:
            content = Extents(blocks, sorted(tree.extents.get(inode.private_id, [])), size)
    return Entry(partition=partition, path=path, name=name, inode=file_id, attr="", stream=None, type=kind,
                 mode=f"{kind}/{kind}{_perm(inode.mode)}", uid=inode.uid, gid=inode.gid, size=size,
                 deleted=False, orphan=False, realloc=False, times=times,
                 link=tree.links.get(file_id) if kind == "l" else None, file=content, note=note)


class Extents:
    """`read_random` over a file's extents (a gap between them, or a block 0 extent, reads as zeros)."""

    def __init__(self, blocks: Blocks, extents: list[tuple[int, int, int]], size: int) -> None:
        self._blocks, self._extents, self._size = blocks, extents, size

    def read_random(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self._size)
        out = bytearray(max(0, end - offset))
        bs, limit = self._blocks.size, self._blocks.count * self._blocks.size
        for logical, span, physical in self._extents:
            lo, hi = max(offset, logical), min(end, logical + span)
            if lo >= hi or not physical:
                continue
            where = physical * bs + (lo - logical)
            if where + (hi - lo) > limit:
                raise Damaged(f"an extent at block {physical} runs past the container's end")
            data = self._blocks.read(where, hi - lo)
            if len(data) != hi - lo:
                raise Damaged(f"an extent at block {physical} is cut short")
            out[lo - offset:hi - offset] = data
        return bytes(out)
