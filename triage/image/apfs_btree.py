"""APFS on-disk objects read without a library: checksummed blocks, B-trees and object maps.

Layouts from Apple's "Apple File System Reference" (obj_phys_t, btree_node_phys_t, omap_phys_t,
nx_superblock_t). Everything read is hostile input: each object's Fletcher-64 checksum, type and
address are checked, every offset is bounded by its block, trees are walked with a depth cap and a
set of nodes already seen (a node pointing back at an ancestor is a loop, not a stack overflow).
A damaged structure raises `Damaged` with one line saying what and where.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, field
from typing import Callable, Iterator

Read = Callable[[int, int], bytes]

NXSB = b"NXSB"
APSB = b"APSB"
MIN_BLOCK, MAX_BLOCK = 4096, 65536
MAX_DEPTH = 16              # B-tree levels: a real tree of billions of records has fewer than 10
MAX_NODES = 2_000_000       # nodes one walk reads before it gives up (a loop made of distinct nodes)
BTNODE_ROOT, BTNODE_LEAF, BTNODE_FIXED = 0x1, 0x2, 0x4
INFO_SIZE = 40              # btree_info_t at the end of a root node
OBJ_TYPE_MASK = 0x0000FFFF
OBJECT_TYPE_NX_SUPERBLOCK, OBJECT_TYPE_BTREE, OBJECT_TYPE_BTREE_NODE = 0x1, 0x2, 0x3
OBJECT_TYPE_OMAP, OBJECT_TYPE_FS = 0xB, 0xD
OBJ_PHYSICAL = 0x40000000
OMAP_VAL_DELETED = 0x1
_MOD = 0xFFFFFFFF
CACHE_BLOCKS = 4096         # checked nodes kept (16 MiB of 4 KiB blocks)


class Damaged(Exception):
    """An APFS structure that fails its checks: the message says which and where, in one line."""


def fletcher64(block: bytes) -> int:
    """The checksum APFS stores in an object's first 8 bytes, computed over the rest of the block."""
    words = struct.unpack_from(f"<{(len(block) - 8) // 4}I", block, 8)
    n = len(words)
    sum1 = sum(words) % _MOD
    sum2 = sum((n - i) * w for i, w in enumerate(words)) % _MOD
    c1 = _MOD - ((sum1 + sum2) % _MOD)
    c2 = _MOD - ((sum1 + c1) % _MOD)
    return (c2 << 32) | c1


def checksum_ok(block: bytes) -> bool:
    return len(block) >= 64 and struct.unpack_from("<Q", block, 0)[0] == fletcher64(block)


@dataclass
class Blocks:
    """A container's blocks, each object read whole and checked before it is used."""

    read: Read
    size: int           # block size
    count: int          # blocks in the container
    _cache: dict[int, bytes] = field(default_factory=dict, repr=False)
    _omap: dict[int, tuple[int, list[tuple[int, int]], list[bytes]]] = field(default_factory=dict, repr=False)

    def raw(self, paddr: int) -> bytes:
        if not 0 <= paddr < self.count:
            raise Damaged(f"block {paddr} is outside the container ({self.count} blocks)")
        try:
            data = self.read(paddr * self.size, self.size)
        except (IOError, OSError, RuntimeError) as exc:
            raise Damaged(f"block {paddr} cannot be read ({exc})") from None
        if len(data) != self.size:
            raise Damaged(f"block {paddr} is cut short ({len(data)} of {self.size} bytes)")
        return data

    def node(self, paddr: int, where: str) -> bytes:
        """A B-tree node (or object map) block whose checksum passed, cached: the nodes near a tree's
        root are read again for every lookup and every snapshot."""
        data = self._cache.get(paddr)
        if data is None:
            data = self.raw(paddr)
            if not checksum_ok(data):
                raise Damaged(f"{where} fails its checksum")
            if len(self._cache) >= CACHE_BLOCKS:
                self._cache.clear()
            self._cache[paddr] = data
        return data

    def object(self, paddr: int, kind: int, what: str) -> bytes:
        """The object at physical block `paddr`, checked: checksum and type (`OBJECT_TYPE_*`)."""
        data = self.raw(paddr)
        if not checksum_ok(data):
            raise Damaged(f"{what} at block {paddr} fails its checksum")
        found = struct.unpack_from("<I", data, 24)[0] & OBJ_TYPE_MASK
        if found != kind:
            raise Damaged(f"{what} at block {paddr} is an object of type {found:#x}, not {kind:#x}")
        return data


