"""Volume layers: encrypted volumes (recognised on every volume, opened with a key), LVM2 logical
volumes, Volume Shadow Copy stores, f2fs, random-looking volumes. Listings compared with `fls` on
the plain file system (LUKS), on the LV's extents (LVM), on each store (VSS)."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import MiB, ext4_image, fat_image, need, run, sha256
from layer_images import encrypt_luks2, f2fs_image, fls_paths, luks_image, lvm_image, qcow2_to_raw
from parse_helpers import body_sizes, fls_entries, parse_rows

PASSWORD = "correct-horse-7781"
SECRET = "خطة الرحلة — meet at the harbour 03:00\n".encode() * 10


def volumes_of(cli: Any, case_dir: Path, exhibit: str) -> list[dict[str, Any]]:
    out = cli("volumes", "--case", case_dir, "--exhibit", exhibit, "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def case_text(case_dir: Path) -> bytes:
    """Every byte the case keeps (database, ledger, logs), to look for a key in it."""
    return b"".join(p.read_bytes() for p in sorted(case_dir.rglob("*")) if p.is_file())


def test_luks1_is_reported_locked_and_opened_with_its_password(cli: Any, case_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    image, plain = luks_image(tmp_path, {"plan.txt": SECRET, "d/inner.bin": b"\x01" * 5000}, PASSWORD, 1)
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    result = cli("parse", image, "--exhibit", "LOCKED", "--case", case_dir, "--no-yara", code=1)
    assert "LUKS1" in result.stderr and "--password" in result.stderr
    [row] = volumes_of(cli, case_dir, "LOCKED")
    assert row["encrypted"] == "luks" and row["status"] == "locked" and row["files"] == 0
    assert "aes-xts-plain64" in row["message"] and "key slot 0" in row["message"]

    monkeypatch.setenv("DALIL_VOLUME_PASSWORD", "nope")
    wrong = cli("parse", image, "--exhibit", "WRONG", "--case", case_dir, "--no-yara", code=1)
    assert "does not open it" in wrong.stderr
    monkeypatch.delenv("DALIL_VOLUME_PASSWORD")

    recovery = "111111-222222-333333-444444-555555-666666-777777-888888"
    rows = parse_rows(cli, case_dir, image, "OPEN", "--no-yara", "--password", PASSWORD, "--recovery-key", recovery)
    [row] = volumes_of(cli, case_dir, "OPEN")
    assert row["encrypted"] == "luks" and row["status"] == "parsed" and row["fs_type"] == "ext2"
    assert row["message"].endswith("opened with the password")
    expected = fls_paths(plain)
    assert {r["path"] for r in rows} == set(expected)
    assert {r["path"]: r["inode"] for r in rows} == {p: int(i.split("-")[0]) for p, (_d, i) in expected.items()}
    assert next(r for r in rows if r["path"] == "/plan.txt")["sha256"] == sha256(SECRET)
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before  # evidence untouched
    kept = case_text(case_dir)
    assert PASSWORD.encode() not in kept and recovery.encode() not in kept  # no key in any file of the case
    ledger = [json.loads(line) for line in cli("log", "--case", case_dir, "--format", "jsonl").stdout.splitlines()
              if line.strip()]
    parsed = [e for e in ledger if e["action"] == "parsed" and "OPEN" in e["command"]]
    assert parsed[-1]["details"]["volume_keys_given"] == ["password", "recovery-key"]
    assert [(p["encrypted"], p["status"], p.get("read_with")) for p in parsed[-1]["details"]["partitions"]] == [
        ("luks", "parsed", "password")]  # which layer was read with which kind of key
    assert "<redacted>" in parsed[-1]["command"]
    # export and preview re-open the volume with the key from the environment
    monkeypatch.setenv("DALIL_VOLUME_PASSWORD", PASSWORD)
    out = tmp_path / "out"
    cli("export", "--exhibit", "OPEN", "--out", out, "--case", case_dir)
    assert [p.read_bytes() for p in out.rglob("plan.txt")] == [SECRET]
    from triage.core.case import Case
    from triage.image import content

    case = Case.open(case_dir)
    [plan] = [dict(r) for r in case.store.query("SELECT * FROM files WHERE exhibit = 'OPEN' AND path = '/plan.txt'")]
    assert content.read(case, plan, 0, 40) == SECRET[:40]


@pytest.mark.parametrize("argon2, sector_size", [(False, 512), (True, 4096)])
def test_luks2_is_opened_without_device_mapper(cli: Any, case_dir: Path, tmp_path: Path, argon2: bool,
                                               sector_size: int) -> None:
    image, plain = luks_image(tmp_path, {"plan.txt": SECRET, "d/e/deep.bin": b"\x02" * 70000}, PASSWORD, 2,
                              argon2=argon2, sector_size=sector_size)
    result = cli("parse", image, "--exhibit", "L2", "--case", case_dir, "--no-yara", code=1)
    assert "LUKS2" in result.stderr and "aes-xts-plain64" in result.stderr and "key slot 0" in result.stderr
    wrong = cli("parse", image, "--exhibit", "L2W", "--case", case_dir, "--no-yara", "--password", "nope", code=1)
    assert "does not open it" in wrong.stderr
    rows = parse_rows(cli, case_dir, image, "L2OK", "--no-yara", "--password", PASSWORD)
    [row] = volumes_of(cli, case_dir, "L2OK")
    assert row["encrypted"] == "luks" and row["status"] == "parsed" and row["fs_type"] == "ext2"
    assert {r["path"] for r in rows} == set(fls_paths(plain))
    by_path = {r["path"]: r for r in rows}
    assert by_path["/plan.txt"]["sha256"] == sha256(SECRET)
    assert by_path["/d/e/deep.bin"]["sha256"] == sha256(b"\x02" * 70000)


def test_luks_key_file(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image, plain = luks_image(tmp_path, {"k.txt": b"key file\n"}, PASSWORD, 1)
    key = tmp_path / "keyfile"
    key.write_text(PASSWORD)
    rows = parse_rows(cli, case_dir, image, "KF", "--key-file", key, "--no-yara")
    [row] = volumes_of(cli, case_dir, "KF")
    assert row["message"].endswith("opened with the key-file")
    details = [json.loads(line) for line in cli("log", "--case", case_dir, "--format", "jsonl").stdout.splitlines()
               if line.strip() and '"parsed"' in line][-1]["details"]
    assert [p.get("read_with") for p in details["partitions"]] == ["key-file"]
    big = tmp_path / "movie.key"  # a key file past cryptsetup's 8 MiB limit is refused, not read whole
    big.write_bytes(PASSWORD.encode() + bytes(8 * MiB))
    result = cli("parse", image, "--key-file", big, "--exhibit", "KFBIG", "--case", case_dir, "--no-yara", code=1)
    assert "larger than cryptsetup's 8 MiB limit" in result.stderr
    binary = tmp_path / "binary.key"  # a NUL in it: named as what it is, not as an unreadable header
    binary.write_bytes(PASSWORD.encode() + b"\0")
    result = cli("parse", image, "--key-file", binary, "--exhibit", "KFBIN", "--case", case_dir, "--no-yara", code=1)
    assert "the key file is not text" in result.stderr
    assert {r["path"] for r in rows} == set(fls_paths(plain))
    assert PASSWORD.encode() not in case_text(case_dir)  # the key file's content is kept nowhere in the case


def test_lvm_logical_volumes_are_walked(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = ext4_image(tmp_path, {"home/user/notes.txt": SECRET}, delete=[], size_mb=4)
    fat = fat_image(tmp_path, {"PHOTO.JPG": b"\xff\xd8\xff" + b"j" * 3000}, [], size_mb=3)
    image, starts = lvm_image(tmp_path, {"root": ext, "media": fat})
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    rows = parse_rows(cli, case_dir, image, "LVM", "--no-yara")
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before  # evidence untouched
    vols = {v["partition"]: v for v in volumes_of(cli, case_dir, "LVM")}
    assert vols[0]["fs_type"] == "LVM2" and vols[0]["status"] == "parsed" and "vgdalil" in vols[0]["message"]
    for name, start in starts.items():
        vol = vols[start]
        assert vol["scheme"] == "lvm" and vol["parent"] == 0 and vol["status"] == "parsed"
        assert vol["slot"] == f"vgdalil/{name}" and vol["offset"] == start
        listed = {r["path"] for r in rows if r["partition"] == start}
        assert listed == set(fls_paths(image, start // 512)), name
        assert vol["files"] == len(listed)
    assert vols[starts["root"]]["fs_type"] == "ext4" and vols[starts["media"]]["fs_type"].startswith("FAT")
    notes = next(r for r in rows if r["path"] == "/home/user/notes.txt")
    assert notes["sha256"] == sha256(SECRET) and notes["partition"] == starts["root"]


def test_lvm_inside_luks2(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A Linux laptop's usual layout: LUKS2 holding an LVM2 physical volume holding the root file system."""
    ext = ext4_image(tmp_path, {"home/user/notes.txt": SECRET}, delete=[], size_mb=4)
    image, starts = lvm_image(tmp_path, {"root": ext})
    encrypt_luks2(image, tmp_path, PASSWORD)
    cli("parse", image, "--exhibit", "LOL", "--case", case_dir, "--no-yara", code=1)
    [locked] = volumes_of(cli, case_dir, "LOL")
    assert locked["encrypted"] == "luks" and locked["status"] == "locked"
    rows = parse_rows(cli, case_dir, image, "LOL2", "--no-yara", "--password", PASSWORD)
    pv, lv = volumes_of(cli, case_dir, "LOL2")
    assert pv["fs_type"] == "LVM2" and pv["encrypted"] == "luks" and "opened" in pv["message"]
    assert lv["scheme"] == "lvm" and lv["parent"] == 0 and lv["partition"] == starts["root"]
    assert lv["encrypted"] == "luks" and lv["fs_type"] == "ext4" and lv["status"] == "parsed"
    details = [json.loads(line) for line in cli("log", "--case", case_dir, "--format", "jsonl").stdout.splitlines()
               if line.strip() and '"parsed"' in line][-1]["details"]
    assert [(p["scheme"], p.get("read_with")) for p in details["partitions"]] == [("none", "password"),
                                                                                  ("lvm", "password")]
    assert {r["path"] for r in rows} == set(fls_paths(ext))
    assert next(r for r in rows if r["path"] == "/home/user/notes.txt")["sha256"] == sha256(SECRET)


