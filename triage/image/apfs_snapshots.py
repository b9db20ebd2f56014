"""An APFS container's checkpoint, volume superblocks and snapshots, read without a library.

libfsapfs has no snapshot API (and refuses a volume whose snapshot metadata tree has more than one
level), so snapshots are listed here from the on-disk structures (Apple's "APFS Reference"): the
volume superblock's `apfs_snap_meta_tree_oid` names a B-tree (physical as macOS writes it) whose
`j_snap_metadata` records give each snapshot's name, transaction id (xid), creation time and the
block of the volume superblock as it was then (`sblock_oid`).

The container superblock used is the newest checkpoint that passes its checks (checksum, a readable
object map), as macOS mounts it: a newer one that fails is named in `Container.notes`, so a reader
that took it (libfsapfs takes the newest, checksum or not) is not silently trusted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .apfs_btree import (APSB, MAX_BLOCK, MIN_BLOCK, NXSB, OBJ_PHYSICAL, OBJECT_TYPE_BTREE, OBJECT_TYPE_FS,
                         OBJECT_TYPE_NX_SUPERBLOCK, OBJECT_TYPE_OMAP, Blocks, Damaged, Read, checksum_ok,
                         omap_lookup, walk)

MAX_VOLUMES = 100           # NX_MAX_FILE_SYSTEMS
MAX_DESC_BLOCKS = 65536     # checkpoint descriptor area blocks looked at
MAX_SNAPSHOTS = 10_000      # snapshot records listed per volume (more is damage or a trap)
APFS_TYPE_SNAP_METADATA = 1
FS_UNENCRYPTED = 0x1
ROLES = {0x0: None, 0x1: "System", 0x2: "User", 0x4: "Recovery", 0x8: "VM", 0x10: "Preboot", 0x20: "Installer",
         0x40: "Data", 0x80: "Baseband", 0xC0: "Update", 0x100: "xART", 0x140: "Hardware", 0x180: "Backup",
         0x200: "Sidecar"}


@dataclass
class Container:
    blocks: Blocks
    xid: int            # the checkpoint's transaction id
    block: int          # where its superblock was read
    omap: int           # physical block of the container's object map
    fs_oids: list[int]
    notes: list[str] = field(default_factory=list)  # newer checkpoints passed over, and why


@dataclass
class VolumeInfo:
    index: int
    block: int          # physical block of its volume superblock
    name: str
    role: str | None
    encrypted: bool
    snapshot_count: int  # apfs_num_snapshots, as the superblock counts them
    omap: int
    snap_tree: int
    snap_tree_type: int
    xid: int


@dataclass
class Snapshot:
    name: str
    xid: int
    created_ns: int
    sblock: int          # block of the volume superblock as it was at the snapshot

    @property
    def created(self) -> str:
        return iso_ns(self.created_ns)

    def describe(self) -> str:
        return f"APFS snapshot {self.name!r}, xid {self.xid}, created {self.created}"


def iso_ns(ns: int) -> str:
    """Nanoseconds since 1970 as RFC 3339 UTC with all nine digits (as fsstat prints them)."""
    secs, frac = divmod(ns, 1_000_000_000)
    try:
        day = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return f"{ns} ns since 1970 (out of range)"
    return f"{day}.{frac:09d}Z"


def open_container(read: Read, length: int) -> Container:
    """The newest checkpoint of the container whose superblock and object map pass their checks."""
    try:
        head = read(0, MIN_BLOCK)
    except (IOError, OSError, RuntimeError) as exc:
        raise Damaged(f"container superblock cannot be read ({exc})") from None
    if head[32:36] != NXSB:
        raise Damaged("no APFS container superblock (NXSB) at block 0")
    size, count = struct.unpack_from("<IQ", head, 36)
    if size < MIN_BLOCK or size > MAX_BLOCK or size & (size - 1):
        raise Damaged(f"container superblock gives an impossible block size ({size})")
    blocks = Blocks(read, size, min(count, length // size))
    candidates: dict[int, bytes] = {}
    zero = blocks.raw(0)
    if checksum_ok(zero):
        candidates[0] = zero
    desc_blocks, _data_blocks, desc_base = struct.unpack_from("<IIQ", zero, 104)
    if not desc_blocks & 0x80000000:  # a contiguous descriptor area (else a tree: only block 0 is used)
        for i in range(min(desc_blocks, MAX_DESC_BLOCKS)):
            try:
                data = blocks.raw(desc_base + i)
            except Damaged:
                break
            if data[32:36] == NXSB:
                candidates[desc_base + i] = data
    notes: list[str] = []
    ordered = sorted(candidates.items(), key=lambda kv: struct.unpack_from("<Q", kv[1], 16)[0], reverse=True)
    for where, nx in ordered:
        xid = struct.unpack_from("<Q", nx, 16)[0]
        if (struct.unpack_from("<I", nx, 24)[0] & 0xFFFF) != OBJECT_TYPE_NX_SUPERBLOCK or not checksum_ok(nx):
            notes.append(f"checkpoint xid {xid} (block {where}) fails its checksum")
            continue
        omap = struct.unpack_from("<Q", nx, 160)[0]
        try:
            tree = struct.unpack_from("<Q", blocks.object(omap, OBJECT_TYPE_OMAP, "container object map"), 48)[0]
            blocks.object(tree, OBJECT_TYPE_BTREE, "container object-map tree")
        except Damaged as exc:
            notes.append(f"checkpoint xid {xid} (block {where}): {exc}")
            continue
        max_fs = min(struct.unpack_from("<I", nx, 180)[0], MAX_VOLUMES)
        oids = [o for o in struct.unpack_from(f"<{max_fs}Q", nx, 184) if o]
        return Container(blocks, xid, where, omap, oids, notes)
    raise Damaged("no checkpoint of the container passes its checks" + (f": {'; '.join(notes)}" if notes else ""))


def volumes(container: Container) -> list[VolumeInfo | Damaged]:
    """Each volume superblock of the checkpoint (in fs_oid order), or why it cannot be read."""
    out: list[VolumeInfo | Damaged] = []
    blocks = container.blocks
    for index, oid in enumerate(container.fs_oids):
        try:
            block = omap_lookup(blocks, container.omap, oid, container.xid, "container")
            sb = blocks.object(block, OBJECT_TYPE_FS, f"volume superblock {index}")
            if sb[32:36] != APSB:
                raise Damaged(f"volume superblock {index} at block {block} has no APSB signature")
        except Damaged as exc:
            out.append(exc)
            continue
        name = sb[704:960].split(b"\0", 1)[0].decode("utf-8", "replace")
        snap_type, omap, _root, _extref, snap_tree = struct.unpack_from("<IQQQQ", sb, 124)
        out.append(VolumeInfo(index, block, name, ROLES.get(struct.unpack_from("<H", sb, 964)[0]),
                              not struct.unpack_from("<Q", sb, 264)[0] & FS_UNENCRYPTED,
                              struct.unpack_from("<Q", sb, 216)[0], omap, snap_tree, snap_type,
                              struct.unpack_from("<Q", sb, 16)[0]))
    return out


def snapshots(blocks: Blocks, vol: VolumeInfo) -> tuple[list[Snapshot], str | None]:
    """The volume's snapshots in xid order (oldest first), and a note when the list is not whole
    (a damaged tree: those read before the damage are kept; a count that disagrees with the
    superblock's)."""
    if not vol.snap_tree:
        return [], (f"the volume counts {vol.snapshot_count} snapshot(s) but has no snapshot tree"
                    if vol.snapshot_count else None)
    if vol.snap_tree_type & OBJ_PHYSICAL:
        def resolve(oid: int) -> int:
            return oid
    else:
        def resolve(oid: int) -> int:
            return omap_lookup(blocks, vol.omap, oid, vol.xid, f"volume {vol.name!r}")
    found: list[Snapshot] = []
    note = None
    try:
        for key, value in walk(blocks, resolve(vol.snap_tree), resolve, f"snapshot tree of volume {vol.name!r}"):
            if len(key) < 8 or struct.unpack_from("<Q", key)[0] >> 60 != APFS_TYPE_SNAP_METADATA:
                continue  # the name index (APFS_TYPE_SNAP_NAME) repeats what the metadata records hold
            if len(found) >= MAX_SNAPSHOTS:
                note = f"more than {MAX_SNAPSHOTS} snapshot records: only the first {MAX_SNAPSHOTS} are listed"
                break
            if len(value) < 50:
                raise Damaged(f"snapshot record {len(found)} is cut short ({len(value)} bytes)")
            xid = struct.unpack_from("<Q", key)[0] & ((1 << 60) - 1)
            _extref, sblock, created = struct.unpack_from("<QQQ", value)
            name_len = struct.unpack_from("<H", value, 48)[0]
            name = value[50:50 + name_len].split(b"\0", 1)[0].decode("utf-8", "replace")
            found.append(Snapshot(name, xid, created, sblock))
    except Damaged as exc:
        note = f"snapshot list cut short after {len(found)} snapshot(s): {exc}"
    if note is None and len(found) != vol.snapshot_count:
        note = f"the volume superblock counts {vol.snapshot_count} snapshot(s), its snapshot tree holds {len(found)}"
    return found, note
