"""`dalil parse` against The Sleuth Kit's ground truth (fls -r -p, fls -m, icat) on the shared images."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pytest

from parse_helpers import body_sizes, fls_entries, icat_sha256, materialise, parse_rows, tsk_name

SINGLE = [
    "sleuthkit/image.dd", "sleuthkit/image.E01", "dfvfs/ext2.splitraw.000", "dfvfs/ext2.E01",
    "plaso/ímynd.dd", "plaso/syslog_image.dd", "plaso/image.E01", "sleuthkit/image.iso", "dfvfs/hfsplus.raw",
    "dfir_ntfs/ntfs3.raw.gz", "dfir_ntfs/fat_deleted_dir_2.raw.gz", "dfir_ntfs/win_exfat_7.raw.gz",
    "dfir_ntfs/exfat_orphan.raw.gz", "dfir_ntfs/fat16.raw.gz", "dfir_ntfs/ntfs3_attrlist.raw.gz",
]
MULTI = ["dfvfs/mbr.raw.gz", "plaso/image-split.E01", "sleuthkit/imageformat_mmls_1.E01",
         "dfir_ntfs/ntfs_index.raw.gz"]


def _check(rows: list[dict[str, Any]], fls: Path, body: Path) -> None:
    expected = fls_entries(fls)
    got = {tsk_name(r["path"]): r for r in rows}
    assert set(got) == set(expected)
    for path, (deleted, _inode) in expected.items():
        assert got[path]["deleted"] == deleted, path
    sizes = body_sizes(body)
    checked = 0
    for path, size in sizes.items():
        if path in got and not got[path]["path"].count(":") and got[path]["type"] == "r":
            assert got[path]["size"] == size, path
            checked += 1
    assert checked or not any(r["sha256"] for r in rows)


@pytest.mark.parametrize("rel", SINGLE)
def test_listing_matches_fls(rel: str, cli: Any, case_dir: Path, tmp_path: Path,
                             testdata: Callable[[str], Path]) -> None:
    src = testdata(f"disk_images/{rel}")
    image = materialise(src, tmp_path)
    rows = parse_rows(cli, case_dir, image)
    base = src.parent / src.name
    _check(rows, Path(f"{base}.fls.txt"), Path(f"{base}.fls_body.txt"))
    # allocated regular files: SHA-256 equals icat's (ext/FAT/NTFS default streams)
    if not rel.endswith((".E01", ".000", ".iso")):
        expected = fls_entries(Path(f"{base}.fls.txt"))
        tested = 0
        for row in rows:
            key = tsk_name(row["path"])
            if row["deleted"] or not row["sha256"] or ":" in row["path"] or row["type"] != "r":
                continue
            assert row["sha256"] == icat_sha256(image, expected[key][1]), row["path"]
            tested += 1
            if tested >= 25:
                break
        assert tested > 0 or not any(not r["deleted"] and r["type"] == "r" and r["size"] for r in rows)


@pytest.mark.parametrize("rel", MULTI)
def test_partitions_match_fls(rel: str, cli: Any, case_dir: Path, tmp_path: Path,
                              testdata: Callable[[str], Path]) -> None:
    src = testdata(f"disk_images/{rel}")
    image = materialise(src, tmp_path)
    rows = parse_rows(cli, case_dir, image)
    per_part = sorted(src.parent.glob(f"{src.name}.fls.o*.txt"))
    assert per_part
    for fls in per_part:
        sector = int(fls.name.rsplit(".o", 1)[1].split(".")[0])
        part_rows = [r for r in rows if r["partition"] == sector * 512]
        body = src.parent / f"{src.name}.fls_body.o{sector}.txt"
        _check(part_rows, fls, body)


def test_e01_and_split_equal_raw_twin(cli: Any, case_dir: Path, tmp_path: Path,
                                      testdata: Callable[[str], Path]) -> None:
    def listing(image: Path, exhibit: str) -> set[tuple[Any, ...]]:
        return {(r["path"], r["size"], r["deleted"], r["sha256"], r["mtime"])
                for r in parse_rows(cli, case_dir, image, exhibit)}

    raw = listing(testdata("disk_images/sleuthkit/image.dd"), "RAW")
    assert raw == listing(testdata("disk_images/sleuthkit/image.E01"), "EWF")
    ext2 = listing(materialise(testdata("disk_images/dfvfs/ext2.raw.gz"), tmp_path), "EXT2-RAW")
    assert ext2 == listing(testdata("disk_images/dfvfs/ext2.splitraw.000"), "EXT2-SPLIT")
    assert ext2 == listing(testdata("disk_images/dfvfs/ext2.E01"), "EXT2-EWF")
    assert len(ext2) == 7


@pytest.mark.parametrize("names", [(".001", ".002", ".003"), (".aa", ".ab", ".ac"), (".000", ".001", ".002")])
def test_split_naming_schemes(names: tuple[str, ...], cli: Any, case_dir: Path, tmp_path: Path,
                              testdata: Callable[[str], Path]) -> None:
    data = testdata("disk_images/sleuthkit/image.dd").read_bytes()
    third = len(data) // 3 + 1
    for i, suffix in enumerate(names):
        (tmp_path / f"disk{suffix}").write_bytes(data[i * third:(i + 1) * third])
    rows = parse_rows(cli, case_dir, tmp_path / f"disk{names[0]}", "SPLIT")
    raw = parse_rows(cli, case_dir, testdata("disk_images/sleuthkit/image.dd"), "RAW")
    key = lambda r: (r["path"], r["size"], r["deleted"], r["sha256"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, raw))


@pytest.mark.parametrize("rel,inodes", [("plaso/syslog_image.dd", ("14", "15", "16")), ("plaso/image.E01", ("13",))])
def test_orphans_keep_size_times_and_content(rel: str, inodes: tuple[str, ...], cli: Any, case_dir: Path,
                                             testdata: Callable[[str], Path]) -> None:
    """TSK's $OrphanFiles entries come without metadata in their folder: opened by inode, they keep
    the size, times and content `fls -m` and `icat` give (they were size 0, no times, no hash)."""
    src = testdata(f"disk_images/{rel}")
    rows = {r["path"]: r for r in parse_rows(cli, case_dir, src)}
    body = {line.split("|")[1].removesuffix(" (deleted)"): line.split("|")
            for line in Path(f"{src}.fls_body.txt").read_text(encoding="utf-8").splitlines()}
    raw = src if src.suffix == ".dd" else None
    for inode in inodes:
        path = f"/$OrphanFiles/OrphanFile-{inode}"
        row, fields = rows[path], body[path]
        assert row["deleted"] and row["size"] == int(fields[6]), path
        for key, field in (("atime", 7), ("mtime", 8), ("ctime", 9)):
            assert int(datetime.fromisoformat(row[key].replace("Z", "+00:00")).timestamp()) == int(fields[field])
        if raw is not None:  # 53, 116 and 22 bytes
            assert row["size"] and row["sha256"] == icat_sha256(raw, inode), path


@pytest.mark.parametrize("rel", ["dfir_ntfs/ntfs3.raw.gz", "dfir_ntfs/ntfs3_attrlist.raw.gz"])
def test_ntfs_file_name_times_match_fls_m(rel: str, cli: Any, case_dir: Path, tmp_path: Path,
                                         testdata: Callable[[str], Path]) -> None:
    """The timeline's `($FILE_NAME)` lines (NTFS's second set of MACB times, which backdating tools
    rarely touch) are the ones `fls -m` prints: same names, attribute ids, sizes and times. Beyond
    TSK: of the 100 hard links of ntfs3_attrlist's inode 27 (their $FILE_NAMEs in an attribute list,
    where TSK 4.11 prints none), those whose $FILE_NAME libtsk loads get the one holding their own
    name, never another name's."""
    src = testdata(f"disk_images/{rel}")
    parse_rows(cli, case_dir, materialise(src, tmp_path), "EXH-1", "--no-yara")
    body = cli("timeline", "--exhibit", "EXH-1", "--format", "bodyfile", "--case", case_dir).stdout

    def file_name_lines(text: str) -> set[tuple[str, ...]]:
        return {tuple(f for i, f in enumerate(line.split("|")) if i not in (0, 3, 4, 5))
                for line in text.splitlines() if "($FILE_NAME)" in line}

    expected = file_name_lines(Path(f"{src}.fls_body.txt").read_text(encoding="utf-8"))
    got = file_name_lines(body)
    assert expected and expected <= got
    extra = got - expected
    assert all(line[1].startswith("27-48-") for line in extra) and len({line[1] for line in extra}) == len(extra)
    assert len(extra) <= 100
    assert bool(extra) == rel.endswith("attrlist.raw.gz")
    csv_rows = cli("timeline", "--exhibit", "EXH-1", "--format", "csv", "--case", case_dir).stdout.splitlines()
    assert csv_rows[0].endswith(",source,description")  # description: of dated phone records, empty for files
    assert sum(r.endswith(",$FILE_NAME,") for r in csv_rows) >= len(expected)


def test_reused_inode_names_are_deleted_realloc_in_the_body_file(cli: Any, case_dir: Path, tmp_path: Path,
                                                                  testdata: Callable[[str], Path]) -> None:
    """fls -m marks a deleted name whose inode now belongs to another file `(deleted-realloc)`."""
    src = testdata("disk_images/dfir_ntfs/win_exfat_7.raw.gz")
    parse_rows(cli, case_dir, materialise(src, tmp_path), "EXH-1", "--no-yara")
    body = cli("timeline", "--exhibit", "EXH-1", "--format", "bodyfile", "--case", case_dir).stdout

    def realloc(text: str) -> set[str]:
        return {line.split("|")[1] for line in text.splitlines() if "(deleted-realloc)" in line}

    expected = realloc(Path(f"{src}.fls_body.txt").read_text(encoding="utf-8"))
    assert expected and realloc(body) == expected
