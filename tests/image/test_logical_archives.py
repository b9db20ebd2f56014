"""Zips and tars a suspect may have shaped: a large member read while the listing goes on, a tar
whose listing stops early, content hidden behind a member's declared type, and zip names that are
not what the UTF-8 flag says."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import stat
import tarfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from parse_helpers import parse_rows
from triage.image import engine
from triage.image.logical import walk_tar


def _warnings(case_dir: Path, exhibit: str) -> list[str]:
    con = sqlite3.connect(case_dir / "case.db")
    try:
        return [r[0] for r in con.execute("SELECT message FROM warnings WHERE exhibit = ?", (exhibit,))]
    finally:
        con.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_tar(path: Path, members: list[tuple[str, bytes]], gz: bool = False) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as tf:
        for name, body in members:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return path


def _many(big: bytes, other: bytes, n: int) -> list[tuple[str, bytes]]:
    """A large member, n small ones, another large one, n more small ones."""
    small = [(f"s/{i:05d}.txt", f"small {i}".encode()) for i in range(2 * n)]
    return [("big1.bin", big)] + small[:n] + [("big2.bin", other)] + small[n:]


# 1. a tar read while it is listed ---------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".tar", ".tar.gz"])
def test_member_read_by_another_thread_while_listing(tmp_path: Path, suffix: str) -> None:
    """A large member is read (as the engine's streaming thread reads it) while the walk moves the
    archive on: the listing is whole and the content right."""
    big = os.urandom(1 << 20)
    members = _many(big, b"x", 1500)
    path = _write_tar(tmp_path / f"race{suffix}", members, suffix == ".tar.gz")
    warnings: list[tuple[str, str]] = []
    walk = walk_tar(path, lambda loc, msg: warnings.append((loc, msg)))
    first = next(walk)
    assert first.path == "/big1.bin"
    digests: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            parts, offset = [], 0
            while offset < first.size:
                parts.append(first.read(offset, 4096))
                offset += len(parts[-1])
            digests.append(_sha(b"".join(parts)))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        rest = [(e.path, e.read(0, e.size) if e.size else b"") for e in walk]
    finally:
        stop.set()
        thread.join()
    assert warnings == []
    assert [("/big1.bin", big)] + rest == [("/" + name, body) for name, body in members]
    assert digests and set(digests) == {_sha(big)}


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz"])
def test_parse_lists_every_member_of_a_tar_with_large_members(cli: Any, case_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Through `dalil parse`: members above the engine's SMALL are streamed by its thread."""
    monkeypatch.setattr(engine, "SMALL", 64 * 1024)
    big1, big2 = os.urandom(3 << 20), os.urandom(2 << 20)
    members = _many(big1, big2, 800)
    path = _write_tar(tmp_path / f"big{suffix}", members, suffix == ".tar.gz")
    for run in range(3):
        rows = {r["path"]: r for r in parse_rows(cli, case_dir, path, f"T{run}", "--no-yara")}
        assert {p: r["sha256"] for p, r in rows.items()} == {"/" + n: _sha(b) for n, b in members}
        assert _warnings(case_dir, f"T{run}") == []


def _four(tmp_path: Path) -> tuple[Path, list[int]]:
    """A plain tar of four 600-byte members, and where each member's header is."""
    members = [(f"m{i}.txt", bytes([65 + i]) * 600) for i in range(4)]
    path = _write_tar(tmp_path / "four.tar", members)
    with tarfile.open(path) as tf:
        return path, [m.offset for m in tf.getmembers()]


@pytest.mark.parametrize("gz", [False, True], ids=["tar", "tar.gz"])
def test_bad_header_after_the_first_member_is_a_warning(cli: Any, case_dir: Path, tmp_path: Path, gz: bool) -> None:
    """tarfile ends the listing quietly at a bad header after the first member: that is said."""
    path, offsets = _four(tmp_path)
    data = bytearray(path.read_bytes())
    data[offsets[1] + 148] ^= 0x01  # member 2's checksum field
    if gz:
        import gzip

        path = tmp_path / "four.tar.gz"
        path.write_bytes(gzip.compress(bytes(data)))
    else:
        path.write_bytes(bytes(data))
    rows = parse_rows(cli, case_dir, path, "T", "--no-yara")
    assert [r["path"] for r in rows] == ["/m0.txt"]
    assert _warnings(case_dir, "T") == [
        f"tar listing cut short at member 2 / byte {offsets[1]}: unreadable header (bad checksum)"]


def test_data_after_the_end_of_archive_is_a_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Two tars one after the other: tarfile (like tar without -i) lists the first only; the second
    is not silently dropped."""
    path, offsets = _four(tmp_path)
    first = path.read_bytes()
    second = _write_tar(tmp_path / "second.tar", [("hidden.txt", b"hidden")]).read_bytes()
    path.write_bytes(first + second)
    rows = parse_rows(cli, case_dir, path, "T", "--no-yara")
    assert len(rows) == 4
    end = offsets[3] + 512 + 1024  # after member 4's data: the end-of-archive blocks
    assert _warnings(case_dir, "T") == [
        f"tar listing cut short at member 5 / byte {end}: non-zero data at byte {len(first)} after the end-of-archive block"]


def test_clean_tar_has_no_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    path, _ = _four(tmp_path)
    assert len(parse_rows(cli, case_dir, path, "T", "--no-yara")) == 4
    assert _warnings(case_dir, "T") == []


# 2. content behind a member's declared type -----------------------------------------------------

def _stored(cli: Any, case_dir: Path, path: Path, exhibit: str) -> dict[str, sqlite3.Row]:
    """Parse `path`, then its rows as stored (with `mode`, which `dalil files` leaves out)."""
    cli("parse", path, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    con = sqlite3.connect(case_dir / "case.db")
    con.row_factory = sqlite3.Row
    try:
        return {r["path"]: r for r in con.execute("SELECT * FROM files WHERE exhibit = ?", (exhibit,))}
    finally:
        con.close()


def test_zip_members_of_any_declared_type_are_read(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Inside a zip a member's data is bytes whatever its Unix mode says (unzip extracts it): listed
    with its size, hashed and scanned; the declared type stays in `type` and `mode`."""
    body = {name: f"hidden in {name}".encode() for name in ("fifo", "chr", "blk", "sock", "odd", "dir/", "link")}
    modes = {"fifo": stat.S_IFIFO | 0o644, "chr": stat.S_IFCHR | 0o600, "blk": stat.S_IFBLK | 0o600,
             "sock": stat.S_IFSOCK | 0o755, "odd": 0o160000 | 0o644, "dir/": stat.S_IFDIR | 0o755,
             "link": stat.S_IFLNK | 0o777}
    path = tmp_path / "types.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in body.items():
            info = zipfile.ZipInfo(name)
            info.create_system, info.external_attr = 3, modes[name] << 16
            zf.writestr(info, data)
        zf.writestr("empty-dir/", b"")
    rows = _stored(cli, case_dir, path, "Z")
    kinds = {"/fifo": "p", "/chr": "c", "/blk": "b", "/sock": "s", "/odd": "-", "/dir": "d", "/link": "l"}
    for name, data in body.items():
        row = rows["/" + name.rstrip("/")]
        assert (row["type"], row["size"], row["sha256"]) == (kinds[row["path"]], len(data), _sha(data)), name
    assert rows["/fifo"]["mode"] == "p/prw-r--r--"
    assert rows["/link"]["link"] == "hidden in link"
    assert (rows["/empty-dir"]["type"], rows["/empty-dir"]["sha256"]) == ("d", None)


def test_tar_member_of_unknown_type_is_read_as_a_regular_file(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """GNU tar extracts a member of unknown type (and a contiguous file) as a regular file: its data
    is listed, hashed and scanned; the members after it are listed."""
    path = tmp_path / "q.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        for name, kind, data in (("odd.bin", b"Q", b"hidden behind Q" * 100), ("cont.bin", tarfile.CONTTYPE, b"c" * 700),
                                 ("after.txt", tarfile.REGTYPE, b"after")):
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, len(data)
            tf.addfile(info, io.BytesIO(data))
    rows = _stored(cli, case_dir, path, "T")
    assert {p: (r["type"], r["size"], r["sha256"]) for p, r in rows.items()} == {
        "/odd.bin": ("-", 1500, _sha(b"hidden behind Q" * 100)), "/cont.bin": ("r", 700, _sha(b"c" * 700)),
        "/after.txt": ("r", 5, _sha(b"after"))}
    assert _warnings(case_dir, "T") == ["unknown tar member type b'Q': its data is read as a regular file's"]


# 3. zip names -----------------------------------------------------------------------------------

def _clear_utf8_flag(path: Path, name: bytes) -> None:
    """Clear general-purpose flag bit 11 (0x800, 'the name is UTF-8') of member `name`, in its local
    header and its central directory entry: the zip that tools not writing the flag make."""
    data = bytearray(path.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.index(sig)
        while True:
            i = data.index(sig, start)
            if data[i:].find(name) in (30, 46):  # right after a local (30) / central (46) header
                data[i + at + 1] &= ~0x08 & 0xFF
                break
            start = i + 1
    path.write_bytes(bytes(data))


def _set_name(path: Path, old: bytes, new: bytes) -> None:
    """Replace a member's name by another of the same length, everywhere it is written."""
    assert len(old) == len(new)
    path.write_bytes(path.read_bytes().replace(old, new))


def test_unflagged_utf8_name_is_read_as_utf8(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """macOS and Windows tools write UTF-8 names without the flag; unzip shows them right. A name
    that is not UTF-8 is read as the standard says (code page 437)."""
    path = tmp_path / "names.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("رسالة.txt", b"letter")
        zf.writestr("cafXY.txt", b"cp437")  # ASCII: written without the flag
    _clear_utf8_flag(path, "رسالة.txt".encode())
    _set_name(path, b"cafXY.txt", b"caf\x82\x8a.txt")  # cp437's é and è; not UTF-8
    rows = {r["path"]: r["sha256"] for r in parse_rows(cli, case_dir, path, "Z", "--no-yara")}
    assert rows == {"/رسالة.txt": _sha(b"letter"), "/caféè.txt": _sha(b"cp437")}


def test_flagged_name_that_is_not_utf8_does_not_reject_the_zip(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """One member flagged UTF-8 whose name is not: the others are listed, and that one too, its
    name's bytes as stored text."""
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("first.txt", b"first")
        zf.writestr("b\u00e9d.txt", b"bad name")  # flagged: its name has a non-ASCII character
        zf.writestr("last.txt", b"last")
    _set_name(path, "béd.txt".encode(), b"b\xff\xfed.txt")
    rows = {r["path"]: r["sha256"] for r in parse_rows(cli, case_dir, path, "Z", "--no-yara")}
    assert rows == {"/first.txt": _sha(b"first"), "/b\\xff\\xfed.txt": _sha(b"bad name"), "/last.txt": _sha(b"last")}
    assert _warnings(case_dir, "Z") == ["name flagged as UTF-8 but not UTF-8: its bytes are kept as stored text"]
