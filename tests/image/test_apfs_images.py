"""APFS containers made by macOS (the test images of Fox-IT's dissect.apfs sdist, fetched by
tests/thirdparty.py): snapshots listed from the on-disk snapshot tree and compared with The Sleuth
Kit's `fsstat`; an encrypted volume opened with its password and compared with libfsapfs's own
listing; a container whose newest checkpoints are damaged named as such; damaged snapshot trees."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import need, sha256
from parse_helpers import parse_rows

SDIST = "dissect_apfs-1.1.tar.gz"
PASSWORD = "password"  # the encrypted image's password, as the sdist's own tests give it
Image = Callable[[str, str], Path]


def image(thirdparty: Image, name: str) -> Path:
    return thirdparty(SDIST, f"tests/_data/{name}.bin.gz")


def volumes_of(cli: Any, case_dir: Path, exhibit: str) -> list[dict[str, Any]]:
    out = cli("volumes", "--case", case_dir, "--exhibit", exhibit, "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def warnings_of(case_dir: Path, exhibit: str) -> list[str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return [m for (m,) in db.execute("SELECT message FROM warnings WHERE exhibit = ?", (exhibit,))]


def last_parsed(case_dir: Path) -> dict[str, Any]:
    entries = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    found: dict[str, Any] = [e for e in entries if e["action"] == "parsed"][-1]
    return found


def fsstat_snapshots(path: Path, apsb_block: int) -> list[tuple[int, str, str]]:
    """(xid, created, name) of each snapshot as The Sleuth Kit's fsstat lists them."""
    need("fsstat")
    out = subprocess.run(["fsstat", "-P", "apfs", "-B", str(apsb_block), str(path)], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for line in out.split("Snapshots\n---------\n", 1)[1].splitlines():
        m = re.match(r"^\[(\d+)\] (\S+) (\S+) \(UTC\) (.*?) ?$", line)
        if not m:
            break
        found.append((int(m[1]), f"{m[2]}T{m[3]}Z", m[4]))
    return found


def libfsapfs_listing(path: Path, password: str | None = None) -> dict[str, tuple[int, int]]:
    """path -> (identifier, size) of every entry of the first volume, walked by pyfsapfs itself."""
    import pyfsapfs

    container = pyfsapfs.container()
    container.open(str(path))
    volume = container.get_volume(0)
    if password:
        volume.set_password(password)
        assert volume.unlock()
    out: dict[str, tuple[int, int]] = {}
    stack = [(volume.get_root_directory(), "")]
    while stack:
        directory, prefix = stack.pop()
        for i in range(directory.number_of_sub_file_entries):
            child = directory.get_sub_file_entry(i)
            path_of = f"{prefix}/{child.name}"
            out[path_of] = (int(child.identifier), int(child.size or 0))
            if child.number_of_sub_file_entries:
                stack.append((child, path_of))
    return out


def fls(path: Path, *args: str) -> dict[str, int]:
    """path -> inode of `fls -r -p` on an APFS volume (`-B block`, `-S xid` for a snapshot)."""
    need("fls")
    out = subprocess.run(["fls", "-P", "apfs", *args, "-r", "-p", str(path)], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^\S+ (\d+):\t(.*)$", line)
        assert m is not None, line
        found["/" + m[2]] = int(m[1])
    return found


def test_snapshots_are_listed_as_tsk_lists_them(cli: Any, case_dir: Path, thirdparty: Image) -> None:
    """libfsapfs refuses this volume (its snapshot tree has two levels): Dalil's own reader lists the
    live volume and each snapshot; fsstat, fls -S and icat -S say what they hold."""
    path = image(thirdparty, "snapshot")
    rows = parse_rows(cli, case_dir, path, "SNAP", "--no-yara")
    vols = volumes_of(cli, case_dir, "SNAP")
    live = [v for v in vols if v["scheme"] == "apfs" and v["snapshot"] is None]
    assert len(live) == 1 and "'Snapshots'" in live[0]["message"] and live[0]["status"] == "parsed"
    assert "'Snapshot 0' (xid 4)" in live[0]["message"] and "'Snapshot 511' (xid 2566)" in live[0]["message"]
    block = live[0]["partition"] // 4096
    views = [v for v in vols if v["snapshot"] is not None]
    expected = fsstat_snapshots(path, block)
    assert len(expected) == 512
    got = []
    for v in views:
        assert (v["scheme"], v["partition"], v["parent"], v["fs_type"], v["status"]) == (
            "apfs", live[0]["partition"], live[0]["partition"], "APFS snapshot", "parsed")
        m = re.match(r"^APFS snapshot '(.*)', xid (\d+), created (\S+)$", v["description"])
        assert m is not None and m[1] == v["snapshot"], v["description"]
        got.append((int(m[2]), m[3], m[1]))
    assert sorted(got) == sorted(expected)  # same names, xids and creation times, to the nanosecond
    assert [name for _x, _c, name in sorted(got)] == [f"Snapshot {i}" for i in range(512)]
    ledger = last_parsed(case_dir)["details"]["partitions"]
    named = [p for p in ledger if p.get("snapshot")]
    assert len(named) == 512 and named[0]["description"].startswith("APFS snapshot 'Snapshot 0', xid 4, created 2025")

    assert {r["path"]: r["inode"] for r in rows if r["snapshot"] is None} == fls(path, "-B", str(block))
    by_view: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r["snapshot"] is not None:
            by_view.setdefault(r["snapshot"], {})[r["path"]] = r
    xids = {name: xid for xid, _c, name in expected}
    for i in range(512):  # each snapshot's `file` (the live volume has none) holds "Snapshot i"
        assert by_view[f"Snapshot {i}"]["/file"]["sha256"] == sha256(f"Snapshot {i}\n".encode())
    for name in ("Snapshot 0", "Snapshot 7", "Snapshot 511"):  # rows: what differs from the live volume
        listed = fls(path, "-B", str(block), "-S", str(xids[name]))
        assert {p: r["inode"] for p, r in by_view[name].items()}.items() <= listed.items()
        out = subprocess.run(["icat", "-P", "apfs", "-B", str(block), "-S", str(xids[name]), str(path),
                              str(listed["/file"])], capture_output=True, check=True).stdout
        assert by_view[name]["/file"]["sha256"] == sha256(out)
    from triage.core.case import Case
    from triage.image import content

    case = Case.open(case_dir)  # read back (export, preview) through the same snapshot view
    [row] = [dict(r) for r in case.store.query(
        "SELECT * FROM files WHERE exhibit = 'SNAP' AND path = '/file' AND snapshot = 'Snapshot 7'")]
    assert content.read(case, row, 0, 100) == b"Snapshot 7\n"


def _snapshot_tree_root(path: Path) -> tuple[int, list[int]]:
    """The snapshot tree's root block of the image's volume and its children's blocks, read from the
    bytes with the APFS Reference's offsets (pstat: volume superblock at block 6717)."""
    data = path.read_bytes()
    apsb = data[6717 * 4096:6718 * 4096]
    assert apsb[32:36] == b"APSB"
    root = struct.unpack_from("<Q", apsb, 152)[0]
    node = data[root * 4096:(root + 1) * 4096]
    flags, level, nkeys = struct.unpack_from("<HHI", node, 32)
    toc_off, toc_len = struct.unpack_from("<HH", node, 40)
    assert level > 0 and not flags & 0x4
    vals_end = 4096 - 40
    children = []
    for i in range(nkeys):
        _k, _kl, v_off, _vl = struct.unpack_from("<HHHH", node, 56 + toc_off + 8 * i)
        children.append(struct.unpack_from("<Q", node, vals_end - v_off)[0])
    return root, children


@pytest.mark.parametrize("which", ["root", "child"])
def test_damaged_snapshot_tree_is_a_clear_warning(cli: Any, case_dir: Path, thirdparty: Image, tmp_path: Path,
                                                  which: str) -> None:
    copy = tmp_path / "snapshot-damaged.bin"
    shutil.copyfile(image(thirdparty, "snapshot"), copy)
    root, children = _snapshot_tree_root(copy)
    assert len(children) >= 2
    block = root if which == "root" else children[1]
    with copy.open("r+b") as fh:
        fh.seek(block * 4096 + 200)
        fh.write(b"\xff" * 16)
    result = cli("parse", copy, "--exhibit", "BAD", "--case", case_dir, "--no-yara", code=None)
    assert "Traceback" not in result.output
    [live] = [v for v in volumes_of(cli, case_dir, "BAD") if v["scheme"] == "apfs" and v["snapshot"] is None]
    views = [v for v in volumes_of(cli, case_dir, "BAD") if v["snapshot"] is not None]
    assert f"node at block {block} fails its checksum" in live["message"]
    assert "snapshot list cut short" in live["message"]
    if which == "root":
        assert views == []
    else:  # those in the first leaf are kept, in order
        assert 0 < len(views) < 512 and views[0]["snapshot"] == "Snapshot 0"
    assert any("fails its checksum" in w for w in warnings_of(case_dir, "BAD"))


def test_encrypted_volume_locked_wrong_key_and_opened(cli: Any, case_dir: Path, thirdparty: Image) -> None:
    path = image(thirdparty, "encrypted")
    result = cli("parse", path, "--exhibit", "LOCKED", "--case", case_dir, "--no-yara", code=1)
    assert "--password" in result.stderr
    [_c, row] = volumes_of(cli, case_dir, "LOCKED")
    assert (row["encrypted"], row["status"], row["files"]) == ("apfs", "locked", 0) and "'Encrypted'" in row["message"]

    wrong = cli("parse", path, "--exhibit", "WRONG", "--case", case_dir, "--no-yara", "--password", "not-it", code=1)
    assert "does not open it" in wrong.stderr and "Traceback" not in wrong.output
    assert len([line for line in wrong.stderr.splitlines() if "does not open it" in line]) == 1

    rows = parse_rows(cli, case_dir, path, "OPEN", "--no-yara", "--password", PASSWORD)
    [_c, row] = volumes_of(cli, case_dir, "OPEN")
    assert (row["encrypted"], row["status"]) == ("apfs", "parsed") and row["message"].endswith("with the password")
    expected = libfsapfs_listing(path, PASSWORD)
    assert len(expected) == 44
    assert {r["path"]: (r["inode"], r["size"]) for r in rows} == expected
    # its content as dissect.apfs's test states it (the Apple logo, U+F8FF, then " File System")
    assert next(r for r in rows if r["path"] == "/dir/file")["sha256"] == sha256("\uf8ff File System\n".encode())
    assert [p.get("read_with") for p in last_parsed(case_dir)["details"]["partitions"]] == [None, "password"]
    kept = b"".join(p.read_bytes() for p in sorted(case_dir.rglob("*")) if p.is_file())
    assert b"not-it" not in kept  # no key in any file of the case (the right one is the word "password" itself)
    assert "<redacted>" in last_parsed(case_dir)["command"]


@pytest.mark.parametrize("name, volume, count", [("case_sensitive", "Case Sensitive", 44),
                                                 ("case_insensitive", "Case Insensitive", 44),
                                                 ("jhfs_converted", "JHFS+ Converted", 29)])
def test_plain_volumes_list_what_libfsapfs_lists(cli: Any, case_dir: Path, thirdparty: Image, name: str,
                                                 volume: str, count: int) -> None:
    path = image(thirdparty, name)
    rows = parse_rows(cli, case_dir, path, "PLAIN", "--no-yara")
    [container, row] = volumes_of(cli, case_dir, "PLAIN")
    assert container["status"] == "parsed" and row["status"] == "parsed" and f"'{volume}'" in row["message"]
    expected = libfsapfs_listing(path)
    assert len(expected) == count
    assert {r["path"]: (r["inode"], r["size"]) for r in rows} == expected


def test_container_with_damaged_newest_checkpoints_is_named(cli: Any, case_dir: Path, thirdparty: Image) -> None:
    """corrupt.bin: the checkpoint of xid 304 has a damaged object map, that of 303 a bad checksum;
    302 is sound (as dissect.apfs's own test says). libfsapfs takes the newest and refuses; Dalil reads
    302 with its own reader and says why."""
    path = image(thirdparty, "corrupt")
    rows = parse_rows(cli, case_dir, path, "CORRUPT", "--no-yara")
    [container, row] = volumes_of(cli, case_dir, "CORRUPT")
    assert container["status"] == "parsed" and "checkpoint xid 302" in container["message"]
    assert "checkpoint xid 303 (block 6) fails its checksum" in container["message"]
    assert "checkpoint xid 304 (block 8): container object map at block 106 fails its checksum" in container["message"]
    assert row["status"] == "parsed" and "'Mount me daddy'" in row["message"] and "own APFS reader" in row["message"]
    warned = warnings_of(case_dir, "CORRUPT")
    assert any("xid 303" in w for w in warned) and any("xid 304" in w for w in warned)
    assert {r["path"]: r["inode"] for r in rows} == fls(path, "-B", str(row["partition"] // 4096))


@pytest.mark.parametrize("name, rounds", [("case_sensitive", 300), ("jhfs_converted", 200), ("snapshot", 50)])
def test_own_reader_on_forged_nodes_raises_only_damaged(thirdparty: Image, name: str, rounds: int) -> None:
    """Hostile input: bytes of B-tree nodes and superblocks changed *and the checksum fixed up* (as a
    forger would), many times (seeded): the own reader lists, or stops with `Damaged`; nothing else."""
    import random

    from triage.image import apfs_fstree, apfs_snapshots
    from triage.image.apfs_btree import Damaged, fletcher64

    pristine = image(thirdparty, name).read_bytes()
    meta = [b for b in range(len(pristine) // 4096)
            if pristine[b * 4096 + 24] in (0x1, 0x2, 0x3, 0xB, 0xD)  # superblocks, B-tree nodes, object maps
            and struct.unpack_from("<Q", pristine, b * 4096)[0] == fletcher64(pristine[b * 4096:(b + 1) * 4096])]
    assert len(meta) > 10
    rng = random.Random(16)
    outcomes = {"listed": 0, "damaged": 0}
    for _ in range(rounds):
        block = rng.choice(meta)
        forged = bytearray(pristine[block * 4096:(block + 1) * 4096])
        for _n in range(rng.randint(1, 6)):
            forged[rng.randrange(32, 4096)] = rng.randrange(256) if rng.random() < 0.5 else rng.choice([0, 0xFF, 0x80])
        struct.pack_into("<Q", forged, 0, fletcher64(bytes(forged)))

        def read(offset: int, length: int, block: int = block, forged: bytes = bytes(forged)) -> bytes:
            data = pristine[offset:offset + length]
            lo, hi = max(offset, block * 4096), min(offset + length, (block + 1) * 4096)
            if lo < hi:  # the forged block in place of the real one
                data = data[:lo - offset] + forged[lo - block * 4096:hi - block * 4096] + data[hi - offset:]
            return data

        try:
            container = apfs_snapshots.open_container(read, len(pristine))
            for vol in apfs_snapshots.volumes(container):
                if isinstance(vol, Damaged):
                    raise vol
                views, _note = apfs_snapshots.snapshots(container.blocks, vol)
                for sblock, xid in [(vol.block, vol.xid)] + [(s.sblock, s.xid) for s in views[::300]]:
                    tree = apfs_fstree.read_tree(container.blocks, vol.omap, sblock, xid, "fuzz")
                    for entry in apfs_fstree.entries(tree, container.blocks, 0, "UTC", lambda loc, msg: None):
                        if entry.file is not None:
                            entry.file.read_random(0, 1 << 16)
            outcomes["listed"] += 1
        except Damaged:
            outcomes["damaged"] += 1
    assert outcomes["listed"] and outcomes["damaged"], outcomes


def _istat_times(path: Path, block: int, inode: int) -> dict[str, str]:
    need("istat")
    out = subprocess.run(["istat", "-P", "apfs", "-B", str(block), str(path), str(inode)], capture_output=True,
                         text=True, check=True).stdout
    names = {"Created": "crtime", "Content Modified": "mtime", "Attributes Modified": "ctime", "Accessed": "atime"}
    found = {}
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z ]+):\t+(\S+) (\S+) \(UTC\)$", line)
        if m and m[1] in names:
            found[names[m[1]]] = f"{m[2]}T{m[3]}".rstrip("0").rstrip(".") + "Z"
    return found


def test_times_are_those_istat_gives(cli: Any, case_dir: Path, thirdparty: Image) -> None:
    """libfsapfs calls the inode's creation time its modification time and the other way round; Dalil's
    rows carry each time under its own name, as TSK's istat and Apple's reference say."""
    path = image(thirdparty, "case_sensitive")
    rows = parse_rows(cli, case_dir, path, "TIMES", "--no-yara")
    [_c, vol] = volumes_of(cli, case_dir, "TIMES")
    for wanted in ("/dir/file", "/dir", "/.fseventsd/fseventsd-uuid"):
        row = next(r for r in rows if r["path"] == wanted)
        times = _istat_times(path, vol["partition"] // 4096, row["inode"])
        assert len(times) == 4 and times["crtime"] != times["mtime"]
        assert {k: row[k] for k in times} == times, wanted


@pytest.mark.parametrize("name", ["case_sensitive", "case_insensitive", "jhfs_converted",
                                  "case_sensitive_beta", "case_insensitive_beta"])  # beta: unhashed name keys
def test_own_reader_lists_what_libfsapfs_lists(thirdparty: Image, name: str) -> None:
    """A snapshot (own reader) is compared with its live volume (libfsapfs) entry by entry: on the same
    tree both readers must give the same paths, inodes, sizes, modes, times, owners and link targets."""
    from triage.image import apfs, apfs_fstree, apfs_snapshots
    from triage.image.encryption import VolumeKeys
    from triage.image.walk import Volume

    data = image(thirdparty, name).read_bytes()

    def read(offset: int, length: int) -> bytes:
        return data[offset:offset + length]

    def key(e: Any) -> tuple[Any, ...]:
        return (e.inode, e.size, e.mode, tuple(sorted(e.times.items())), e.link, e.uid, e.gid)

    container = apfs_snapshots.open_container(read, len(data))
    [vol] = apfs_snapshots.volumes(container)
    assert isinstance(vol, apfs_snapshots.VolumeInfo)
    tree = apfs_fstree.read_tree(container.blocks, vol.omap, vol.block, vol.xid, name)
    own = {e.path: key(e) for e in apfs_fstree.entries(tree, container.blocks, 0, "UTC", lambda loc, msg: None)}
    [live] = apfs.volumes(read, Volume(0, len(data), None, name), VolumeKeys()).volumes
    assert live.entries is not None
    lib = {e.path: key(e) for e in live.entries("UTC", lambda loc, msg: None)}
    assert len(own) >= 22 and own == lib


def test_encrypted_converted_volume_opens_with_its_password(cli: Any, case_dir: Path, thirdparty: Image) -> None:
    """jhfs_encrypted: an encrypted HFS+ volume converted to APFS (its password as the sdist's tests give it)."""
    path = image(thirdparty, "jhfs_encrypted")
    rows = parse_rows(cli, case_dir, path, "JENC", "--no-yara", "--password", PASSWORD)
    [_c, row] = volumes_of(cli, case_dir, "JENC")
    assert (row["encrypted"], row["status"]) == ("apfs", "parsed") and "'JHFS+ Encrypted Converted'" in row["message"]
    expected = libfsapfs_listing(path, PASSWORD)
    assert len(expected) == 31 and {r["path"]: (r["inode"], r["size"]) for r in rows} == expected


def test_snapshots_of_a_volume_not_read_are_listed_without_a_warning_each(cli: Any, case_dir: Path,
                                                                          thirdparty: Image, tmp_path: Path) -> None:
    """snapshot.bin with its volume superblock marked encrypted (fs_flags bit 0 cleared, checksum fixed):
    neither libfsapfs (which refuses it anyway) nor the own reader (which does not decrypt) reads it;
    its 512 snapshots are still rows, `listed`, and the one failure line does not repeat them."""
    from triage.image.apfs_btree import fletcher64

    copy = tmp_path / "snapshot-encrypted-flag.bin"
    shutil.copyfile(image(thirdparty, "snapshot"), copy)
    with copy.open("r+b") as fh:
        fh.seek(6717 * 4096)
        block = bytearray(fh.read(4096))
        struct.pack_into("<Q", block, 264, struct.unpack_from("<Q", block, 264)[0] & ~1)
        struct.pack_into("<Q", block, 0, fletcher64(bytes(block)))
        fh.seek(6717 * 4096)
        fh.write(block)
    result = cli("parse", copy, "--exhibit", "ENCFLAG", "--case", case_dir, "--no-yara", code=1)
    assert "Traceback" not in result.output and "Snapshot 7'" not in result.stderr
    assert "512 snapshot(s) listed" in result.stderr
    vols = volumes_of(cli, case_dir, "ENCFLAG")
    views = [v for v in vols if v["snapshot"] is not None]
    assert len(views) == 512 and {(v["status"], v["encrypted"]) for v in views} == {("listed", "apfs")}
    assert "(the volume is encrypted)" in views[0]["message"]
    assert not any("Snapshot 3" in w for w in warnings_of(case_dir, "ENCFLAG"))
