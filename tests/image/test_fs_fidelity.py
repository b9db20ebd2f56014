"""File-system fidelity against The Sleuth Kit's own tools, on images built here (issue 16, defects 5-7):
NTFS folder sizes and body-file inode column (`11-144-2`), setuid/setgid/sticky bits in the mode, and
the null `$MFT` times of an image made by mkntfs."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path
from typing import Any

from build_images import need, ntfs_image, run
from parse_helpers import parse_rows


def _body(lines: str) -> dict[str, list[str]]:
    """{name: fields} of body-file lines (the `($FILE_NAME)` lines kept under their own name)."""
    out: dict[str, list[str]] = {}
    for line in lines.splitlines():
        fields = line.split("|")
        if len(fields) == 11:
            out.setdefault(fields[1], fields)
    return out


def _fls_body(image: Path) -> dict[str, list[str]]:
    need("fls")
    return _body(subprocess.run(["fls", "-r", "-m", "/", str(image)], capture_output=True, text=True,
                                check=True).stdout)


def test_ntfs_folders_have_index_size_and_attr_as_fls_m(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A folder's row is its $I30 index root (type 144) with that attribute's size, as `fls -m`
    writes it (`11-144-2`, 344): it was `11` and 0. Its content is still not read."""
    image = ntfs_image(tmp_path, {"a.txt": b"hello\n"})
    rows = {r["path"]: r for r in parse_rows(cli, case_dir, image)}
    expected = _fls_body(image)
    folders = {name: f for name, f in expected.items() if f[3].startswith("d/d") and "($FILE_NAME)" not in name}
    assert "/$Extend" in folders and folders["/$Extend"][2].startswith("11-144-")
    ours = _body(cli("timeline", "--exhibit", "EXH-1", "--case", case_dir).stdout)
    for name, fields in folders.items():
        row = rows[name]
        assert row["size"] == int(fields[6]) > 0, name
        assert row["sha256"] is None and row["type"] == "d", name
        assert ours[name][2] == fields[2] and ours[name][6] == fields[6], name
    assert rows["/$Extend/$Quota:$O"]["sha256"]  # a named index stream is still read, as before


def test_setuid_setgid_sticky_bits_as_fls(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """setuid, setgid and sticky bits in the mode as TSK writes them (`rwsr-xr-x`, `rwxrwxrwt`,
    `S`/`T` where x is off): they were dropped."""
    need("mke2fs")
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    (root / "sg").mkdir()
    modes = {"su": 0o4755, "suS": 0o4644, "sg/g": 0o2751, "sg/sgS": 0o2640, "plain": 0o640}
    for rel, mode in modes.items():
        (root / rel).write_bytes(rel.encode())
        (root / rel).chmod(mode)
    (root / "tmp").chmod(0o1777)
    (root / "sg").chmod(0o3770)
    image = tmp_path / "ext4.img"
    run("mke2fs", "-q", "-t", "ext4", "-d", root, image, "8M")
    parse_rows(cli, case_dir, image)
    ours = _body(cli("timeline", "--exhibit", "EXH-1", "--case", case_dir).stdout)
    expected = _fls_body(image)
    assert expected["/su"][3] == "r/rrwsr-xr-x" and expected["/tmp"][3] == "d/drwxrwxrwt"
    for name in ("/su", "/suS", "/sg/g", "/sg/sgS", "/plain", "/tmp", "/sg", "/lost+found"):
        assert ours[name][3] == expected[name][3], name


def _mft_standard_information(image: Path) -> tuple[int, int, int, int]:
    """The four FILETIMEs of $MFT's own $STANDARD_INFORMATION, read from the boot sector and MFT record 0."""
    with open(image, "rb") as fh:
        boot = fh.read(512)
        cluster = struct.unpack_from("<H", boot, 11)[0] * boot[13]
        fh.seek(struct.unpack_from("<Q", boot, 48)[0] * cluster)
        record = fh.read(1024)
    at = struct.unpack_from("<H", record, 20)[0]
    assert struct.unpack_from("<I", record, at)[0] == 0x10  # $STANDARD_INFORMATION comes first
    content = at + struct.unpack_from("<H", record, at + 20)[0]
    return struct.unpack_from("<4Q", record, content)


def test_mft_times_null_where_mkntfs_wrote_none(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Defect 7, found to be neither pytsk3 nor Dalil: mkntfs writes $MFT's $STANDARD_INFORMATION times
    as 0 (no time). libtsk 4.15 (pytsk3) reads 0 as no time, so the row's times are null; Debian's fls
    4.11 turns 0 into 3373865674 (2076-11-29 08:54:34 UTC), the unsigned wrap of 1601-01-01 in its
    FILETIME conversion, which is not a time anyone set. Its $FILE_NAME times are real and kept."""
    image = ntfs_image(tmp_path, {"a.txt": b"x"})
    assert _mft_standard_information(image) == (0, 0, 0, 0)
    rows = {r["path"]: r for r in parse_rows(cli, case_dir, image)}
    mft = rows["/$MFT"]
    assert (mft["mtime"], mft["atime"], mft["ctime"], mft["crtime"]) == (None, None, None, None)
    body = _fls_body(image)
    wrapped = str(((2 ** 64 - 116444736000000000) // 10 ** 7) % 2 ** 32)
    assert body["/$MFT"][7:11] in (["0"] * 4, [wrapped] * 4)  # 0 from a fixed fls, the wrap from 4.11
    ours = _body(cli("timeline", "--exhibit", "EXH-1", "--case", case_dir).stdout)
    assert ours["/$MFT"][7:11] == ["0"] * 4
    assert ours["/$MFT ($FILE_NAME)"][7:11] == body["/$MFT ($FILE_NAME)"][7:11] != ["0"] * 4