def node_records(node: bytes, fixed: tuple[int, int] | None, where: str) -> tuple[int, int, list[tuple[bytes, bytes]]]:
    """(flags, level, [(key, value), …]) of a B-tree node; `fixed` = (key size, value size) of a tree
    with fixed-size records (a non-leaf node's values are then child object ids, 8 bytes)."""
    size = len(node)
    flags, level, nkeys = struct.unpack_from("<HHI", node, 32)
    toc_off, toc_len = struct.unpack_from("<HH", node, 40)
    keys_start = 56 + toc_off + toc_len
    vals_end = size - (INFO_SIZE if flags & BTNODE_ROOT else 0)
    is_fixed = bool(flags & BTNODE_FIXED)
    entry = 4 if is_fixed else 8
    if keys_start > vals_end or nkeys * entry > toc_len or bool(level == 0) != bool(flags & BTNODE_LEAF):
        raise Damaged(f"{where}: B-tree node header out of bounds ({nkeys} keys, table {toc_len} bytes)")
    if is_fixed and fixed is None:
        raise Damaged(f"{where}: a fixed-size record node in a tree of variable-size records")
    out = []
    for i in range(nkeys):
        at = 56 + toc_off + entry * i
        if is_fixed:
            assert fixed is not None
            k_off, v_off = struct.unpack_from("<HH", node, at)
            k_len, v_len = fixed[0], (fixed[1] if level == 0 else 8)
        else:
            k_off, k_len, v_off, v_len = struct.unpack_from("<HHHH", node, at)
        k_at, v_at = keys_start + k_off, vals_end - v_off
        if v_off == 0xFFFF:  # a ghost record (no value): keys only
            v_at, v_len = vals_end, 0
        if k_at + k_len > vals_end or v_at < keys_start or v_at + v_len > vals_end:
            raise Damaged(f"{where}: record {i} lies outside its node")
        out.append((node[k_at:k_at + k_len], node[v_at:v_at + v_len]))
    return flags, level, out


def tree_info(root: bytes) -> tuple[int, int]:
    """(key size, value size) from a root node's btree_info_t (meaningful for fixed-size trees)."""
    _flags, _node_size, key_size, val_size = struct.unpack_from("<IIII", root, len(root) - INFO_SIZE)
    return key_size, val_size


def walk(blocks: Blocks, root: int, resolve: Callable[[int], int], what: str,
         fixed: tuple[int, int] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Every leaf record of the B-tree whose root node is at physical block `root`, in key order.
    Child nodes are named by object id, turned into a block by `resolve` (itself for a physical tree,
    an object-map lookup for a virtual one)."""
    seen: set[int] = set()
    stack: list[tuple[int, int, int | None]] = [(root, 0, None)]
    while stack:
        paddr, depth, want_level = stack.pop()
        where = f"{what} node at block {paddr}"
        if depth > MAX_DEPTH:
            raise Damaged(f"{where}: tree deeper than {MAX_DEPTH} levels")
        if paddr in seen or len(seen) >= MAX_NODES:
            raise Damaged(f"{where}: reached twice (a loop in the tree)")
        seen.add(paddr)
        node = blocks.node(paddr, where)
        kind = struct.unpack_from("<I", node, 24)[0] & OBJ_TYPE_MASK
        if kind not in (OBJECT_TYPE_BTREE, OBJECT_TYPE_BTREE_NODE):
            raise Damaged(f"{where} is not a B-tree node (type {kind:#x})")
        if depth == 0:
            fixed = tree_info(node) if struct.unpack_from("<H", node, 32)[0] & BTNODE_FIXED else fixed
        flags, level, records = node_records(node, fixed, where)
        if want_level is not None and level != want_level:
            raise Damaged(f"{where}: level {level} where {want_level} was expected")
        if level == 0:
            yield from records
            continue
        children = []
        for _key, value in records:
            if len(value) < 8:
                raise Damaged(f"{where}: child pointer cut short")
            children.append((resolve(struct.unpack_from("<Q", value)[0]), depth + 1, level - 1))
        stack.extend(reversed(children))


def omap_lookup(blocks: Blocks, omap_paddr: int, oid: int, xid: int, what: str) -> int:
    """The physical block of virtual object `oid` as it was at transaction `xid` (the newest version
    at or before it), through the object map at `omap_paddr`."""
    omap = blocks.node(omap_paddr, f"{what} object map at block {omap_paddr}")
    if struct.unpack_from("<I", omap, 24)[0] & OBJ_TYPE_MASK != OBJECT_TYPE_OMAP:
        raise Damaged(f"{what} object map at block {omap_paddr} is not an object map")
    paddr = struct.unpack_from("<Q", omap, 48)[0]
    for depth in range(MAX_DEPTH + 1):
        level, keys, values = _omap_node(blocks, paddr, depth == 0, what)
        at = bisect.bisect_right(keys, (oid, xid)) - 1
        if at < 0:
            break
        if level == 0:
            if keys[at][0] != oid:
                break
            vflags, _vsize, found = struct.unpack_from("<IIQ", values[at])
            if vflags & OMAP_VAL_DELETED:
                break
            return int(found)
        paddr = struct.unpack_from("<Q", values[at])[0]
    raise Damaged(f"{what}: object {oid} (at transaction {xid}) is not in its object map")


def _omap_node(blocks: Blocks, paddr: int, root: bool, what: str) -> tuple[int, list[tuple[int, int]], list[bytes]]:
    """An object-map node's level, sorted (oid, xid) keys and values, parsed once and cached."""
    cached = blocks._omap.get(paddr)
    if cached is not None:
        return cached
    where = f"{what} object-map node at block {paddr}"
    node = blocks.node(paddr, where)
    if root and tree_info(node) != (16, 16):
        raise Damaged(f"{where}: records of {tree_info(node)} bytes, not an object map's (16, 16)")
    _flags, level, records = node_records(node, (16, 16), where)
    keys = [struct.unpack_from("<QQ", k) for k, _v in records]
    if keys != sorted(keys):
        raise Damaged(f"{where}: keys out of order")
    parsed = (level, keys, [v for _k, v in records])
    if len(blocks._omap) >= CACHE_BLOCKS:
        blocks._omap.clear()
    blocks._omap[paddr] = parsed
    return parsed
