"""Unallocated space of a file system, as byte ranges of the image, read from its allocation map.

pytsk3 has no block walk (`blkls`'s `tsk_fs_block_walk`), so the map is read here: NTFS's `$Bitmap`
(through pytsk3, one bit a cluster), the FAT (a free cluster is entry 0), exFAT's allocation bitmap,
and ext2/3/4's block
bitmaps (a group whose bitmap was never written, `BLOCK_UNINIT`, is free but for the metadata placed
in it). Ranges match `blkls` on the test images (tests/image/test_carve.py). Other file systems
return None: their unallocated space is not carved, and the run's details say so.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Callable

Ranges = list[tuple[int, int]]  # (start, end) byte offsets in the image, sorted, not touching
Read = Callable[[int, int], bytes]


def merge(ranges: list[tuple[int, int]]) -> Ranges:
    """Sorted ranges with touching or overlapping ones joined (empty ones dropped)."""
    out: Ranges = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _bitmap_runs(bits: bytes, count: int, base: int, unit: int, first: int = 0) -> Ranges:
    """Byte ranges of the clear bits among the first `count` of a little-endian bitmap (bit i is the
    unit at `base + (first + i) * unit`); whole 0x00 and 0xFF bytes are taken eight bits at once."""
    out: Ranges = []
    start = -1
    i = 0
    while i < count:
        index = i >> 3
        byte = bits[index] if index < len(bits) else 0xFF
        if i & 7 == 0 and i + 8 <= count and byte in (0, 0xFF):
            if byte == 0 and start < 0:
                start = i
            elif byte == 0xFF and start >= 0:
                out.append((start, i))
                start = -1
            i += 8
            continue
        used = (byte >> (i & 7)) & 1
        if not used and start < 0:
            start = i
        elif used and start >= 0:
            out.append((start, i))
            start = -1
        i += 1
    if start >= 0:
        out.append((start, count))
    return [(base + (first + a) * unit, base + (first + b) * unit) for a, b in out]


def ntfs(fs: Any, offset: int) -> Ranges:
    """Free clusters by `$Bitmap` (MFT entry 6)."""
    cluster, count = int(fs.info.block_size), int(fs.info.block_count)
    bitmap = fs.open_meta(inode=6)
    size = int(bitmap.info.meta.size)
    bits = b"".join(bitmap.read_random(at, min(1 << 20, size - at)) for at in range(0, size, 1 << 20))
    return _bitmap_runs(bits, count, offset, cluster)


def fat(read: Read, offset: int, length: int, kind: str) -> Ranges:
    """Free clusters by the first FAT; sectors past the last cluster too (as `blkls` lists them)."""
    boot = read(offset, 512)
    sector, per_cluster, reserved, fats, root_entries = struct.unpack_from("<HBHBH", boot, 11)
    total = struct.unpack_from("<H", boot, 19)[0] or struct.unpack_from("<I", boot, 32)[0]
    fat_sectors = struct.unpack_from("<H", boot, 22)[0] or struct.unpack_from("<I", boot, 36)[0]
    if not sector or not per_cluster:
        raise ValueError("FAT boot sector without sector or cluster size")
    data = reserved + fats * fat_sectors + (root_entries * 32 + sector - 1) // sector
    clusters = (total - data) // per_cluster
    table = read(offset + reserved * sector, fat_sectors * sector)
    free: list[tuple[int, int]] = []

    def add(first: int, last: int) -> None:  # clusters first..last-1 are free
        first, last = max(first, 2), min(last, clusters + 2)
        if first < last:
            free.append((offset + (data + (first - 2) * per_cluster) * sector,
                         offset + (data + (last - 2) * per_cluster) * sector))

    if kind == "FAT12":
        for n in range(2, clusters + 2):
            pair = table[n * 3 // 2] | table[n * 3 // 2 + 1] << 8
            if not (pair >> 4 if n & 1 else pair & 0xFFF):
                add(n, n + 1)
    else:  # runs of zero entries, found as runs of zero bytes (C speed), whole entries only
        width = 2 if kind == "FAT16" else 4
        for run in re.finditer(b"\\x00{%d,}" % width, table[:(clusters + 2) * width]):
            add(-(-run.start() // width), run.end() // width)
        if width == 4:  # FAT32's top four bits are reserved: an entry holding only them is free too
            for top in re.finditer(b"\\x00\\x00\\x00[\\x10\\x20\\x30\\x40\\x50\\x60\\x70\\x80\\x90\\xa0\\xb0\\xc0\\xd0"
                                   b"\\xe0\\xf0]", table[:(clusters + 2) * 4]):
                if top.start() % 4 == 0:
                    add(top.start() // 4, top.start() // 4 + 1)
    end_of_clusters = offset + (data + clusters * per_cluster) * sector
    free.append((end_of_clusters, offset + min(total * sector, length)))
    return merge(free)


def ext(read: Read, offset: int) -> Ranges:
    """Free blocks by the block-group bitmaps (ext2, ext3, ext4)."""
    sb = read(offset + 1024, 1024)
    if struct.unpack_from("<H", sb, 56)[0] != 0xEF53:
        raise ValueError("no ext superblock")
    blocks = struct.unpack_from("<I", sb, 4)[0]
    first_data = struct.unpack_from("<I", sb, 20)[0]
    block = 1024 << struct.unpack_from("<I", sb, 24)[0]
    per_group = struct.unpack_from("<I", sb, 32)[0]
    incompat, ro_compat = struct.unpack_from("<II", sb, 96)
    wide = bool(incompat & 0x80)  # 64bit: descriptors of s_desc_size bytes, high halves of addresses
    if wide:
        blocks |= struct.unpack_from("<I", sb, 0x150)[0] << 32
    desc = struct.unpack_from("<H", sb, 0xFE)[0] if wide else 32
    desc = desc or 32
    uninit_ok = bool(ro_compat & (0x10 | 0x400))  # GDT_CSUM or METADATA_CSUM: BLOCK_UNINIT is meaningful
    groups = (blocks - first_data + per_group - 1) // per_group
    gdt_blocks = (groups * desc + block - 1) // block
    table = read(offset + (first_data + 1) * block, gdt_blocks * block)

    def field(raw: bytes, lo: int, hi: int) -> int:
        value = struct.unpack_from("<I", raw, lo)[0]
        return value | (struct.unpack_from("<I", raw, hi)[0] << 32 if wide and desc >= 64 else 0)

    descs = [table[g * desc:(g + 1) * desc] for g in range(groups)]
    free: Ranges = []
    for g, raw in enumerate(descs):
        start = first_data + g * per_group
        count = min(per_group, blocks - start)
        flags = struct.unpack_from("<H", raw, 18)[0]
        if uninit_ok and flags & 0x2:  # BLOCK_UNINIT: a bitmap never written; libtsk and `blkls` count
            # the whole group free (its backups, bitmaps and inode table too): so is it here
            free.append((offset + start * block, offset + (start + count) * block))
            continue
        bits = read(offset + field(raw, 0, 0x20) * block, (count + 7) // 8)
        free.extend(_bitmap_runs(bits, count, offset, block, start))
    return merge(free)


def exfat(read: Read, offset: int, length: int) -> Ranges:
    """Free clusters by exFAT's allocation bitmap (the root directory's type-0x81 entry: the first
    bitmap where there are two); sectors past the last cluster too."""
    boot = read(offset, 512)
    if boot[3:11] != b"EXFAT   ":
        raise ValueError("no exFAT boot sector")
    fat_at, _fat_len, heap, clusters, root = struct.unpack_from("<IIIII", boot, 80)
    volume_sectors = struct.unpack_from("<Q", boot, 72)[0]
    sector = 1 << boot[108]
    cluster = sector << boot[109]

    def at(n: int) -> int:
        return offset + heap * sector + (n - 2) * cluster

    def chain(first: int, size: int | None) -> bytes:
        """The clusters of a file from `first`, following the FAT, up to `size` bytes."""
        out, n, seen = bytearray(), first, set()
        while 2 <= n < clusters + 2 and n not in seen and (size is None or len(out) < size):
            seen.add(n)
            out += read(at(n), cluster)
            n = struct.unpack("<I", read(offset + fat_at * sector + 4 * n, 4))[0]
        return bytes(out if size is None else out[:size])

    directory = chain(root, None)
    bitmap: bytes | None = None
    for entry in range(0, len(directory) - 31, 32):
        kind = directory[entry]
        if kind == 0x81 and not directory[entry + 1] & 1:
            first, size = struct.unpack_from("<IQ", directory, entry + 20)
            bitmap = chain(first, size)
            break
        if kind == 0:
            break
    if bitmap is None:
        raise ValueError("exFAT allocation bitmap not found in the root directory")
    free = _bitmap_runs(bitmap, clusters, at(2), cluster)
    end = at(clusters + 2)
    free.append((end, offset + min(volume_sectors * sector, length)))
    return merge(free)


def unpartitioned(size: int, volumes: list[tuple[int, int]]) -> Ranges:
    """The image's bytes outside every partition (partition tables and gaps between partitions)."""
    out: Ranges = []
    cursor = 0
    for start, length in sorted(volumes):
        if start > cursor:
            out.append((cursor, start))
        cursor = max(cursor, start + length)
    if cursor < size:
        out.append((cursor, size))
    return out
