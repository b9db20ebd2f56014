"""Images built here with mkfs tools: listing, deleted files, FAT recovery, NTFS streams, GPT, --tz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from build_images import ext4_image, fat_image, gpt_two_partitions, ntfs_image, sha256
from parse_helpers import parse_rows

PHOTO = b"\xff\xd8\xff\xe0" + b"JFIF-ish" * 600
NOTE = "رحلة مضمونة إلى لامبيدوزا — contact +218 91 234 5678\n".encode() * 20


def by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for r in rows}


def test_fat_lists_and_recovers_deleted(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    gone = b"deleted but recoverable\n" * 300
    image = fat_image(tmp_path, {"DOCS/NOTE.TXT": NOTE, "DOCS/GONE.TXT": gone, "KEEP.BIN": b"\x00\x01" * 5000},
                      delete=["DOCS/GONE.TXT"])
    rows = by_path(parse_rows(cli, case_dir, image))
    assert rows["/DOCS/NOTE.TXT"]["sha256"] == sha256(NOTE)
    assert rows["/DOCS/NOTE.TXT"]["deleted"] is False
    assert rows["/KEEP.BIN"]["size"] == 10000
    deleted = [r for r in rows.values() if r["deleted"]]
    assert [r["path"] for r in deleted] == ["/DOCS/_ONE.TXT"]  # FAT loses the first character
    assert deleted[0]["sha256"] == sha256(gone) and deleted[0]["recovered"] is True
    assert "may be overwritten" in deleted[0]["recovered_note"]
    listed = cli("files", "--case", case_dir, "--deleted", "--format", "jsonl").stdout.splitlines()
    assert len(listed) == 1


def test_fat_times_follow_tz(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = fat_image(tmp_path, {"A.TXT": b"x" * 10}, delete=[])
    utc = by_path(parse_rows(cli, case_dir, image, "UTC-RUN"))["/A.TXT"]["mtime"]
    tripoli = by_path(parse_rows(cli, case_dir, image, "UTC-RUN", "--tz", "Africa/Tripoli"))["/A.TXT"]["mtime"]
    from datetime import datetime

    delta = datetime.fromisoformat(utc.replace("Z", "+00:00")) - datetime.fromisoformat(tripoli.replace("Z", "+00:00"))
    assert delta.total_seconds() == 7200  # Libya is UTC+2: the same wall clock is two hours earlier in UTC
    rows = cli("files", "--case", case_dir, "--format", "jsonl").stdout.splitlines()
    assert len(rows) == len({line for line in rows})  # re-run did not duplicate rows
    assert sum('"/A.TXT"' in line for line in rows) == 1


def test_ext4_deleted_name_listed(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = ext4_image(tmp_path, {"a/keep.txt": b"keep\n", "a/drop.txt": b"drop me\n" * 100, "b.txt": b"b"},
                       delete=["a/drop.txt"])
    rows = by_path(parse_rows(cli, case_dir, image))
    assert rows["/a/keep.txt"]["sha256"] == sha256(b"keep\n")
    assert rows["/b.txt"]["deleted"] is False
    assert rows["/a/drop.txt"]["deleted"] is True


def test_ntfs_streams_and_file_named_dotdot(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = ntfs_image(tmp_path, {"report.txt": b"main stream\n", "..": b"a file literally named dot dot\n"},
                       streams={"report.txt": ("hidden", b"alternate data stream\n")})
    rows = by_path(parse_rows(cli, case_dir, image))
    assert rows["/report.txt"]["sha256"] == sha256(b"main stream\n")
    assert rows["/report.txt:hidden"]["sha256"] == sha256(b"alternate data stream\n")
    assert rows["/.."]["sha256"] == sha256(b"a file literally named dot dot\n")
    assert rows["/.."]["type"] == "r"
    assert "/$MFT" in rows


def test_gpt_two_partitions(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image, p1, p2 = gpt_two_partitions(tmp_path, {"ONE.TXT": b"first partition\n"}, {"two.txt": b"second\n"})
    rows = parse_rows(cli, case_dir, image)
    assert {r["partition"] for r in rows} == {p1, p2}
    found = {(r["partition"], r["path"]): r["sha256"] for r in rows}
    assert found[(p1, "/ONE.TXT")] == sha256(b"first partition\n")
    assert found[(p2, "/two.txt")] == sha256(b"second\n")


def test_stray_dot_dot_folder_is_listed_not_entered(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A damaged or crafted FAT directory whose entry named `..` points at another folder (as a buggy
    DMG writer left it): the entry is listed, never entered, so no path reads `/A/../F.TXT` and the
    listing equals `fls` (which skips it)."""
    import subprocess

    image = fat_image(tmp_path, {"A/XX/F.TXT": b"inside\n", "A/G.TXT": b"beside\n"}, [])
    data = bytearray(image.read_bytes())
    at = data.find(b"XX         \x10")  # the 8.3 entry of folder A/XX
    assert at > 0 and data.find(b"XX         \x10", at + 1) < 0
    data[at:at + 11] = b"..         "
    image.write_bytes(bytes(data))
    rows = by_path(parse_rows(cli, case_dir, image, "EXH-1"))
    assert "/A/.." in rows and rows["/A/.."]["type"] == "d"
    assert not [p for p in rows if "/../" in p]
    fls = subprocess.run(["fls", "-r", "-p", str(image)], capture_output=True, text=True, check=True).stdout
    listed = {line.split("\t", 1)[1] for line in fls.splitlines() if "\t" in line and "$" not in line}
    assert {p.lstrip("/") for p in rows if "$" not in p} - listed == {"A/.."}
