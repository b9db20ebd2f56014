"""Images shorter than what they hold says (issue 16, defect 4): the volume is listed with what the
image has, its `partitions` row says `truncated`, a warning is stored and shown, the report lists
the gap. Never a silent exit 0 with fewer files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import ext4_image, need, run
from parse_helpers import materialise, parse_rows

FILES = {"notes/a.txt": b"first file\n" * 100, "notes/b.txt": b"second file\n" * 2000}


def volumes_of(cli: Any, case_dir: Path, exhibit: str) -> list[dict[str, Any]]:
    out = cli("volumes", "--exhibit", exhibit, "--case", case_dir, "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def warnings_of(case_dir: Path, exhibit: str) -> list[str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return [m for (m,) in db.execute("SELECT message FROM warnings WHERE exhibit = ?", (exhibit,))]


def report_gaps(case_dir: Path) -> list[dict[str, str]]:
    from reports.data import load

    from triage.core.case import Case

    return load(Case.open(case_dir)).gaps()


@pytest.fixture
def ext4(tmp_path: Path) -> Path:
    return ext4_image(tmp_path, FILES, delete=[], size_mb=8)


def test_file_system_cut_in_half_is_truncated_not_silent(ext4: Path, cli: Any, case_dir: Path,
                                                         tmp_path: Path) -> None:
    cut = tmp_path / "cut.img"
    cut.write_bytes(ext4.read_bytes()[: 4 * 1024 * 1024])
    result = cli("parse", cut, "--exhibit", "CUT", "--case", case_dir, code=0)
    assert "truncated" in result.stdout and "image truncated" in result.stderr
    [vol] = volumes_of(cli, case_dir, "CUT")
    assert vol["status"] == "truncated" and vol["fs_type"] == "ext4"
    assert "declares 8,388,608 bytes, the image holds 4,194,304" in vol["message"]
    assert any("image truncated" in w for w in warnings_of(case_dir, "CUT"))
    assert any(g["exhibit"] == "CUT" and g["message"].startswith("truncated") for g in report_gaps(case_dir))
    whole = parse_rows(cli, case_dir, ext4, "WHOLE")
    assert volumes_of(cli, case_dir, "WHOLE")[0]["status"] == "parsed"  # the intact image is not flagged
    assert not warnings_of(case_dir, "WHOLE")
    assert {r["path"] for r in whole} >= set(f"/{p}" for p in FILES)


@pytest.mark.parametrize("names", [(".001", ".002", ".003"), (".aa", ".ab", ".ac")])
def test_split_set_missing_its_last_segment(names: tuple[str, ...], ext4: Path, cli: Any, case_dir: Path,
                                            tmp_path: Path) -> None:
    """A missing last segment leaves no gap in the names: only the sizes tell, and the message
    names the segment that would follow."""
    data = ext4.read_bytes()
    third = len(data) // 3
    folder = tmp_path / "split"
    folder.mkdir()
    for i, suffix in enumerate(names[:2]):  # the third is not there
        (folder / f"disk{suffix}").write_bytes(data[i * third:(i + 1) * third])
    result = cli("parse", folder / f"disk{names[0]}", "--exhibit", "SPLIT", "--case", case_dir, code=0)
    assert f"is segment disk{names[2]} missing?" in result.stderr
    [vol] = volumes_of(cli, case_dir, "SPLIT")
    assert vol["status"] == "truncated" and f"disk{names[2]}" in vol["message"]


def test_partition_table_reaching_past_the_end(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A GPT disk whose second partition is cut: the first parsed, the second truncated."""
    need("sfdisk", "mke2fs")
    from build_images import gpt_two_partitions

    image, p1, p2 = gpt_two_partitions(tmp_path, {"A.TXT": b"a" * 5000}, {"b.txt": b"b" * 5000})
    cut = tmp_path / "gpt-cut.img"
    cut.write_bytes(image.read_bytes()[: p2 + 2 * 1024 * 1024])
    cli("parse", cut, "--exhibit", "GPT", "--case", case_dir, code=0)
    vols = {v["partition"]: v for v in volumes_of(cli, case_dir, "GPT")}
    assert vols[p1]["status"] == "parsed"
    assert vols[p2]["status"] == "truncated" and "the volume table says this partition ends at byte" \
        in vols[p2]["message"]


