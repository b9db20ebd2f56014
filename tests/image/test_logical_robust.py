"""Logical extractions from hostile or damaged sources: re-runs, corrupt members, non-UTF-8 names,
tar names as written, special files, and options that contradict each other."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import socket
import sqlite3
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from parse_helpers import parse_rows

from triage.core import store


def _db(case_dir: Path) -> sqlite3.Connection:
    con = sqlite3.connect(case_dir / "case.db")
    con.row_factory = sqlite3.Row
    return con


def _runs(case_dir: Path, exhibit: str) -> list[sqlite3.Row]:
    with _db(case_dir) as con:
        return con.execute("SELECT status, ended, details FROM runs WHERE exhibit = ? ORDER BY id", (exhibit,)).fetchall()


def _stored(cli: Any, case_dir: Path, source: Path, exhibit: str) -> dict[str, sqlite3.Row]:
    """Parse `source`, then its rows as stored, by path (with the columns `dalil files` leaves out)."""
    cli("parse", source, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    with _db(case_dir) as con:
        return {r["path"]: r for r in con.execute("SELECT * FROM files WHERE exhibit = ?", (exhibit,))}


def _warnings(case_dir: Path, exhibit: str) -> list[tuple[str, str]]:
    with _db(case_dir) as con:
        return [(r["location"], r["message"])
                for r in con.execute("SELECT location, message FROM warnings WHERE exhibit = ?", (exhibit,))]


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None, **kw: Any) -> Path:
    data = data or {}
    with tarfile.open(path, "w", **kw) as tf:
        for info in members:
            body = data.get(info.name)
            if body is not None:
                info.size = len(body)
            tf.addfile(info, io.BytesIO(body) if body is not None else None)
    return path


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "dump"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha")
    (root / "sub" / "b.txt").write_bytes(b"beta")
    return root


def _zip(tmp_path: Path) -> Path:
    path = tmp_path / "dump.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", "alpha" * 100)
        zf.writestr("sub/b.txt", "beta" * 100)
    return path


def _targz(tmp_path: Path) -> Path:
    path = tmp_path / "dump.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, body in (("a.txt", b"alpha"), ("sub/b.txt", b"beta")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return path


# 1. re-runs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [_folder, _zip, _targz], ids=["folder", "zip", "tar"])
def test_reparse_does_not_duplicate(cli: Any, case_dir: Path, tmp_path: Path, make: Any) -> None:
    source = make(tmp_path)
    first = parse_rows(cli, case_dir, source, "EX", "--no-yara")
    second = parse_rows(cli, case_dir, source, "EX", "--no-yara")
    assert len(first) >= 2 and len(second) == len(first)
    assert sorted(r["path"] for r in second) == sorted(r["path"] for r in first)


def test_migration_removes_copies_stored_before(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A case whose files table was filled under schema v1 (copies of every logical row) keeps one
    row per entry, the newest, once opened; re-runs then replace rows."""
    rows = parse_rows(cli, case_dir, _folder(tmp_path), "EX", "--no-yara")
    with _db(case_dir) as con:  # the state a v1 case is left in after two parses
        con.execute("DROP INDEX files_key")
        con.execute("ALTER TABLE files DROP COLUMN fn_times")  # added by v3
        con.execute("ALTER TABLE files DROP COLUMN phash")  # added by v4
        for column in ("snapshot", "carved", "carved_offset", "carved_length"):  # added by v5
            con.execute(f"ALTER TABLE files DROP COLUMN {column}")
        con.execute("UPDATE schema_versions SET version = 1 WHERE component = 'triage.files'")
        columns = [r[1] for r in con.execute("PRAGMA table_info(files)") if r[1] != "id"]
        con.execute(f"INSERT INTO files ({', '.join(columns)}) SELECT {', '.join(columns)} FROM files")
        assert con.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2 * len(rows)
        newest = {r[0] for r in con.execute("SELECT MAX(id) FROM files GROUP BY path")}
    cli("files", "--exhibit", "EX", "--case", case_dir)  # opening the case migrates it
    with _db(case_dir) as con:
        assert {r[0] for r in con.execute("SELECT id FROM files")} == newest
        latest = len(store._SCHEMAS["triage.files"])  # every later version ran too
        assert con.execute("SELECT version FROM schema_versions WHERE component = 'triage.files'").fetchone()[0] == latest
    assert len(parse_rows(cli, case_dir, tmp_path / "dump", "EX", "--no-yara")) == len(rows)


