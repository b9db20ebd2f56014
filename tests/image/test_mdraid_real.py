"""Linux software RAID members made by mdadm (dissect.volume's test images, fetched from PyPI by
`make thirdparty`): a mirror member (RAID 1, superblocks 1.2 and 0.90; RAID 10 with two near copies
on two disks) is read as the array, its content what dissect.volume's own tests expect; a member of
any other level is named (array, level, member) and not read. The superblock's facts are checked
against `mdadm --examine`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import need

SDIST = "dissect_volume-3.18.tar.gz"
PATTERN = b"".join(i.to_bytes(2, "little") * 2048 for i in range(1, 513))  # 4 KiB blocks 1..512


def layers_of(path: Path) -> list[Any]:
    from triage.image import layers
    from triage.image.container import open_image
    from triage.image.encryption import VolumeKeys

    source = open_image(path)
    return list(layers.expand(source.img, source.size, VolumeKeys()))


def examine(path: Path) -> dict[str, str]:
    """`mdadm --examine` of the member file, as {field: value}."""
    need("mdadm")
    out = subprocess.run(["mdadm", "--examine", str(path)], capture_output=True, text=True, check=True).stdout
    return {m.group(1).strip(): m.group(2).strip() for m in re.finditer(r"^\s*([A-Za-z ]+) : (.*)$", out, re.M)}


@pytest.mark.parametrize("name", ["md-raid1-1", "md-raid1-2", "md-raid10-1", "md-raid10-2"])
def test_mirror_member_read_as_the_array(thirdparty: Callable[[str, str], Path], name: str) -> None:
    path = thirdparty(SDIST, f"tests/_data/md/{name}.bin.gz")
    facts = examine(path)
    member, data = layers_of(path)
    role = facts["Device Role"].rsplit(" ", 1)[1]
    assert member.fs_type == "Linux RAID member" and member.status == "parsed"
    assert f"({facts['Array UUID']}, superblock {facts['Version']}): member {role} of " in member.message
    assert f"'{facts['Name'].split()[0]}'" in member.message
    offset = int(facts["Data Offset"].split()[0]) * 512
    assert (data.vol.offset, data.vol.scheme, data.vol.parent) == (offset, "md", 0)
    assert data.img.get_size() == int(facts["Array Size"].split()[0]) * 1024
    assert data.img.read(0, len(PATTERN)) == PATTERN


@pytest.mark.parametrize("name", ["md-90-raid1-1", "md-90-raid1-2"])
def test_old_superblock_at_the_end(thirdparty: Callable[[str, str], Path], name: str) -> None:
    """0.90: the superblock is in the member's last 64 KiB and the data starts at 0: one row."""
    path = thirdparty(SDIST, f"tests/_data/md/{name}.bin.gz")
    facts = examine(path)
    [data] = layers_of(path)
    assert data.vol.offset == 0 and f"({facts['UUID']}, superblock 0.90)" in data.message
    assert data.img.get_size() == int(facts["Array Size"].split()[0]) * 1024
    assert data.img.read(0, len(PATTERN)) == PATTERN


@pytest.mark.parametrize(("name", "level"), [("md-raid5-2", "RAID 5"), ("md-raid0-1", "RAID 0"),
                                             ("md-linear-2", "linear"), ("md-raid6-4", "RAID 6")])
def test_striped_member_is_named_not_read(cli: Any, case_dir: Path, thirdparty: Callable[[str, str], Path],
                                          name: str, level: str) -> None:
    path = thirdparty(SDIST, f"tests/_data/md/{name}.bin.gz")
    facts = examine(path)
    [member] = layers_of(path)
    role = facts["Device Role"].rsplit(" ", 1)[1]
    assert (member.status, member.walk) == ("incomplete", False)
    assert member.message.startswith(f"Linux md {level} array ") and f"member {role} of " in member.message
    assert "image every member" in member.message
    result = cli("parse", path, "--exhibit", "MD", "--case", case_dir, "--no-yara", code=1)
    assert "image every member" in result.stderr


def test_crafted_superblocks(tmp_path: Path) -> None:
    """A superblock is the suspect's to write: a mirror whose data area lies past the volume's end is
    `unreadable` with the reason; an impossible member count is not taken for md at all."""
    import struct

    from triage.image import mdraid

    def member(level: int, data_offset: int, raid_disks: int) -> Path:
        sb = bytearray(1024)
        struct.pack_into("<II", sb, 0, mdraid.MAGIC, 1)
        sb[32:44] = b"host:crafted"
        struct.pack_into("<iIQ", sb, 72, level, 0, 4096)
        struct.pack_into("<I", sb, 92, raid_disks)
        struct.pack_into("<QQ", sb, 128, data_offset, 4096)
        struct.pack_into("<I", sb, 220, 2)
        path = tmp_path / f"m{level}-{data_offset}-{raid_disks}.img"
        path.write_bytes(bytes(4096) + bytes(sb) + bytes(2 * 1024 * 1024 - 5120))
        return path

    [row] = layers_of(member(1, 1 << 40, 2))
    assert row.status == "unreadable" and "does not fit in the volume" in (row.message or "")
    [plain] = layers_of(member(1, 2048, 0))
    assert plain.vol.scheme == "none" and plain.status is None  # no md: looked at as a plain volume