def test_mbr_whose_extended_table_is_cut_off(cli: Any, case_dir: Path, tmp_path: Path,
                                             testdata: Callable[[str], Path]) -> None:
    """libtsk refuses the whole volume system when the extended table lies past the end; the
    primary partition still in the image is listed (truncated), the extended one marked."""
    full = materialise(testdata("disk_images/dfvfs/mbr.raw.gz"), tmp_path)
    cut = tmp_path / "mbr-cut.raw"
    cut.write_bytes(full.read_bytes()[: 100 * 512])  # the extended table is at sector 130
    rows = parse_rows(cli, case_dir, cut, "MBR")
    assert "/passwords.txt" in {r["path"] for r in rows if r["partition"] == 512}
    vols = {v["partition"]: v for v in volumes_of(cli, case_dir, "MBR")}
    assert vols[512]["status"] == "truncated" and vols[512]["fs_type"] == "ext2"
    assert vols[130 * 512]["status"] == "truncated" and "none of it is in the image" in vols[130 * 512]["message"]


def test_shared_ext2_cut_to_half(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    """The issue's case: dfvfs ext2 (4 MiB) cut to 2 MiB, and its split set without the .001 segment."""
    full = materialise(testdata("disk_images/dfvfs/ext2.raw.gz"), tmp_path)
    cut = tmp_path / "ext2-half.raw"
    cut.write_bytes(full.read_bytes()[: 2 * 1024 * 1024])
    cli("parse", cut, "--exhibit", "HALF", "--case", case_dir, code=0)
    assert volumes_of(cli, case_dir, "HALF")[0]["status"] == "truncated"
    alone = tmp_path / "seg"
    alone.mkdir()
    (alone / "ext2.splitraw.000").write_bytes(testdata("disk_images/dfvfs/ext2.splitraw.000").read_bytes())
    result = cli("parse", alone / "ext2.splitraw.000", "--exhibit", "SEG", "--case", case_dir, code=0)
    assert "is segment ext2.splitraw.001 missing?" in result.stderr


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk"])
def test_virtual_disk_cut_short(fmt: str, ext4: Path, cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A sparse container cut in half: its clusters/grains past the cut cannot be read; the
    container layer says so (truncated), whatever the walk could still list."""
    need("qemu-img")
    disk = tmp_path / f"disk.{fmt}"
    run("qemu-img", "convert", "-f", "raw", "-O", fmt, ext4, disk)
    data = disk.read_bytes()
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(data[: len(data) // 2])
    result = cli("parse", cut, "--exhibit", "VCUT", "--case", case_dir, code=None)
    assert result.exit_code in (0, 1) and "Traceback" not in result.stdout + result.stderr
    layer = volumes_of(cli, case_dir, "VCUT")[0]
    assert layer["partition"] == -1 and layer["status"] == "truncated"
    assert "cannot read the disk at byte" in layer["message"]
    assert any("image truncated or damaged" in w for w in warnings_of(case_dir, "VCUT"))


def test_dynamic_vhd_without_its_footer(ext4: Path, cli: Any, case_dir: Path, tmp_path: Path) -> None:
    need("qemu-img")
    disk = tmp_path / "disk.vhd"
    run("qemu-img", "convert", "-f", "raw", "-O", "vpc", ext4, disk)
    cut = tmp_path / "cut.vhd"
    cut.write_bytes(disk.read_bytes()[:-4096])
    result = cli("parse", cut, "--exhibit", "VHD-CUT", "--case", case_dir, code=1)
    assert "footer a VHD ends with is missing: the file is truncated" in result.stderr