# 2. damaged members -----------------------------------------------------------------------------

def _damage(path: Path, member: bytes, at: int) -> None:
    """Flip a byte `at` bytes into the stored data of `member` (after its local header's name)."""
    data = bytearray(path.read_bytes())
    i = data.index(member) + len(member) + at
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("compression, expect", [(zipfile.ZIP_STORED, "Bad CRC-32"),
                                                 (zipfile.ZIP_DEFLATED, "")],
                         ids=["bad-crc", "corrupt-deflate"])
def test_damaged_zip_member_is_a_warning(cli: Any, case_dir: Path, tmp_path: Path, compression: int,
                                         expect: str) -> None:
    path = tmp_path / "x.zip"
    good = bytes(range(256)) * 40
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr("first.bin", good)
        zf.writestr("bad.bin", os.urandom(4000).hex())
        zf.writestr("last.bin", good)
    _damage(path, b"bad.bin", 40)
    rows = _stored(cli, case_dir, path, "Z")
    assert set(rows) == {"/first.bin", "/bad.bin", "/last.bin"}
    assert rows["/first.bin"]["sha256"] == rows["/last.bin"]["sha256"] == hashlib.sha256(good).hexdigest()
    assert rows["/bad.bin"]["sha256"] is None and rows["/bad.bin"]["size"] == 8000
    assert expect in rows["/bad.bin"]["error"]
    assert [loc for loc, _ in _warnings(case_dir, "Z")] == ["Z@0:/bad.bin"]
    assert _runs(case_dir, "Z")[0]["status"] == "done"


