"""Virtual disks (VMDK, VHD, VHDX, QCOW, DMG) read through the libyal bindings: listings and contents
equal TSK's on the same disk (fls/icat on the raw image the container was made from, or on the
container where Debian's TSK reads it), the container layer in `dalil volumes` and the ledger, the
files as received registered and never written; missing extents and parents refused by name."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import gpt_two_partitions, need, run
from parse_helpers import fls_entries, parse_rows, tsk_name

DATA = Path(__file__).resolve().parents[1] / "data" / "containers"
FAT_FILES = {"NOTE.TXT": b"virtual disk note\n" * 40, "PIC.BIN": bytes(range(256)) * 64}
EXT_FILES = {"chat.txt": b"meet at the harbour at nine\n" * 30, "keys.bin": bytes(reversed(range(256))) * 48}


def fingerprint(paths: list[Path]) -> list[tuple[str, int]]:
    return [(hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) for p in paths]


def tsk_listing(image: Path, sector: int | None = None) -> dict[str, tuple[bool, str]]:
    """fls -r -p of the file system at `sector` (None: the whole image) as {path: (deleted, inode)}."""
    cmd = ["fls", "-r", "-p"] + (["-o", str(sector)] if sector is not None else []) + [str(image)]
    out = subprocess.run(cmd, capture_output=True, check=True, text=True, errors="replace").stdout
    listing = image.with_name(image.name + f".fls{sector}.txt")
    listing.write_text(out, encoding="utf-8")
    return fls_entries(listing)


def icat(image: Path, inode: str, sector: int | None = None) -> str:
    cmd = ["icat"] + (["-o", str(sector)] if sector is not None else []) + [str(image), inode]
    return hashlib.sha256(subprocess.run(cmd, capture_output=True, check=True).stdout).hexdigest()


def assert_equals_tsk(rows: list[dict[str, Any]], tsk_image: Path, sector: int | None, partition: int) -> int:
    """The rows of `partition` list what fls lists (names, deleted flags) and allocated files hash as icat."""
    expected = tsk_listing(tsk_image, sector)
    got = {tsk_name(r["path"]): r for r in rows if r["partition"] == partition}
    assert set(got) == set(expected)
    hashed = 0
    for path, (deleted, inode) in expected.items():
        row = got[path]
        assert row["deleted"] == deleted, path
        if not deleted and row["type"] == "r" and row["sha256"] and ":" not in row["path"]:
            assert row["sha256"] == icat(tsk_image, inode, sector), path
            hashed += 1
    return hashed


def ledger_details(case_dir: Path, exhibit: str) -> dict[str, Any]:
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = db.execute("SELECT details FROM runs WHERE kind = 'parse' AND exhibit = ? ORDER BY id DESC",
                          (exhibit,)).fetchall()
    return json.loads(rows[0][0])


def volumes_of(cli: Any, case_dir: Path, exhibit: str) -> list[dict[str, Any]]:
    out = cli("volumes", "--exhibit", exhibit, "--case", case_dir, "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def gpt_raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """A 40 MiB GPT disk (FAT + ext4) made with sfdisk, mkfs.vfat/mtools and mke2fs -d."""
    return gpt_two_partitions(tmp_path_factory.mktemp("gpt"), FAT_FILES, EXT_FILES)


QEMU_FORMATS = [
    ("vmdk", "monolithicSparse", "vmdk", "monolithicSparse"),
    ("vmdk", "monolithicFlat", "vmdk", "monolithicFlat"),
    ("vmdk", "twoGbMaxExtentSparse", "vmdk", "2GbExtentSparse"),
    ("vmdk", "twoGbMaxExtentFlat", "vmdk", "2GbExtentFlat"),
    ("vmdk", "streamOptimized", "vmdk", "streamOptimized"),
    ("vpc", "fixed", "vhd", "fixed"),
    ("vpc", "dynamic", "vhd", "dynamic"),
    ("vhdx", "dynamic", "vhdx", "dynamic"),
    ("vhdx", "fixed", "vhdx", "fixed"),
    ("qcow2", None, "qcow", "v3"),
    ("qcow", None, "qcow", "v1"),
]


@pytest.mark.parametrize("fmt, subformat, scheme, disk_type", QEMU_FORMATS,
                         ids=[f"{f}-{s or 'default'}" for f, s, _, _ in QEMU_FORMATS])
def test_qemu_made_disks_list_like_tsk_on_the_raw(fmt: str, subformat: str | None, scheme: str, disk_type: str,
                                                   gpt_raw: tuple[Path, int, int], cli: Any, case_dir: Path,
                                                   tmp_path: Path) -> None:
    need("qemu-img", "fls", "icat")
    raw, p1, p2 = gpt_raw
    work = tmp_path / "disk"
    work.mkdir()
    disk = work / f"disk.{scheme}"
    run("qemu-img", "convert", "-f", "raw", "-O", fmt, *(["-o", f"subformat={subformat}"] if subformat else []),
        raw, disk)
    files = sorted(work.iterdir())
    before = fingerprint(files)
    rows = parse_rows(cli, case_dir, disk, "VD")
    assert assert_equals_tsk(rows, raw, p1 // 512, p1) >= len(FAT_FILES)
    assert assert_equals_tsk(rows, raw, p2 // 512, p2) >= len(EXT_FILES)
    layer = ledger_details(case_dir, "VD")["container_layer"]
    assert layer["disk_type"] == disk_type and layer["media_size"] >= raw.stat().st_size
    assert sorted(layer["files"]) == [p.name for p in files]  # descriptor and extents: every file read
    vols = volumes_of(cli, case_dir, "VD")
    assert vols[0]["partition"] == -1 and vols[0]["scheme"] == scheme and vols[0]["status"] == "parsed"
    assert [(v["partition"], v["scheme"], v["fs_type"], v["parent"]) for v in vols[1:]] == [
        (p1, "gpt", "FAT16", -1), (p2, "gpt", "ext4", -1)]
    with sqlite3.connect(case_dir / "case.db") as db:
        sha, details = db.execute("SELECT sha256, details FROM evidence WHERE exhibit = 'VD'").fetchone()
    concatenated = hashlib.sha256(b"".join(p.read_bytes() for p in
                                           [work / name for name in layer["files"]])).hexdigest()
    assert sha == concatenated  # the container files as received, in the order read
    if len(files) > 1:
        assert [s["sha256"] for s in json.loads(details)["segments"]] == [
            hashlib.sha256((work / name).read_bytes()).hexdigest() for name in layer["files"]]
    assert fingerprint(files) == before


def test_split_vmdk_missing_extent_is_refused_by_name(gpt_raw: tuple[Path, int, int], cli: Any, case_dir: Path,
                                                      tmp_path: Path) -> None:
    need("qemu-img")
    work = tmp_path / "disk"
    work.mkdir()
    run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", gpt_raw[0],
        work / "split.vmdk")
    extent = work / "split-s001.vmdk"
    assert extent.is_file()
    extent.rename(tmp_path / "elsewhere.bin")
    result = cli("parse", work / "split.vmdk", "--exhibit", "VMDK-CUT", "--case", case_dir, code=1)
    assert "split-s001.vmdk" in result.stderr and "missing its extent" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    with sqlite3.connect(case_dir / "case.db") as db:  # refused before anything is registered
        assert db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk"])
def test_child_disk_reads_through_its_parent(fmt: str, gpt_raw: tuple[Path, int, int], cli: Any, case_dir: Path,
                                             tmp_path: Path) -> None:
    """A child holding only what changed (qemu-img convert -B): listed as TSK lists the changed raw;
    without its parent beside it, refused naming the parent."""
    need("qemu-img", "mcopy", "fls", "icat")
    raw, p1, p2 = gpt_raw
    changed = tmp_path / "changed.raw"
    shutil.copyfile(raw, changed)
    src = tmp_path / "LATER.TXT"
    src.write_bytes(b"written after the base snapshot\n" * 100)
    run("mcopy", "-i", f"{changed}@@{p1}", src, "::/LATER.TXT")
    src.unlink()
    work = tmp_path / "disks"
    work.mkdir()
    run("qemu-img", "convert", "-f", "raw", "-O", fmt, raw, work / f"base.{fmt}")
    run("qemu-img", "convert", "-f", "raw", "-O", fmt, "-B", f"base.{fmt}", "-o", f"backing_fmt={fmt}",
        changed, work / f"child.{fmt}")
    rows = parse_rows(cli, case_dir, work / f"child.{fmt}", "CHILD")
    assert "/LATER.TXT" in {r["path"] for r in rows}
    assert assert_equals_tsk(rows, changed, p1 // 512, p1) >= len(FAT_FILES) + 1
    assert assert_equals_tsk(rows, changed, p2 // 512, p2) >= len(EXT_FILES)
    chain = ledger_details(case_dir, "CHILD")["container_layer"]["chain"]
    assert [c["file"] for c in chain] == [f"child.{fmt}", f"base.{fmt}"]
    (work / f"base.{fmt}").rename(tmp_path / "moved")
    result = cli("parse", work / f"child.{fmt}", "--exhibit", "ORPHAN", "--case", case_dir, code=1)
    assert f"base.{fmt}" in result.stderr and "beside" in result.stderr


def _gunzip(name: str, out: Path) -> Path:
    target = out / name.removeprefix("dfvfs-").removesuffix(".gz")
    with gzip.open(DATA / name, "rb") as a, open(target, "wb") as b:
        shutil.copyfileobj(a, b)
    return target


def test_dfvfs_vhd_qemu_refuses_is_read_directly(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Defect 8: qemu-img says "Incorrect header checksum" for dfvfs image.vhd; TSK (libvhdi) reads
    it, and so does Dalil, listing what fls lists on the same file."""
    need("fls", "icat")
    image = _gunzip("dfvfs-image.vhd.gz", tmp_path)
    if shutil.which("qemu-img"):
        qemu = subprocess.run(["qemu-img", "info", str(image)], capture_output=True, text=True)
        assert qemu.returncode != 0 and "checksum" in qemu.stderr
    rows = parse_rows(cli, case_dir, image, "DFVFS-VHD")
    assert assert_equals_tsk(rows, image, None, 0) == 3
    assert {r["path"] for r in rows if r["deleted"]} >= {"/passwords.txt~", "/a_directory/another_file~"}
    assert ledger_details(case_dir, "DFVFS-VHD")["container_layer"]["disk_type"] == "dynamic"