def _store_listing(raw: Path, tmp: Path, number: int) -> dict[str, tuple[bool, str]]:
    """`fls` on a raw copy of shadow-copy store `number`, written sparse into tmp through pyvshadow."""
    import pyvshadow

    out = tmp / f"vss{number}.raw"
    with open(raw, "rb") as src, open(out, "wb") as dst:
        volume = pyvshadow.volume()
        volume.open_file_object(src)
        store = volume.get_store(number - 1)
        size, chunk, pos = store.volume_size, 4 * MiB, 0
        while pos < size:
            data = store.read_buffer_at_offset(min(chunk, size - pos), pos)
            if data.strip(b"\0"):
                dst.seek(pos)
                dst.write(data)
            pos += len(data)
        dst.truncate(size)
    return fls_paths(out)


def test_shadow_copies_are_listed_as_views_with_their_differences(cli: Any, case_dir: Path, tmp_path: Path,
                                                                testdata: Callable[[str], Path]) -> None:
    need("vshadowinfo")
    raw = qcow2_to_raw(testdata("disk_images/plaso/vsstest.qcow2"), tmp_path)
    rows = parse_rows(cli, case_dir, raw, "VSS", "--no-yara")
    info = subprocess.run(["vshadowinfo", str(raw)], capture_output=True, check=True, text=True).stdout
    ids = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.strip().startswith("Identifier")]
    assert len(ids) == 2
    vols = volumes_of(cli, case_dir, "VSS")
    assert [(v["partition"], v["scheme"], v["snapshot"]) for v in vols] == [(0, "none", None), (0, "vss", "vss1"),
                                                                            (0, "vss", "vss2")]
    for number, vol in enumerate(vols[1:], 1):
        assert ids[number - 1] in vol["description"] and vol["parent"] == 0 and vol["fs_type"] == "NTFS"
    live = {r["path"] for r in rows if r["snapshot"] is None}
    assert live == set(fls_paths(raw))
    for number in (1, 2):
        store = _store_listing(raw, tmp_path, number)
        listed = {r["path"] for r in rows if r["snapshot"] == f"vss{number}"}
        assert listed and listed <= set(store)  # only what the store holds
        assert set(store) - live <= listed  # everything the live volume no longer has
        assert vols[number]["files"] == len(listed)
    # older states: syslog before it was compressed (gone from the live volume), another_file before it was read
    assert "/syslog" in {r["path"] for r in rows if r["snapshot"] == "vss1"} and "/syslog" not in live
    old = next(r for r in rows if r["snapshot"] == "vss2" and r["path"] == "/another_file")
    new = next(r for r in rows if r["snapshot"] is None and r["path"] == "/another_file")
    assert old["sha256"] == new["sha256"] and old["atime"] < new["atime"]
    # an entry identical in the store and on the live volume is not listed again
    assert "/password.txt" in live and "/password.txt" not in {r["path"] for r in rows if r["snapshot"]}
    # export and preview read a store's file from its store, not the live volume's file of that path
    out = tmp_path / "out"
    cli("export", "--exhibit", "VSS", "--mime", "text/", "--out", out, "--case", case_dir)
    [index] = list(out.rglob("index-VSS.json"))
    exported = json.loads(index.read_text())
    syslog = next(e for e in exported if e["original_path"] == "/syslog")
    assert syslog["snapshot"] == "vss1" and syslog["status"] == "ok" and "p0-vss1" in syslog["exported_path"]
    assert all(e["sha256_copy"] == e["sha256_listed"] for e in exported if e["status"] == "ok")
    from triage.core.case import Case
    from triage.image import content

    case = Case.open(case_dir)
    [row] = [dict(r) for r in case.store.query("SELECT * FROM files WHERE exhibit = 'VSS' AND path = '/syslog'")]
    assert row["snapshot"] == "vss1" and sha256(content.read(case, row, 0, row["size"])) == row["sha256"]


