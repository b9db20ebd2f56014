"""Linux software RAID (md) members: NAS boxes and Linux servers put their data on md arrays,
often under LVM. One member of a mirror (RAID 1, or RAID 10 with as many near copies as disks)
holds the whole array: its data area is read as a volume. A member of any other level (linear,
RAID 0/4/5/6) holds only part of the data: it is named, with the array and its other members
needed, never read as if it were the array.

Superblocks (Linux `md_p.h`): version 1.1 at the start of the member, 1.2 at 4 KiB, 1.0 near its
end (data at 0); version 0.90 in the last 64 KiB-aligned 64 KiB (data at 0).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .encryption import Read

MAGIC = 0xA92B4EFC
SECTOR = 512
LEVELS = {-4: "multipath", -1: "linear", 0: "RAID 0", 1: "RAID 1", 4: "RAID 4", 5: "RAID 5", 6: "RAID 6",
          10: "RAID 10"}


@dataclass
class Member:
    """What one member's superblock says."""

    version: str
    level: int
    name: str | None
    array_uuid: str
    raid_disks: int
    role: int | None        # this member's slot in the array
    data_offset: int        # bytes from the member's start
    array_size: int | None  # bytes of the array's data (known for mirrors)
    layout: int = 0

    @property
    def mirror(self) -> bool:
        """Does this member alone hold the whole array?"""
        if self.level == 1:
            return True
        near, far = self.layout & 0xFF, (self.layout >> 8) & 0xFF
        return self.level == 10 and far == 1 and not self.layout & 0x10000 and near == self.raid_disks

    def describe(self) -> str:
        label = f"{LEVELS.get(self.level, f'level {self.level}')} array " + (f"{self.name!r} " if self.name else "")
        slot = f"member {self.role} of {self.raid_disks}" if self.role is not None else f"one of {self.raid_disks} members"
        return f"Linux md {label}({self.array_uuid}, superblock {self.version}): {slot}"


def detect(read: Read, length: int) -> Member | None:
    """The md superblock on this volume, or None."""
    spots = [(4096, "1.2"), (0, "1.1")]
    if length >= 16 * SECTOR:
        spots.append(((((length // SECTOR) - 16) & ~7) * SECTOR, "1.0"))
    for offset, version in spots:
        try:
            head = read(offset, 256 + 2 * 384)
        except (IOError, OSError, RuntimeError):
            continue
        if len(head) >= 256 and struct.unpack_from("<I", head)[0] == MAGIC and struct.unpack_from("<I", head, 4)[0] == 1:
            member = _v1(head, version)
            if member is not None:
                return member
    if length >= 128 * 1024:
        offset = (length & ~0xFFFF) - 0x10000
        try:
            head = read(offset, 4096)
        except (IOError, OSError, RuntimeError):
            return None
        if len(head) >= 256 and struct.unpack_from("<I", head)[0] == MAGIC and struct.unpack_from("<I", head, 4)[0] == 0:
            return _v090(head, offset)
    return None


def _v1(sb: bytes, version: str) -> Member | None:
    level, layout, size = struct.unpack_from("<iIQ", sb, 72)
    raid_disks = struct.unpack_from("<I", sb, 92)[0]
    data_offset, _data_size = struct.unpack_from("<QQ", sb, 128)
    dev_number, max_dev = struct.unpack_from("<I", sb, 160)[0], struct.unpack_from("<I", sb, 220)[0]
    role = None
    if dev_number < min(max_dev, 384) and len(sb) >= 256 + 2 * (dev_number + 1):
        value = struct.unpack_from("<H", sb, 256 + 2 * dev_number)[0]
        role = value if value < 0xFFFE else None  # 0xFFFF spare, 0xFFFE faulty
    if not 0 < raid_disks <= 4096:
        return None
    name = sb[32:64].split(b"\0", 1)[0].decode("utf-8", "replace") or None
    return Member(version, level, name, ":".join(sb[i:i + 4].hex() for i in range(16, 32, 4)), raid_disks, role, data_offset * SECTOR,
                  size * SECTOR if level in (1, 10) else None, layout)


def _v090(sb: bytes, offset: int) -> Member | None:
    """mdp_super_t: 1024 32-bit words; generic words 0-31, personality words from 64 (layout first),
    this disk's descriptor (number, major, minor, raid_disk, state) at word 992."""
    if len(sb) < 4096:
        return None
    words = struct.unpack_from("<1024I", sb)
    level = struct.unpack_from("<i", sb, 28)[0]
    raid_disks = words[10]
    if not 0 < raid_disks <= 27:
        return None
    return Member("0.90", level, None, _uuid((words[5], words[13], words[14], words[15])), raid_disks, words[992 + 3], 0,
                  words[8] * 1024 if level in (1, 10) else None, words[64])


def _uuid(words: tuple[int, ...]) -> str:
    """The array UUID as `mdadm --examine` prints it (four 32-bit words)."""
    return ":".join(f"{w:08x}" for w in words)
