"""`dalil parse --carve` on images built here: deleted files whose metadata is gone (ext4 clears block
pointers; FAT loses the chain) and files written straight into free blocks, found at their exact
offset, length and SHA-256; free space equal to `blkls`'s; the evidence file never written."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
import pytsk3

import carve_fixtures as fx
from build_images import ext4_image, fat_image, gpt_two_partitions, need, ntfs_image, run
from parse_helpers import materialise, parse_rows
from triage.image import unalloc
from triage.image.carve import free_space, scan
from triage.image.carvers import FORMATS, Region
from triage.image.walk import Volume, fs_name, volumes


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blkls_free(image: Path, offset_sectors: int = 0) -> set[int]:
    """Unallocated block numbers as `blkls -l -A` lists them."""
    cmd = ["blkls", "-l", "-A"] + (["-o", str(offset_sectors)] if offset_sectors else []) + [str(image)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {int(a) for a, _, flag in (line.partition("|") for line in out.splitlines()) if a.isdigit() and flag == "f"}


def _blocks(ranges: unalloc.Ranges, base: int, block: int) -> set[int]:
    out: set[int] = set()
    for start, end in ranges:
        assert (start - base) % block == 0 and (end - base) % block == 0
        out.update(range((start - base) // block, (end - base) // block))
    return out


def _plant(image: Path, items: list[bytes], block: int) -> list[int]:
    """Write `items` into the longest run of free blocks (by `blkls`), at its end, each on a block
    boundary with two zero blocks between them: files whose metadata never existed. Offsets returned."""
    free = sorted(_blkls_free(image))
    runs: list[tuple[int, int]] = []
    for b in free:
        if runs and runs[-1][1] == b:
            runs[-1] = (runs[-1][0], b + 1)
        else:
            runs.append((b, b + 1))
    first, end = max(runs, key=lambda r: r[1] - r[0])
    sizes = [-(-len(d) // block) + 2 for d in items]
    at = end - sum(sizes)
    assert at > first + 64, "not enough free space to plant in"
    offsets = []
    with open(image, "r+b") as fh:
        for data, size in zip(items, sizes):
            offsets.append(at * block)
            fh.seek(at * block)
            fh.write(data)
            at += size
    return offsets


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _carved(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["offset"]: r for r in rows if r["carved"]}


def test_ext4_deleted_and_planted_files_carved_exactly(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    need("mke2fs", "debugfs", "blkls")
    deleted = {"photo.jpg": fx.jpeg(3, gps=fx.GPS), "shot.png": fx.png(5), "anim.gif": fx.gif(7),
               "report.pdf": fx.pdf("invoice 4471"), "letter.docx": fx.docx("the shipment")}
    image = ext4_image(tmp_path, {**deleted, "kept.txt": b"still here\n"}, list(deleted))
    planted = {"sqlite": fx.sms_db(tmp_path), "mp4": fx.mp4(b"isom", 30), "3gp": fx.mp4(b"3gp5", 20),
               "opus": fx.opus(4), "webp": fx.webp(9), "tgs": fx.tgs(5), "jpg": fx.cut_jpeg(4)}
    offsets = _plant(image, list(planted.values()), 1024)
    raw = image.read_bytes()
    expected: dict[int, tuple[str, bytes]] = {}
    for name, data in deleted.items():
        at = raw.find(data)
        assert at > 0 and at % 1024 == 0, name  # whole and contiguous in free blocks, as written
        expected[at] = (name.rsplit(".", 1)[1], data)
    expected.update({at: (ext, data) for at, (ext, data) in zip(offsets, planted.items())})
    before = _file_sha(image)

    rows = parse_rows(cli, case_dir, image, "EXH-1", "--carve")
    carved = _carved(rows)
    assert set(carved) == set(expected)  # every file found, nothing else
    for at, (ext, data) in expected.items():
        row = carved[at]
        length = len(data)
        assert (row["path"], row["length"], row["size"], row["sha256"]) == (f"/$Carved/{at}.{ext}", length, length,
                                                                             _sha(data)), ext
        assert row["deleted"] and row["recovered"] and row["partition"] == 0 and row["inode"] is None
        assert row["mtime"] is None and row["crtime"] is None
    cut = carved[offsets[-1]]
    assert "truncated JPEG" in cut["recovered_note"] and cut["mime"] == "image/jpeg"
    photo = carved[raw.find(deleted["photo.jpg"])]
    assert photo["gps"] is not None and abs(photo["gps"]["lat"] - fx.GPS[0]) < 1e-3
    assert abs(photo["gps"]["lon"] - fx.GPS[1]) < 1e-3
    assert {carved[at]["mime"] for at in offsets[:3]} == {"application/vnd.sqlite3", "video/mp4", "video/3gpp"}
    assert _file_sha(image) == before  # the evidence is never written

    only = json.loads("[" + ",".join(cli("files", "--case", case_dir, "--carved", "--format", "jsonl")
                                     .stdout.split("\n")[:-1]) + "]")
    assert {r["offset"] for r in only} == set(expected) and all(r["carved"] for r in only)
    parsed = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()
              if json.loads(line)["action"] == "parsed"][-1]
    area = parsed["details"]["carving"][0]
    assert area["kind"] == "unallocated" and area["fs_type"] == "ext4" and area["status"] == "scanned"
    assert area["bytes_scanned"] == sum(b - a for a, b in unalloc.ext(_reader(image), 0))
    assert sum(area["carved"].values()) == len(expected)

    from reports import data as report_data  # the report's gaps say what was scanned and carved
    from triage.core.case import Case
    loaded = report_data.load(Case.open(str(case_dir)))
    gaps = [g for g in loaded.gaps() if g["location"].startswith("carving")]
    assert gaps and f"{area['bytes_scanned']:,} bytes of unallocated space scanned" in gaps[0]["message"]
    finding = next(f for f in loaded.findings() if f["carved"] and f["gps_lat"] is not None)  # the photo, by GPS
    assert {"code": "carved", "detail": f"offset {photo['offset']}, length {photo['length']}"} in finding["reasons"]


def _reader(image: Path) -> Callable[[int, int], bytes]:
    data = image.read_bytes()
    return lambda offset, length: data[offset:offset + length]


def test_carved_sqlite_database_read_by_the_phone_parsers(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A deleted mmssms.db with no name left is recognised by its tables and its messages read."""
    need("mke2fs", "blkls")
    image = ext4_image(tmp_path, {"note.txt": b"x\n"}, [])
    db = fx.sms_db(tmp_path)
    (at,) = _plant(image, [db], 1024)
    cli("parse", image, "--exhibit", "PH", "--case", case_dir, "--carve", "--no-yara")
    messages = [json.loads(line) for line in cli("messages", "--case", case_dir, "--format", "jsonl")
                .stdout.splitlines() if line.strip()]
    assert sorted(m["text"] for m in messages) == sorted(fx.SMS_TEXTS)
    assert {m["source"]["path"] for m in messages} == {f"/$Carved/{at}.sqlite"}
    runs = [json.loads(line) for line in cli("artifacts", "--case", case_dir, "--format", "jsonl")
            .stdout.splitlines() if line.strip()]
    assert [(r["parser"], r["files"][0]["sha256"]) for r in runs] == [("android.sms", _sha(db))]