def test_a_catalogue_claiming_more_stores_than_windows_keeps_is_capped_and_disclosed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    """A VSS catalogue is the suspect's to write: thousands of stores would mean thousands of walks of
    the volume. Past MAX_STORES (Windows' own maximum) only the first are listed, and the last listed
    store's row is `partial` with the reason (a warning and a report gap). vsstest has 2 stores: with
    the cap at 1, the second is left out."""
    from triage.image import layers, shadow
    from triage.image.container import open_image
    from triage.image.encryption import VolumeKeys

    raw = qcow2_to_raw(testdata("disk_images/plaso/vsstest.qcow2"), tmp_path)
    monkeypatch.setattr(shadow, "MAX_STORES", 1)
    source = open_image(raw)
    try:
        found = list(layers.expand(source.img, source.size, VolumeKeys()))
    finally:
        source.img.close()
    assert [(x.vol.scheme, x.vol.snapshot, x.status) for x in found] == [("none", None, None), ("vss", "vss1", "partial")]
    assert "claims 2 stores" in (found[1].message or "") and "only the first 1" in (found[1].message or "")


def _bitlocker_to_go(tmp: Path) -> Path:
    """A FAT32 stick as BitLocker To Go leaves it: boot sector OEM `MSWIN4.1`, the FVE metadata
    offset at byte 440 pointing at a `-FVE-FS-` block (here in a file's data: only its signature
    matters for recognition; no test image of a real one is small enough to keep)."""
    image = fat_image(tmp, {"BITLOC~1.EXE": b"MZ" + b"\0" * 4000, "AUTORUN.INF": b"[autorun]\r\n",
                            "COV0000.BL": b"-FVE-FS-" + bytes(range(256)) * 64}, [], size_mb=40)
    need("mkfs.vfat")
    data = bytearray(image.read_bytes())
    where = data.find(b"-FVE-FS-" + bytes(range(8)))
    data[3:11] = b"MSWIN4.1"
    struct.pack_into("<Q", data, 440, where)
    image.write_bytes(bytes(data))
    return image