def test_truncated_tar_gz_keeps_what_was_read(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole.tar.gz"
    first = b"1" * 50_000
    with tarfile.open(whole, "w:gz") as tf:
        for name, body in (("one.txt", first), ("two.bin", os.urandom(300_000)), ("three.txt", b"3")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[:150_000])
    rows = {r["path"]: r for r in parse_rows(cli, case_dir, cut, "T", "--no-yara")}
    assert rows["/one.txt"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert rows["/two.bin"]["sha256"] is None and rows["/two.bin"]["error"]
    assert "/three.txt" not in rows
    messages = [msg for _, msg in _warnings(case_dir, "T")]
    assert any(m.startswith("tar listing cut short") for m in messages)
    assert _runs(case_dir, "T")[0]["status"] == "done"


def test_truncated_plain_tar_warns(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    whole = _tar(tmp_path / "whole.tar", [tarfile.TarInfo("a.txt"), tarfile.TarInfo("b.bin")],
                 {"a.txt": b"a" * 1000, "b.bin": b"b" * 100_000})
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[:50_000])
    rows = {r["path"]: r for r in parse_rows(cli, case_dir, cut, "T", "--no-yara")}
    assert rows["/a.txt"]["sha256"] == hashlib.sha256(b"a" * 1000).hexdigest()
    assert rows["/b.bin"]["sha256"] is None
    assert "tar listing cut short: unexpected end of data" in [m for _, m in _warnings(case_dir, "T")]


def test_unreadable_tgz_is_one_line_and_the_run_is_closed(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"\x1f\x8b\x08" + os.urandom(3000))
    result = cli("parse", bad, "--exhibit", "B", "--case", case_dir, "--no-yara", code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a readable tar: bad.tgz (gzip:" in lines[0] and "internal error" not in lines[0]
    (run,) = _runs(case_dir, "B")
    assert run["status"] == "failed" and run["ended"] and "not a readable tar" in run["details"]


# 3. names that are not UTF-8 --------------------------------------------------------------------

def test_name_text_is_reversible_and_unambiguous() -> None:
    from triage.image.logical import name_bytes, name_text

    alphabet = [b"\\", b"x", b"X", b"f", b"5", b"c", b"\xff", b"\xc3", b"\xa9", b"a"]
    seen: dict[str, bytes] = {}
    for n in range(5):
        for parts in itertools.product(alphabet, repeat=n):
            raw = b"".join(parts)
            text = name_text(raw)
            text.encode("utf-8")  # storable
            assert name_bytes(text) == raw
            assert seen.setdefault(text, raw) == raw
    assert name_text(b"\xff\xfebad.txt") == "\\xff\\xfebad.txt"
    assert name_text("café\\n.txt".encode()) == "café\\n.txt"  # UTF-8, and a backslash not before xNN: as is
    assert name_text(b"a\\xff") == "a\\x5cxff"


def test_folder_with_non_utf8_names(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "dump"
    root.mkdir()
    (root / os.fsdecode(b"\xff\xfebad.txt")).write_bytes(b"raw name")
    (root / "a\\xff.txt").write_bytes(b"literal text")  # valid UTF-8 that looks like an escape
    (root / os.fsdecode(b"a\xff.txt")).write_bytes(b"byte ff")
    rows = _stored(cli, case_dir, root, "D")
    assert {p: r["sha256"] for p, r in rows.items()} == {
        "/\\xff\\xfebad.txt": hashlib.sha256(b"raw name").hexdigest(),
        "/a\\x5cxff.txt": hashlib.sha256(b"literal text").hexdigest(),
        "/a\\xff.txt": hashlib.sha256(b"byte ff").hexdigest(),
    }
    assert rows["/a\\xff.txt"]["name"] == "a\\xff.txt"
    verified = cli("verify", case_dir, "--evidence")  # the registration opens the files by their real bytes
    assert "re-hashed, all match" in verified.stdout


def test_tar_with_latin1_names(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    info = tarfile.TarInfo("café.txt")
    link = tarfile.TarInfo("lien")
    link.type, link.linkname = tarfile.SYMTYPE, "café.txt"
    path = _tar(tmp_path / "l1.tar", [info, link], {"café.txt": b"x"}, format=tarfile.GNU_FORMAT, encoding="latin-1")
    rows = _stored(cli, case_dir, path, "L")
    assert rows["/caf\\xe9.txt"]["sha256"] == hashlib.sha256(b"x").hexdigest()
    assert rows["/lien"]["link"] == "caf\\xe9.txt"


# 4. tar names as written ------------------------------------------------------------------------

def test_tar_names_keep_their_characters(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    names = {"./.bashrc": "/.bashrc", "...dots": "/...dots", "../../up.txt": "/../../up.txt",
             "/abs/x": "/abs/x", "././nested": "/nested", ".hidden/./f": "/.hidden/./f"}
    path = _tar(tmp_path / "n.tar", [tarfile.TarInfo(n) for n in names], {n: n.encode() for n in names})
    rows = parse_rows(cli, case_dir, path, "N", "--no-yara")
    assert sorted(r["path"] for r in rows) == sorted(names.values())


def test_zip_and_tar_name_the_same_member_alike(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    names = ["../../etc/x", "./.profile", "/abs"]
    zpath = tmp_path / "n.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for n in names:
            zf.writestr(zipfile.ZipInfo(n), b"z")
    tpath = _tar(tmp_path / "n.tar", [tarfile.TarInfo(n) for n in names], {n: b"t" for n in names})
    zipped = sorted(r["path"] for r in parse_rows(cli, case_dir, zpath, "Z", "--no-yara"))
    tarred = sorted(r["path"] for r in parse_rows(cli, case_dir, tpath, "T", "--no-yara"))
    assert zipped == tarred == ["/../../etc/x", "/.profile", "/abs"]


# 5. special files -------------------------------------------------------------------------------

def test_folder_special_files(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    root = _folder(tmp_path)
    os.mkfifo(root / "fifo")
    os.symlink("a.txt", root / "inside")
    os.symlink("/etc/passwd", root / "outside")
    os.symlink("/etc", root / "dirlink")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
        rows = _stored(cli, case_dir, root, "S")
    assert {p: r["type"] for p, r in rows.items()} == {
        "/a.txt": "r", "/sub": "d", "/sub/b.txt": "r", "/fifo": "p", "/inside": "l", "/outside": "l",
        "/dirlink": "l", "/sock": "s"}
    assert rows["/fifo"]["mode"].startswith("p/p") and rows["/inside"]["mode"].startswith("l/l")
    assert (rows["/inside"]["link"], rows["/outside"]["link"], rows["/dirlink"]["link"]) == ("a.txt", "/etc/passwd", "/etc")
    for special in ("/fifo", "/inside", "/outside", "/sock"):
        assert rows[special]["sha256"] is None, special
    assert not any(p.startswith("/dirlink/") for p in rows)  # not followed


def test_tar_special_members(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    def member(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        return info

    body = b"the real content"
    members = [tarfile.TarInfo("data/file.txt"), member("data/hard", tarfile.LNKTYPE, "data/file.txt"),
               member("data/soft", tarfile.SYMTYPE, "file.txt"), member("dev/null", tarfile.CHRTYPE),
               member("dev/sda", tarfile.BLKTYPE), member("run/pipe", tarfile.FIFOTYPE),
               member("data/orphan", tarfile.LNKTYPE, "missing")]
    path = _tar(tmp_path / "s.tar", members, {"data/file.txt": body})
    rows = _stored(cli, case_dir, path, "S")
    assert {p: r["type"] for p, r in rows.items()} == {
        "/data/file.txt": "r", "/data/hard": "r", "/data/soft": "l", "/dev/null": "c", "/dev/sda": "b",
        "/run/pipe": "p", "/data/orphan": "r"}
    assert rows["/data/hard"]["sha256"] == hashlib.sha256(body).hexdigest() and rows["/data/hard"]["size"] == len(body)
    assert rows["/data/hard"]["link"] == "/data/file.txt"
    assert rows["/data/soft"]["link"] == "file.txt" and rows["/data/soft"]["sha256"] is None
    assert rows["/data/orphan"]["sha256"] is None
    assert any("not an earlier member" in m for _, m in _warnings(case_dir, "S"))


def test_zip_symlink_entry(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "l.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.create_system, info.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "target/file.txt")
        zf.writestr("plain.txt", "x")
    rows = _stored(cli, case_dir, path, "Z")
    assert (rows["/link"]["type"], rows["/link"]["link"]) == ("l", "target/file.txt")
    assert rows["/link"]["sha256"] == hashlib.sha256(b"target/file.txt").hexdigest()  # its data is read too
    assert rows["/link"]["mode"] == "l/lrwxrwxrwx"
    assert rows["/plain.txt"]["type"] == "r" and rows["/plain.txt"]["sha256"]


# 6.-8. the command line and times ----------------------------------------------------------------

def test_fifo_as_the_image_is_refused(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = cli("parse", fifo, "--exhibit", "F", "--case", case_dir, "--no-yara", code=2)
    assert len(result.stderr.strip().splitlines()) == 1 and "FIFO" in result.stderr


def test_rules_with_no_yara_is_a_usage_error(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    result = cli("parse", _folder(tmp_path), "--exhibit", "R", "--case", case_dir, "--rules", "/nonexistent",
                 "--no-yara", code=2)
    assert len(result.stderr.strip().splitlines()) == 1 and "--no-yara" in result.stderr


def test_tar_mtime_zero_is_the_epoch(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    info = tarfile.TarInfo("old.txt")
    info.mtime = 0
    rows = parse_rows(cli, case_dir, _tar(tmp_path / "t.tar", [info], {"old.txt": b"x"}), "E", "--no-yara")
    assert rows[0]["mtime"] == "1970-01-01T00:00:00Z"
