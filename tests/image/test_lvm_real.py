"""LVM2 volume groups made by lvm on Linux (dissect.volume's test images, fetched from PyPI by
`make thirdparty`): a one-disk group (libvslvm), a mirrored group spanning two disks of which each
image holds one (each leg a full copy: read by Dalil from the group's metadata, the other disk named),
and thin volumes (named as not read, never dropped). Contents checked against what dissect.volume's
own tests expect (sector patterns written by their makers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

SDIST = "dissect_volume-3.18.tar.gz"
PATTERN = b"".join(i.to_bytes(2, "little") * 2048 for i in range(1, 513))  # 4 KiB blocks 1..512


def layers_of(path: Path) -> list[Any]:
    from triage.image import layers
    from triage.image.container import open_image
    from triage.image.encryption import VolumeKeys

    source = open_image(path)
    return list(layers.expand(source.img, source.size, VolumeKeys()))


def lvm_image(thirdparty: Callable[[str, str], Path], name: str) -> Path:
    return thirdparty(SDIST, f"tests/_data/lvm/{name}.bin.gz")


def test_single_disk_group_through_libvslvm(thirdparty: Callable[[str, str], Path]) -> None:
    pv, lv = layers_of(lvm_image(thirdparty, "lvm"))
    assert pv.fs_type == "LVM2" and pv.message == "LVM2 physical volume of volume group vg_test: 1 logical volume(s)"
    assert lv.vol.slot == "vg_test/lv_test" and lv.walk
    assert lv.img.read(0, 2048) == b"\xde\xad\xbe\xef" * 256 + bytes(1024)


def test_mirror_spanning_two_disks_is_read_from_either_leg(cli: Any, case_dir: Path,
                                                           thirdparty: Callable[[str, str], Path]) -> None:
    for name, this, other in (("lvm-mirror-1", "pv0", "pv1 (/home/user/lvm-mirror-2.bin)"),
                              ("lvm-mirror-2", "pv1", "pv0 (/home/user/lvm-mirror-1.bin)")):
        pv, lv = layers_of(lvm_image(thirdparty, name))
        assert pv.message.endswith(f"volume group lvm-mirror spans 2 physical volumes; this image is {this}; "
                                   f"not in this image: {other}")
        assert lv.vol.slot == "lvm-mirror/mirrormirror" and lv.walk and lv.vol.offset == 1024 * 1024
        assert lv.img.get_size() == 4 * 1024 * 1024
        assert lv.img.read(0, len(PATTERN)) == PATTERN

    # the mirror holds a test pattern, no file system: nothing listed, exit 1, the PV's row says what is missing
    result = cli("parse", lvm_image(thirdparty, "lvm-mirror-1"), "--exhibit", "M1", "--case", case_dir, "--no-yara",
                 code=1)
    assert "not in this image: pv1 (/home/user/lvm-mirror-2.bin)" in result.stderr
    rows = [json.loads(x) for x in cli("volumes", "--case", case_dir, "--format", "jsonl").stdout.splitlines()]
    assert [(r["scheme"], r["slot"], r["parent"]) for r in rows] == [("none", None, None),
                                                                      ("lvm", "lvm-mirror/mirrormirror", 0)]
    assert "not in this image: pv1" in rows[0]["message"]


def test_thin_volumes_are_named_not_dropped(thirdparty: Callable[[str, str], Path]) -> None:
    """libvslvm refuses the whole group (a thin pool); Dalil lists each volume with why it is not read."""
    pv, *lvs = layers_of(lvm_image(thirdparty, "lvm-thin"))
    assert "libvslvm cannot open the group" in pv.message and "3 logical volume(s)" in pv.message
    assert [(x.vol.slot, x.status, x.walk) for x in lvs] == [("lvm-thin/data", "unsupported", False),
                                                             ("lvm-thin/lv-1", "unsupported", False),
                                                             ("lvm-thin/lv-2", "unsupported", False)]
    assert "thin-provisioned" in lvs[1].message and "thin pool" in lvs[0].message


def test_crafted_metadata_loops_and_foreign_types_are_one_line() -> None:
    """The metadata is the suspect's to write: a mirror whose leg is itself, a leg on a PV the group
    does not list, a segment type nobody makes: each is a reason, never a hang or a traceback."""
    from triage.image import lvm_map

    seg = {"start_extent": 0, "extent_count": 1}
    tree = {"vg": {"extent_size": 8, "physical_volumes": {"pv0": {"id": "A", "pe_start": 8}},
                   "logical_volumes": {
                       "loop": {"status": ["VISIBLE"], "segment1": {**seg, "type": "mirror", "mirrors": ["loop", 0]}},
                       "away": {"status": ["VISIBLE"], "segment1": {**seg, "type": "striped", "stripe_count": 1,
                                                                   "stripes": ["pv9", 0]}},
                       "odd": {"status": ["VISIBLE"], "segment1": {**seg, "type": "<script>"}}}}}
    grp = lvm_map.group(tree, "A")
    assert grp is not None and grp.this_pv == "pv0"
    reasons = {}
    for name in grp.visible():
        try:
            lvm_map.runs(grp, name)
        except lvm_map.Unmapped as exc:
            reasons[name] = str(exc)
    assert "nest deeper than lvm makes them" in reasons["loop"]
    assert reasons["away"].startswith("its extents are on pv9")
    assert reasons["odd"].startswith("a <script> segment")


def test_malformed_metadata_values_are_a_reason_not_a_crash(thirdparty: Callable[[str, str], Path],
                                                            tmp_path: Path) -> None:
    """Numbers written as words, extents past the disk's end: each logical volume gets a row saying why."""
    from triage.image import lvm
    from triage.image.walk import Volume

    data = lvm_image(thirdparty, "lvm-mirror-1").read_bytes()
    grp = lvm._group(lambda o, n: data[o:o + n], lvm._metadata(lambda o, n: data[o:o + n]))
    assert grp is not None
    legs = grp.lvs()
    legs["mirrormirror_mimage_0"]["segment1"]["extent_count"] = "many"
    pv = lvm._mapped(lambda o, n: data[o:o + n], Volume(0, len(data), None, "pv"), grp, "note")
    [lv] = pv.logical
    assert lv.img is None and "no mirror leg lies wholly in this image" in (lv.message or "")
    legs["mirrormirror_mimage_0"]["segment1"]["extent_count"] = 1
    legs["mirrormirror_mimage_0"]["segment1"]["stripes"] = ["pv0", 10**6]
    [lv] = lvm._mapped(lambda o, n: data[o:o + n], Volume(0, len(data), None, "pv"), grp, "note").logical
    assert lv.img is None and lv.status == "incomplete" and "past the end of this disk" in (lv.message or "")