def test_bitlocker_to_go_is_not_taken_for_plain_fat(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = _bitlocker_to_go(tmp_path)
    result = cli("parse", image, "--exhibit", "TOGO", "--case", case_dir, "--no-yara")  # the stub is listed: rc 0
    assert "BitLocker To Go" in result.stderr
    [row] = volumes_of(cli, case_dir, "TOGO")
    assert row["encrypted"] == "bitlocker" and row["status"] == "locked" and row["fs_type"].startswith("FAT")
    assert "discovery volume" in row["message"] and row["files"] > 0


def test_bitlocker_partition_beside_a_plain_one(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    need("sfdisk", "mkfs.vfat", "mcopy")
    image = tmp_path / "disk.img"
    with open(image, "wb") as fh:
        fh.truncate(24 * MiB)
    table = "label: gpt\nstart=2048, size=16384, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nstart=18432, size=20480\n"
    subprocess.run(["sfdisk", "-q", str(image)], input=table.encode(), check=True, capture_output=True)
    run("mkfs.vfat", "--offset", "2048", image, str(16384 // 2))
    src = tmp_path / "a.txt"
    src.write_bytes(b"plain\n")
    run("mcopy", "-i", f"{image}@@{2048 * 512}", src, "::/A.TXT")
    with open(image, "r+b") as fh:  # partition 2: a BitLocker (Windows 7+) volume header
        fh.seek(18432 * 512)
        fh.write(b"\xeb\x58\x90-FVE-FS-" + b"\0" * 501)
    rows = parse_rows(cli, case_dir, image, "BDE", "--no-yara")
    assert "/A.TXT" in {r["path"] for r in rows}
    vols = {v["partition"]: v for v in volumes_of(cli, case_dir, "BDE")}
    assert vols[2048 * 512]["status"] == "parsed" and vols[2048 * 512]["encrypted"] is None
    locked = vols[18432 * 512]
    assert locked["encrypted"] == "bitlocker" and locked["status"] == "locked" and "BitLocker" in locked["message"]


def test_random_volume_is_unknown_high_entropy(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = tmp_path / "container.bin"
    image.write_bytes(hashlib.shake_256(b"dalil veracrypt-like").digest(2 * MiB))  # deterministic, random-looking
    cli("parse", image, "--exhibit", "RND", "--case", case_dir, "--no-yara", code=1)
    [row] = volumes_of(cli, case_dir, "RND")
    assert row["encrypted"] == "unknown-high-entropy" and row["status"] == "locked"
    assert "VeraCrypt" in row["message"]


def test_zeroed_volume_is_not_called_encrypted(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = tmp_path / "zeros.bin"
    image.write_bytes(b"\0" * (2 * MiB))
    cli("parse", image, "--exhibit", "ZERO", "--case", case_dir, "--no-yara", code=1)
    [row] = volumes_of(cli, case_dir, "ZERO")
    assert row["encrypted"] is None and row["status"] == "no-filesystem"


def test_f2fs_is_named_and_refused_clearly(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = f2fs_image(tmp_path)
    result = cli("parse", image, "--exhibit", "F2FS", "--case", case_dir, "--no-yara", code=1)
    assert "F2FS" in result.stderr
    [row] = volumes_of(cli, case_dir, "F2FS")
    assert row["fs_type"] == "F2FS" and row["status"] == "unsupported" and "Android" in row["message"]


def test_apfs_volume_is_listed_as_tsk_lists_it(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    image = testdata("disk_images/dfvfs/apfs.raw")
    rows = parse_rows(cli, case_dir, image, "APFS", "--no-yara")
    vols = volumes_of(cli, case_dir, "APFS")
    assert [(v["partition"], v["fs_type"], v["status"]) for v in vols] == [(0, "APFS container", "parsed"),
                                                                           (107 * 4096, "APFS", "parsed")]
    volume = vols[1]  # its id is where pstat finds the volume superblock (block 107): fls -P apfs -B 107
    assert volume["scheme"] == "apfs" and volume["parent"] == 0 and "apfs_test" in volume["message"]
    assert volume["encrypted"] is None and volume["files"] == 10
    expected = fls_entries(image.with_name("apfs.raw.fls.txt"))
    assert {r["path"]: str(r["inode"]) for r in rows} == {p: i for p, (_d, i) in expected.items()}
    sizes = body_sizes(image.with_name("apfs.raw.fls_body.txt"))
    assert all(r["size"] == sizes[r["path"]] for r in rows if r["type"] == "r")
    need("icat")
    for row in rows:
        if row["type"] == "r" and row["size"]:
            out = subprocess.run(["icat", "-P", "apfs", "-B", "107", str(image), str(row["inode"])],
                                 capture_output=True, check=True).stdout
            assert row["sha256"] == sha256(out), row["path"]
    link = next(r for r in rows if r["path"] == "/a_link")
    assert link["type"] == "l"


@pytest.mark.parametrize("header, kind, name", [
    ((0, b"\xeb\x52\x90-FVE-FS-"), "bitlocker", "BitLocker (Windows Vista)"),
    ((88, b"CS\x01\x00\x00\x00"), "filevault", "FileVault 2 (Core Storage)"),
])
def test_encryption_headers_are_named_even_when_unreadable(cli: Any, case_dir: Path, tmp_path: Path,
                                                           header: tuple[int, bytes], kind: str, name: str) -> None:
    """Only the signature is real here (no BitLocker or Core Storage image small enough to keep): the
    volume is named with what it is, the library's refusal of the rest is one line, rc 1."""
    image = tmp_path / "volume.bin"
    data = bytearray(MiB)
    data[header[0]:header[0] + len(header[1])] = header[1]
    image.write_bytes(bytes(data))
    result = cli("parse", image, "--exhibit", "ENC", "--case", case_dir, "--no-yara", code=1)
    assert name in result.stderr
    [row] = volumes_of(cli, case_dir, "ENC")
    assert row["encrypted"] == kind and row["status"] == "locked" and row["message"].startswith(name)


def _rewrite_luks2_json(image: Path, old: bytes, new: bytes, checksum: bool) -> None:
    """Edit the primary LUKS2 header's JSON (and, if asked, set its checksum as cryptsetup would)."""
    data = bytearray(image.read_bytes())
    size = struct.unpack_from(">Q", data, 8)[0]
    area = bytes(data[4096:size])
    assert old in area
    text = area.split(b"\0", 1)[0].replace(old, new)
    data[4096:size] = text + bytes(size - 4096 - len(text))
    if checksum:
        data[448:512] = bytes(64)
        data[448:480] = hashlib.sha256(bytes(data[:size])).digest()
    image.write_bytes(bytes(data))


@pytest.mark.parametrize("checksum, said", [(True, "beyond what cryptsetup makes"), (False, "checksum does not match")])
def test_crafted_or_damaged_luks2_header_is_refused_in_one_line(cli: Any, case_dir: Path, tmp_path: Path,
                                                                checksum: bool, said: str) -> None:
    """A header asking for a billion PBKDF2 iterations would hang the parse: refused at once; a header
    edited without its checksum is named damaged."""
    image, _plain = luks_image(tmp_path, {"a.txt": b"a\n"}, PASSWORD, 2)
    _rewrite_luks2_json(image, b'"iterations":1000,', b'"iterations":1000000000,', checksum)
    result = cli("parse", image, "--exhibit", "BAD", "--case", case_dir, "--no-yara", "--password", PASSWORD, code=1)
    assert said in result.stderr
    [row] = volumes_of(cli, case_dir, "BAD")
    assert row["encrypted"] == "luks" and row["status"] == "locked"


def test_luks_partition_beside_a_plain_one(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A partitioned disk: the LUKS volume is read at its partition's offset, the FAT one as before."""
    need("sfdisk", "mkfs.vfat", "mcopy")
    luks, plain = luks_image(tmp_path, {"plan.txt": SECRET}, PASSWORD, 1)
    image = tmp_path / "disk.img"
    p1, p2 = 2048 * 512, 18432 * 512
    with open(image, "wb") as fh:
        fh.truncate(p2 + luks.stat().st_size + MiB)
    table = f"label: gpt\nstart=2048, size=16384\nstart=18432, size={luks.stat().st_size // 512}\n"
    subprocess.run(["sfdisk", "-q", str(image)], input=table.encode(), check=True, capture_output=True)
    run("mkfs.vfat", "--offset", "2048", image, str(16384 // 2))
    src = tmp_path / "a.txt"
    src.write_bytes(b"plain\n")
    run("mcopy", "-i", f"{image}@@{p1}", src, "::/A.TXT")
    with open(image, "r+b") as fh:
        fh.seek(p2)
        fh.write(luks.read_bytes())
    rows = parse_rows(cli, case_dir, image, "DISK", "--no-yara", "--password", PASSWORD)
    vols = {v["partition"]: v for v in volumes_of(cli, case_dir, "DISK")}
    assert vols[p1]["encrypted"] is None and vols[p1]["status"] == "parsed"
    assert vols[p2]["encrypted"] == "luks" and vols[p2]["status"] == "parsed" and vols[p2]["scheme"] == "gpt"
    assert {r["path"] for r in rows if r["partition"] == p2} == set(fls_paths(plain))
    assert next(r for r in rows if r["path"] == "/plan.txt")["sha256"] == sha256(SECRET)
    assert "/A.TXT" in {r["path"] for r in rows if r["partition"] == p1}


def test_bitlocker_to_go_files_without_the_header_signature(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A discovery volume whose boot sector no longer says MSWIN4.1 (reformatted header, a copy of the
    stub): the files BitLocker To Go leaves still say what the rest is."""
    image = fat_image(tmp_path, {"BitLockerToGo.exe": b"MZ" + b"\0" * 4000, "COV 0000. BL": bytes(range(256)) * 64,
                                 "README.TXT": b"read me\n"}, [])
    result = cli("parse", image, "--exhibit", "TOGO2", "--case", case_dir, "--no-yara")
    assert "BitLocker To Go" in result.stderr
    [row] = volumes_of(cli, case_dir, "TOGO2")
    assert row["encrypted"] == "bitlocker" and row["status"] == "locked" and "BitLockerToGo.exe" in row["message"]


def test_plain_fat_stays_plain(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = fat_image(tmp_path, {"COVER.BL": b"x", "TOGO.EXE": b"MZ"}, [])
    cli("parse", image, "--exhibit", "FAT", "--case", case_dir, "--no-yara")
    [row] = volumes_of(cli, case_dir, "FAT")
    assert row["encrypted"] is None and row["status"] == "parsed"


def test_luks1_header_asking_for_billions_of_iterations_is_refused(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """LUKS1 iteration counts are 32-bit and carry no checksum: a key slot edited to 4 billion PBKDF2
    rounds would hold libluksde for hours; refused in one line, the volume listed as locked."""
    image, _plain = luks_image(tmp_path, {"a.txt": b"a\n"}, PASSWORD, 1)
    data = bytearray(image.read_bytes())
    assert struct.unpack_from(">I", data, 208)[0] == 0x00AC71F3  # key slot 0 active
    struct.pack_into(">I", data, 212, 0xFFFFFFF0)
    image.write_bytes(bytes(data))
    result = cli("parse", image, "--exhibit", "L1BAD", "--case", case_dir, "--no-yara", "--password", PASSWORD,
                 code=1)
    assert "key slot 0 asks for PBKDF2 iterations" in result.stderr
    [row] = volumes_of(cli, case_dir, "L1BAD")
    assert row["encrypted"] == "luks" and row["status"] == "locked" and "refused" in row["message"]


def test_luks2_header_with_mistyped_json_is_one_line(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A crafted LUKS2 header (checksum set as cryptsetup would) whose key slot is a string, not an
    object: the volume is locked with a reason, the parse goes on (it crashed on AttributeError)."""
    image, _plain = luks_image(tmp_path, {"a.txt": b"a\n"}, PASSWORD, 2)
    size = struct.unpack_from(">Q", image.read_bytes(), 8)[0]
    text = image.read_bytes()[4096:size].split(b"\0", 1)[0]
    meta = json.loads(text)
    meta["keyslots"]["0"] = "pbkdf2"
    _rewrite_luks2_json(image, text, json.dumps(meta, separators=(",", ":")).encode(), True)
    result = cli("parse", image, "--exhibit", "L2T", "--case", case_dir, "--no-yara", "--password", PASSWORD, code=1)
    assert "header cannot be read" in result.stderr and "Traceback" not in result.stderr
    [row] = volumes_of(cli, case_dir, "L2T")
    assert row["encrypted"] == "luks" and row["status"] == "locked"


@pytest.mark.parametrize("text", [
    b'vg {\nextent_size = 2048\nphysical_volumes = 5\nlogical_volumes {\nroot {\nsegment1 {\nstripes = ["pv0", 0]\n}\n}\n}\n}\n',
    b'vg {\nextent_size = 2048\nphysical_volumes {\npv0 = "x"\n}\nlogical_volumes {\nroot {\nsegment1 {\n'
    b'stripes = ["pv0", 0]\n}\n}\n}\n}\n',
    b"vg " + b"{ a " * 200_000,
])
def test_hostile_lvm_metadata_text_gives_no_offsets_not_a_crash(tmp_path: Path, text: bytes) -> None:
    """The PV's text metadata is the suspect's to write: values of the wrong kind, or nesting without
    end, leave the LVs numbered by index (as when the text cannot be read), never an exception out of
    the layer expansion (an AttributeError ended the parse)."""
    from triage.image import lvm

    ext = ext4_image(tmp_path, {"a.txt": b"a\n"}, delete=[], size_mb=2)
    image, _starts = lvm_image(tmp_path, {"root": ext})
    data = bytearray(image.read_bytes())
    mda = data.index(lvm.MDA_MAGIC) - 4
    offset = struct.unpack_from("<Q", data, mda + 40)[0]
    data[mda + offset:mda + offset + len(text)] = text
    struct.pack_into("<Q", data, mda + 48, len(text))
    assert lvm._first_extents(lvm._metadata(lambda at, n: bytes(data[at:at + n]))) == {}