def test_differencing_vhd_with_its_parent(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    need("fls", "icat")
    parent = _gunzip("dfvfs-image.vhd.gz", tmp_path)
    child = _gunzip("dfvfs-image-differential.vhd.gz", tmp_path)
    before = fingerprint([parent, child])
    rows = parse_rows(cli, case_dir, child, "DIFF")
    assert assert_equals_tsk(rows, parent, None, 0) == 3  # this child changed nothing: TSK on the parent
    layer = ledger_details(case_dir, "DIFF")["container_layer"]
    assert [(c["file"], c["disk_type"]) for c in layer["chain"]] == [
        ("image-differential.vhd", "differencing"), ("image.vhd", "dynamic")]
    assert layer["chain"][0]["parent_identifier"] == layer["chain"][1]["identifier"]
    assert "parent chain image-differential.vhd -> image.vhd" in volumes_of(cli, case_dir, "DIFF")[0]["message"]
    assert fingerprint([parent, child]) == before
    parent.unlink()
    result = cli("parse", child, "--exhibit", "DIFF-ALONE", "--case", case_dir, code=1)
    assert "'image.vhd' is not beside it" in result.stderr


@pytest.mark.parametrize("rel", ["sleuthkit/image.vhd", "sleuthkit/image.vmdk"])
def test_shared_containers_tsk_reads_equal_fls_on_them(rel: str, cli: Any, case_dir: Path,
                                                       testdata: Callable[[str], Path]) -> None:
    """Debian's TSK is built with libvhdi and libvmdk: its fls/icat on the container is the reference."""
    need("fls", "icat")
    image = testdata(f"disk_images/{rel}")
    rows = parse_rows(cli, case_dir, image, "SHARED")
    assert assert_equals_tsk(rows, image, None, 0) == 3
    assert {tsk_name(r["path"]) for r in rows} == set(fls_entries(Path(f"{image}.fls.txt")))


@pytest.mark.parametrize("rel, files", [("sleuthkit/image.qcow", 9), ("dfvfs/ext2.qcow2", 7),
                                        ("plaso/vsstest.qcow2", 36)])
def test_shared_qcow_equal_fls_on_the_qemu_conversion(rel: str, files: int, cli: Any, case_dir: Path,
                                                      tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    need("qemu-img", "fls", "icat")
    image = testdata(f"disk_images/{rel}")
    raw = tmp_path / "converted.raw"
    run("qemu-img", "convert", "-O", "raw", image, raw)
    rows = parse_rows(cli, case_dir, image, "QCOW")
    live = [r for r in rows if r["snapshot"] is None]  # vsstest's shadow-copy views are compared in test_layers
    assert len(live) == files
    assert assert_equals_tsk(live, raw, None, 0) > 0


def test_shared_compressed_dmg_lists_its_hfs_volume(cli: Any, case_dir: Path, tmp_path: Path,
                                                    testdata: Callable[[str], Path]) -> None:
    """A zlib-compressed UDIF image (no TSK here reads UDIF): read through libmodi, its media equal
    to what libmodi gives, the HFS+ volume inside listed as fls lists it on that media."""
    need("fls", "icat")
    import pymodi

    image = testdata("disk_images/dfvfs/hfsplus_zlib.dmg")
    handle = pymodi.handle()
    handle.open(str(image))
    raw = tmp_path / "media.raw"
    raw.write_bytes(handle.read_buffer_at_offset(handle.get_media_size(), 0))
    handle.close()
    rows = parse_rows(cli, case_dir, image, "DMG")
    vols = volumes_of(cli, case_dir, "DMG")
    assert [(v["scheme"], v["fs_type"]) for v in vols] == [("dmg", None), ("gpt", "HFS+")]
    part = vols[1]["partition"]
    assert assert_equals_tsk(rows, raw, part // 512, part) > 0


def test_aff4_is_refused_not_listed_as_a_zip(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Defect 1: an AFF4 container (a zip) was listed as a logical extraction, its metadata members as
    evidence files. pyaff4 does not install on this Python: it is refused, naming the format."""
    image = tmp_path / "dream.aff4"
    shutil.copyfile(DATA / "dream.aff4", image)
    result = cli("parse", image, "--exhibit", "AFF4", "--case", case_dir, code=1)
    assert "dream.aff4 is an AFF4-L logical image" in result.stderr and "aff4imager" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0


def sparse_bundle(raw: Path, bundle: Path, band_size: int = 1024 * 1024) -> list[str]:
    """A sparse bundle laid out as macOS writes one (Info.plist, Info.bckup, token, bands/<hex>),
    bands that are all zeros left out as macOS leaves unwritten bands out. Returns the band names."""
    import plistlib

    data = raw.read_bytes()
    (bundle / "bands").mkdir(parents=True)
    info = plistlib.dumps({"CFBundleInfoDictionaryVersion": "6.0", "band-size": band_size,
                           "bundle-backingstore-version": 1,
                           "diskimage-bundle-type": "com.apple.diskimage.sparsebundle", "size": len(data)})
    (bundle / "Info.plist").write_bytes(info)
    (bundle / "Info.bckup").write_bytes(info)
    (bundle / "token").write_bytes(b"")
    names = []
    for index in range(0, len(data), band_size):
        band = data[index:index + band_size]
        if band.strip(b"\0"):
            names.append(f"{index // band_size:x}")
            (bundle / "bands" / names[-1]).write_bytes(band)
    return names


def test_sparse_bundle_lists_like_tsk_on_the_raw(gpt_raw: tuple[Path, int, int], cli: Any, case_dir: Path,
                                                 tmp_path: Path) -> None:
    need("fls", "icat")
    raw, p1, p2 = gpt_raw
    bundle = tmp_path / "disk.sparsebundle"
    bands = sparse_bundle(raw, bundle)
    assert 1 < len(bands) < 40  # some bands were never written
    before = fingerprint(sorted(p for p in bundle.rglob("*") if p.is_file()))
    rows = parse_rows(cli, case_dir, bundle, "BUNDLE")
    assert assert_equals_tsk(rows, raw, p1 // 512, p1) >= len(FAT_FILES)
    assert assert_equals_tsk(rows, raw, p2 // 512, p2) >= len(EXT_FILES)
    layer = ledger_details(case_dir, "BUNDLE")["container_layer"]
    assert layer["format"] == "sparsebundle" and layer["files"] == ["Info.plist"] + bands
    assert layer["chain"][0]["absent_bands"] == 40 - len(bands)
    assert volumes_of(cli, case_dir, "BUNDLE")[0]["scheme"] == "sparsebundle"
    cli("parse", bundle, "--exhibit", "BUNDLE", "--case", case_dir)  # parsed again by the same folder
    cli("parse", "BUNDLE", "--exhibit", "BUNDLE", "--case", case_dir)  # and by its exhibit id
    cli("export", "--exhibit", "BUNDLE", "--case", case_dir, "--out", tmp_path / "out")
    assert (tmp_path / "out" / "BUNDLE" / f"p{p2}" / "chat.txt").read_bytes() == EXT_FILES["chat.txt"]
    assert fingerprint(sorted(p for p in bundle.rglob("*") if p.is_file())) == before


@pytest.mark.parametrize("method, name", [("luks", "LUKS"), ("aes", "AES")])
def test_encrypted_qcow_is_refused_not_read_as_ciphertext(method: str, name: str, gpt_raw: tuple[Path, int, int],
                                                          cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """libqcow opens an encrypted QCOW2 without a key and does not say it is locked: its ciphertext
    would be read as the disk (no file system, or worse). The header's crypt_method tells."""
    need("qemu-img")
    disk = tmp_path / "secret.qcow2"
    for attempt in range(1, 6):
        try:
            run("qemu-img", "convert", "--object", "secret,id=sec0,data=correct-horse", "-f", "raw", "-O", "qcow2",
                "-o", f"encrypt.format={method},encrypt.key-secret=sec0", gpt_raw[0], disk)
            break
        except subprocess.CalledProcessError as exc:
            # qemu-img times PBKDF2 to choose a LUKS iteration count, and gives up on a loaded machine
            # ("Unable to get accurate CPU usage"): the disk is made again, nothing of ours is retried
            if b"accurate CPU usage" not in (exc.stderr or b"") or attempt == 5:
                raise AssertionError(f"qemu-img: {(exc.stderr or b'').decode(errors='replace')}") from exc
    result = cli("parse", disk, "--exhibit", "ENC", "--case", case_dir, code=1)
    assert f"secret.qcow2 is a QCOW image encrypted with {name}" in result.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        assert db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0


def test_sparse_bundle_declaring_millions_of_bands_is_refused(gpt_raw: tuple[Path, int, int], cli: Any,
                                                               case_dir: Path, tmp_path: Path) -> None:
    """Info.plist is the suspect's: an 8 GiB disk in 512-byte bands is 16 million band objects (GBs of
    memory) before a byte is read; refused in one line, nothing registered."""
    import plistlib

    bundle = tmp_path / "huge.sparsebundle"
    sparse_bundle(gpt_raw[0], bundle)
    info = plistlib.loads((bundle / "Info.plist").read_bytes())
    info.update({"band-size": 512, "size": 8 << 30})
    (bundle / "Info.plist").write_bytes(plistlib.dumps(info))
    result = cli("parse", bundle, "--exhibit", "HUGE", "--case", case_dir, code=1)
    assert "16,777,216 bands" in result.stderr and "refusing" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("where", ["backing", "band"])
def test_symbolic_link_out_of_the_folder_is_not_followed(where: str, gpt_raw: tuple[Path, int, int], cli: Any,
                                                         case_dir: Path, tmp_path: Path) -> None:
    """A backing file or band beside the image that is a symbolic link elsewhere (put there on the seized
    media) is refused by name, never read and registered as part of this exhibit."""
    need("qemu-img")
    raw = gpt_raw[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    work = tmp_path / "disk"
    if where == "backing":
        work.mkdir()
        run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, elsewhere / "base.qcow2")
        (work / "base.qcow2").symlink_to(elsewhere / "base.qcow2")
        run("qemu-img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", work / "child.qcow2")
        image, name = work / "child.qcow2", "base.qcow2"
    else:
        image = work / "disk.sparsebundle"
        bands = sparse_bundle(raw, image)
        (image / "bands" / bands[0]).rename(elsewhere / bands[0])
        (image / "bands" / bands[0]).symlink_to(elsewhere / bands[0])
        name = bands[0]
    result = cli("parse", image, "--exhibit", "LINK", "--case", case_dir, code=1)
    assert f"{name} beside the image is a symbolic link out of its folder" in result.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        assert db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0


def test_aff4_check_reads_one_mib_of_a_bombed_turtle(tmp_path: Path) -> None:
    """Every zip is asked whether it is AFF4: an `information.turtle` member inflating to 256 MiB (from
    a few hundred KB, as a suspect's zip may) is read to its first MiB only, not inflated whole."""
    import tracemalloc
    import zipfile

    from triage.image import aff4

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("information.turtle", "w",
                                                                          force_zip64=True) as member:
        member.write(b"@prefix aff4: <http://aff4.org/Schema#> . aff4:ImageStream ")
        for _ in range(256):
            member.write(bytes(1 << 20))
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        assert aff4.kind(bomb) == "AFF4 disk image"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20