def test_fat_deleted_files_carved_and_exported(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """FAT: the chain of a deleted file is gone (TSK guesses it contiguous); carving finds the content
    by its structure. `dalil export --carved` copies them, named safely, hash-checked."""
    need("blkls")
    whole = fx.jpeg(6, (400, 300))
    cut_at = len(whole) * 6 // 10 // 2048 * 2048 - 100  # 100 bytes short of a cluster's end (2 KiB clusters)
    while whole[cut_at - 1] == 0:
        cut_at -= 1
    files = {"DCIM/IMG_0001.JPG": fx.jpeg(21, gps=fx.GPS), "DOCS/A.PDF": fx.pdf("receipt"),
             "DOCS/B.DOCX": fx.docx("route"), "V.MP4": fx.mp4(b"mp42", 25), "CUT.JPG": whole[:cut_at],
             "NEXT.GIF": fx.gif(2), "KEEP.PNG": fx.png(8)}
    # CUT.JPG's clusters are followed at once by NEXT.GIF's: the cut picture ends where the GIF starts
    image = fat_image(tmp_path, files, [n for n in files if n != "KEEP.PNG"], size_mb=16)
    raw = image.read_bytes()
    assert raw[11:14] == b"\x00\x02\x04"  # 512-byte sectors, 4 a cluster: no zero sector after the cut JPEG
    assert raw.find(files["NEXT.GIF"]) == raw.find(files["CUT.JPG"]) + cut_at + 100
    expected = {raw.find(data): data for name, data in files.items() if name != "KEEP.PNG"}
    before = _file_sha(image)
    rows = parse_rows(cli, case_dir, image, "EXH-1", "--carve")
    carved = _carved(rows)
    assert set(carved) == set(expected)  # the allocated PNG is not carved: its clusters are in use
    for at, data in expected.items():
        assert (carved[at]["length"], carved[at]["sha256"]) == (len(data), _sha(data))
    assert {carved[at]["path"].rsplit(".", 1)[1] for at in expected} == {"jpg", "pdf", "docx", "mp4", "gif"}
    cut = carved[raw.find(files["CUT.JPG"])]
    assert "truncated JPEG" in cut["recovered_note"] and raw.find(files["NEXT.GIF"]) > cut["offset"] + cut["length"]
    out = tmp_path / "out"
    cli("export", "--exhibit", "EXH-1", "--carved", "--out", out, "--case", case_dir)
    copies = {_sha(p.read_bytes()) for p in out.rglob("*") if p.is_file() and p.suffix not in (".csv", ".json")}
    assert copies >= {_sha(d) for d in expected.values()}
    index = next(p for p in out.rglob("*.csv") if "index" in p.name).read_text()
    assert index.count(",ok,") == len(expected) and "$Carved" in index
    assert _file_sha(image) == before


def test_unpartitioned_space_carved(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A picture in the gap between the partition table and the first partition (outside every
    file system) is carved as partition 0's."""
    image, p1, _p2 = gpt_two_partitions(tmp_path, {"A.TXT": b"a"}, {"b.txt": b"b"})
    picture = fx.jpeg(13)
    at = 40 * 512  # after the GPT's entries (sectors 2-33), before the first partition (sector 2048)
    assert at + len(picture) < p1
    with open(image, "r+b") as fh:
        fh.seek(at)
        fh.write(picture)
    rows = parse_rows(cli, case_dir, image, "EXH-1", "--carve")
    carved = _carved(rows)
    assert set(carved) == {at}
    assert (carved[at]["partition"], carved[at]["path"], carved[at]["sha256"]) == (0, f"/$Carved/{at}.jpg",
                                                                                     _sha(picture))
    parsed = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()
              if json.loads(line)["action"] == "parsed"][-1]
    kinds = [(a["kind"], a["fs_type"]) for a in parsed["details"]["carving"]]
    assert kinds == [("unallocated", "FAT16"), ("unallocated", "ext4"), ("unpartitioned", None)]


def test_carve_off_by_default_and_nothing_to_carve_in_a_folder(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    need("mke2fs", "blkls")
    image = ext4_image(tmp_path, {"note.txt": b"x\n"}, [])
    _plant(image, [fx.png(3)], 1024)
    assert not _carved(parse_rows(cli, case_dir, image, "EXH-1"))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(fx.jpeg(2))
    out = cli("parse", folder, "--exhibit", "DIR", "--case", case_dir, "--carve")
    assert "no unallocated space: nothing carved" in out.stderr + out.stdout


@pytest.mark.parametrize("kind", ["ext4", "ext4-noflex", "ext2", "fat12", "fat16", "fat32", "ntfs"])
def test_free_space_is_blkls(kind: str, tmp_path: Path) -> None:
    """The unallocated ranges read from the allocation maps are the blocks `blkls -A` lists."""
    need("blkls", "mke2fs", "mkfs.vfat")
    files = {"a.bin": bytes(range(256)) * 40, "b.bin": b"b" * 5000, "c.bin": b"c" * 70000}
    if kind.startswith("fat"):
        bits = kind[3:]
        image = tmp_path / f"{kind}.img"
        with open(image, "wb") as fh:
            fh.truncate((40 if bits == "32" else 16 if bits == "16" else 2) * 1024 * 1024)
        run("mkfs.vfat", "-F", bits, image)
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
            run("mcopy", "-i", image, tmp_path / name, f"::/{name}")
        run("mdel", "-i", image, "::/b.bin")
    elif kind == "ntfs":
        image = ntfs_image(tmp_path, files)
    else:
        root = tmp_path / "root"
        root.mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        image = tmp_path / "e.img"
        fstype = "ext2" if kind == "ext2" else "ext4"
        run("mke2fs", "-q", "-t", fstype, *(["-O", "^flex_bg"] if kind == "ext4-noflex" else []), "-d", root, image,
            "48M")
        run("debugfs", "-w", "-R", "rm /b.bin", image)
    img = pytsk3.Img_Info(str(image))
    fs = pytsk3.FS_Info(img)
    size = img.get_size()
    ranges = free_space(img.read, fs, Volume(0, size, None, "whole"))
    assert ranges is not None
    assert fs_name(fs).lower().startswith(kind[:3])
    block = int(fs.info.block_size)
    assert _blocks(ranges, 0, block) == _blkls_free(image) != set()


def _region(data: bytes) -> Region:
    return Region(lambda offset, length: data[offset:offset + length], 0, len(data))


def test_carvers_refuse_headers_without_structure_and_cut_files() -> None:
    tail = bytes(4096)
    assert FORMATS["jpeg"].carve(_region(b"\xff\xd8\xff\xe0\x00\x10JFIF" + tail)) is None  # no frame, no scan
    assert FORMATS["zip"].carve(_region(b"PK\x03\x04" + b"\x14" * 200 + tail)) is None  # no central directory
    assert FORMATS["sqlite"].carve(_region(b"SQLite format 3\x00" + bytes(84) + tail)) is None  # page size 0
    assert FORMATS["mp4"].carve(_region(b"\x00\x00\x00\x18ftypisom" + bytes(12) + tail)) is None  # ftyp alone
    sticker = fx.tgs(1)
    assert FORMATS["gzip"].carve(_region(sticker[:-4] + b"\0\0\0\1" + tail)) is None  # length in trailer wrong
    assert FORMATS["gzip"].carve(_region(sticker[:len(sticker) // 2] + tail)) is None  # stream cut
    whole = fx.png(4)
    cut = FORMATS["png"].carve(_region(whole[:len(whole) // 2] + tail))
    assert cut is not None and cut.note and "truncated PNG" in cut.note
    assert cut.length == len(whole[:len(whole) // 2].rstrip(b"\0"))
    pic = fx.gif(3)
    assert FORMATS["gif"].carve(_region(pic + tail)).length == len(pic)  # type: ignore[union-attr]


def test_headers_only_at_sector_starts_and_not_inside_a_carved_file() -> None:
    """A header off a sector boundary is not a file start (a thumbnail, a copy inside another file's
    data); neither is a header inside a file already carved."""
    inner = fx.jpeg(5, (64, 48))
    outer = fx.pdf("x")[:-6] + b"\n" + inner + b"\n%%EOF\n"  # a PDF holding a JPEG
    data = bytearray(64 * 1024)
    data[700:700 + len(inner)] = inner  # not on a sector boundary
    data[4096:4096 + len(outer)] = outer
    found = [(at, fmt.name, c.length) for at, fmt, c in scan(lambda o, n: bytes(data[o:o + n]), [(0, len(data))])]
    assert found == [(4096, "pdf", len(outer))]


def test_ntfs_free_clusters_carved(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """NTFS: pictures and a voice note written into clusters `$Bitmap` marks free."""
    need("blkls")
    image = ntfs_image(tmp_path, {"kept.txt": b"kept\n"})
    planted = [fx.jpeg(31, gps=fx.GPS), fx.opus(3), fx.webp(4)]
    offsets = _plant(image, planted, 4096)
    before = _file_sha(image)
    carved = _carved(parse_rows(cli, case_dir, image, "EXH-1", "--carve"))
    assert {at: (r["length"], r["sha256"]) for at, r in carved.items()} == {
        at: (len(d), _sha(d)) for at, d in zip(offsets, planted)}
    assert [carved[at]["path"].rsplit(".", 1)[1] for at in offsets] == ["jpg", "opus", "webp"]
    assert _file_sha(image) == before


def test_carving_progress_names_the_area_and_the_bytes_scanned(case_dir: Path, tmp_path: Path) -> None:
    """The carving line (what `dalil parse` shows while it carves) goes through the walk's location
    callback: the area, the megabytes of free space scanned of the total, the files found so far."""
    from triage.core.case import Case
    from triage.image import parse as engine

    need("mke2fs", "blkls")
    image = ext4_image(tmp_path, {"note.txt": b"x\n"}, [])
    _plant(image, [fx.png(1), fx.gif(2)], 1024)
    seen: list[str] = []
    options = engine.ParseOptions(exhibit="EXH-P", no_yara=True, carve=True, jobs=1,
                                  on_entry=lambda files, nbytes, where, reading: seen.append(where))
    result = engine.run(Case.open(str(case_dir)), str(image), options)
    lines = [w for w in seen if w.startswith("carving ")]
    total = sum(b - a for a, b in unalloc.ext(_reader(image), 0))
    assert lines[-1] == f"carving EXH-P partition 0: {total / 1e6:,.1f} of {total / 1e6:,.1f} MB of free space " \
                        "scanned, 2 found"
    assert result.carving is not None and result.carving[0]["carved"] == {"gif": 1, "png": 1}


SHARED_FREE = ["dfir_ntfs/ntfs3.raw.gz", "dfir_ntfs/ntfs_index.raw.gz", "dfir_ntfs/fat16.raw.gz",
               "dfir_ntfs/fat_deleted_dir_2.raw.gz", "dfir_ntfs/win_exfat_7.raw.gz", "dfir_ntfs/exfat_orphan.raw.gz",
               "dfvfs/mbr.raw.gz", "plaso/tsk_volume_system.raw"]


@pytest.mark.parametrize("rel", SHARED_FREE)
def test_free_space_is_blkls_on_shared_images(rel: str, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    """Images made by Windows and other tools (shared test data): every volume's free space, as `blkls`."""
    need("blkls")
    image = materialise(testdata(f"disk_images/{rel}"), tmp_path)
    img = pytsk3.Img_Info(str(image))
    checked = 0
    for vol in volumes(img, img.get_size())[1]:
        try:
            fs = pytsk3.FS_Info(img, offset=vol.offset)
        except OSError:
            continue
        ranges = free_space(img.read, fs, vol)
        assert ranges is not None, fs_name(fs)
        block = int(fs.info.block_size)
        assert _blocks(ranges, vol.offset, block) == _blkls_free(image, vol.offset // 512), vol.offset
        checked += 1
    assert checked


def test_split_image_carved_like_its_raw_twin(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A split raw image is read for carving through its segments (not one file): the same carved
    rows as the single raw file, and `export --carved` reads them back from the segments."""
    need("mke2fs", "blkls")
    image = ext4_image(tmp_path, {"note.txt": b"x\n"}, [])
    planted = [fx.jpeg(41), fx.pdf("split"), fx.mp4(b"isom", 12)]
    _plant(image, planted, 1024)
    data = image.read_bytes()
    third = len(data) // 3 + 1
    split = tmp_path / "split"
    split.mkdir()
    for i in range(3):
        (split / f"disk.{i + 1:03d}").write_bytes(data[i * third:(i + 1) * third])

    def carved_of(path: Path, exhibit: str) -> set[tuple[int, int, str]]:
        return {(r["offset"], r["length"], r["sha256"]) for r in parse_rows(cli, case_dir, path, exhibit, "--carve")
                if r["carved"]}

    whole = carved_of(image, "RAW")
    assert whole == carved_of(split / "disk.001", "SPLIT") and {s for _, _, s in whole} == {_sha(d) for d in planted}
    out = tmp_path / "out"
    cli("export", "--exhibit", "SPLIT", "--carved", "--out", out, "--case", case_dir)
    assert {_sha(p.read_bytes()) for p in out.rglob("*") if p.is_file()} >= {_sha(d) for d in planted}


class _Carved:
    """A carved file as the walk hands it to the collector (content in memory here)."""

    carved = True
    deleted = True

    def __init__(self, offset: int, data: bytes) -> None:
        self.partition, self.path, self.name = 0, f"/$Carved/{offset}.sqlite", f"{offset}.sqlite"
        self.data, self.size = data, len(data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]


def test_collector_takes_carved_databases_by_their_tables(tmp_path: Path) -> None:
    """A carved database is kept for the parsers whose TABLES it has, whether its content came with it
    (a small file) or must be read (a large one: data None); other carved files are left alone."""
    from triage.artifacts import load
    from triage.artifacts.collect import Collector

    collector = Collector(tmp_path / "work", load())
    sms = fx.sms_db(tmp_path)
    collector.offer(_Carved(4096, sms), sms)
    collector.offer(_Carved(8192, sms), None)
    other = sqlite3_bytes(tmp_path)
    collector.offer(_Carved(16384, other), other)
    picture = fx.png(1)
    collector.offer(_Carved(32768, picture), None)
    groups = collector.groups()
    assert sorted((g.main.path, g.parsers) for g in groups if g.main) == [
        ("/$Carved/4096.sqlite", ("android.sms",)), ("/$Carved/8192.sqlite", ("android.sms",))]
    assert not collector.errors
    collector.cleanup()


def sqlite3_bytes(tmp: Path) -> bytes:
    import sqlite3

    path = tmp / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["jpeg", "pdf"])
def test_a_file_in_dense_free_space_is_not_read_past_its_end(kind: str) -> None:
    """A whole JPEG (or PDF) followed by 64 MiB of old data (no zero sector, no header): carved to its
    end reading about one chunk, not up to the next zero sector or the end of the free run."""
    whole = fx.jpeg(8) if kind == "jpeg" else fx.pdf("dense")
    data = whole + b"\x11" * (64 * 1024 * 1024)
    read_bytes = 0

    def read(offset: int, length: int) -> bytes:
        nonlocal read_bytes
        piece = data[offset:offset + length]
        read_bytes += len(piece)
        return piece

    found = FORMATS[kind].carve(Region(read, 0, len(data)))
    assert found is not None and found.length == len(whole) and found.note is None
    assert read_bytes < 4 * 1024 * 1024


def test_pdf_carved_to_its_last_revision_and_no_further() -> None:
    """An incrementally updated PDF ends at its last `%%EOF`; what follows (old data, another PDF in
    the next sector) is not part of it."""
    first = fx.pdf("v1")
    updated = first + (b"6 0 obj\n<< /Producer (edit) >>\nendobj\nxref\n0 1\n0000000000 65535 f \n"
                       b"trailer\n<< /Size 7 /Prev 9 >>\nstartxref\n%d\n%%%%EOF\n" % len(first))
    for tail in (bytes(4096), b"old text, not a PDF " * 400, b"\x11" * 5000):
        data = updated + tail
        assert FORMATS["pdf"].carve(_region(data)) == FORMATS["pdf"].carve(_region(updated)) is not None
        assert FORMATS["pdf"].carve(_region(data)).length == len(updated)  # type: ignore[union-attr]
    padded = updated + b"\n" * (-len(updated) % 512)  # the next PDF starts at the next sector
    data = padded + fx.pdf("another") + bytes(1024)
    assert FORMATS["pdf"].carve(_region(data)).length == len(updated)  # type: ignore[union-attr]


def test_sparse_virtual_disk_carves_only_what_it_stores(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A QCOW2 disk claiming 64 GiB that stores a few MiB: its never-written space reads as zeros and is
    not scanned (qemu-img map gives the allocation), so carving ends in seconds, not after reading
    64 GiB of zeros; a picture written 40 GiB in is still found, and the ledger says what was skipped."""
    need("qemu-img")
    image, _p1, _p2 = gpt_two_partitions(tmp_path, {"A.TXT": b"a"}, {"b.txt": b"b"})
    near, far = fx.jpeg(21), fx.jpeg(22)
    sparse = tmp_path / "sparse.raw"
    with open(sparse, "wb") as fh:
        fh.write(image.read_bytes())
        fh.seek(40 * 512)
        fh.write(near)
        fh.seek(40 << 30)
        fh.write(far)
        fh.truncate(64 << 30)
    disk = tmp_path / "disk.qcow2"
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", sparse, disk)
    sparse.unlink()
    assert disk.stat().st_size < 64 << 20
    before = _file_sha(disk)
    rows = parse_rows(cli, case_dir, disk, "EXH-1", "--carve")
    carved = _carved(rows)
    assert {at: r["sha256"] for at, r in carved.items()} == {40 * 512: _sha(near), 40 << 30: _sha(far)}
    parsed = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()
              if json.loads(line)["action"] == "parsed"][-1]
    [outside] = [a for a in parsed["details"]["carving"] if a["kind"] == "unpartitioned"]
    assert "never written in the sparse virtual disk" in outside["message"]
    assert outside["bytes_scanned"] < 64 << 20  # scanned: what the disk stores, not its 64 GiB
    assert _file_sha(disk) == before


def test_allocation_map_must_tile_the_disk_or_is_ignored() -> None:
    """qemu-img's map is trusted only when it covers the disk exactly; anything else: carve everything."""
    from triage.image import allocation

    good = b'[{"start": 0, "length": 10, "data": true, "zero": false},' \
           b' {"start": 10, "length": 20, "data": false, "zero": true},' \
           b' {"start": 30, "length": 5, "data": true, "zero": true},' \
           b' {"start": 35, "length": 5, "data": true}]'
    assert allocation._parse(good, 40) == [(0, 10), (35, 40)]
    assert allocation._parse(good, 50) is None                      # short of the disk's size
    assert allocation._parse(b'[{"start": 5, "length": 35, "data": true}]', 40) is None  # a gap at 0
    assert allocation._parse(b'[{"start": 0, "length": -1, "data": true}]', 40) is None
    assert allocation._parse(b"not json", 40) is None and allocation._parse(b"{}", 40) is None
    assert allocation.intersect([(0, 100), (200, 300)], [(50, 250)]) == [(50, 100), (200, 250)]
    assert allocation.intersect([(0, 100)], []) == []
