"""Bad input: never a traceback; a clear error (exit 1/2) or warnings (exit 0), partial results kept;
the evidence is never written (bytes and mtime unchanged)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import fat_image
from parse_helpers import materialise, parse_rows


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def warnings_of(case_dir: Path) -> list[str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return [f"{loc}: {msg}" for loc, msg in db.execute("SELECT location, message FROM warnings")]


def assert_clean(result: Any) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("rel, needle", [
    ("dfvfs/bogus.001", "no readable file system"),
])  # VMDK, VHD, QCOW and DMG are read now: tests/image/test_virtual_disks.py
def test_unreadable_containers_fail_cleanly(rel: str, needle: str, cli: Any, case_dir: Path,
                                            testdata: Callable[[str], Path]) -> None:
    src = testdata(f"disk_images/{rel}")
    before = fingerprint(src)
    result = cli("parse", src, "--exhibit", "BAD", "--case", case_dir, code=1)
    assert_clean(result)
    assert needle in result.stderr
    assert fingerprint(src) == before


def test_damaged_apfs_warns_naming_the_partition(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """An APFS container signature over nothing readable: one clear line, rc 1 (apfs.raw itself is read:
    test_layers)."""
    image = tmp_path / "apfs-damaged.raw"
    image.write_bytes(b"\0" * 32 + b"NXSB" + b"\0" * (1024 * 1024 - 36))
    result = cli("parse", image, "--exhibit", "APFS", "--case", case_dir, code=1)
    assert_clean(result)
    assert "APFS" in result.stderr and "offset 0" in result.stderr
    assert any("APFS" in w and "APFS@0" in w for w in warnings_of(case_dir))


def test_zero_length_and_missing(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.dd"
    empty.touch()
    result = cli("parse", empty, "--exhibit", "EMPTY", "--case", case_dir, code=1)
    assert "empty" in result.stderr
    result = cli("parse", tmp_path / "nope.dd", "--exhibit", "NOPE", "--case", case_dir, code=1)
    assert "no such image" in result.stderr


def test_wrong_extension_still_parsed(cli: Any, case_dir: Path, tmp_path: Path,
                                      testdata: Callable[[str], Path]) -> None:
    disguised = tmp_path / "holiday.jpg"
    shutil.copyfile(testdata("disk_images/sleuthkit/image.dd"), disguised)
    rows = parse_rows(cli, case_dir, disguised)
    assert len(rows) == 9


def test_truncated_image_keeps_partial_results(cli: Any, case_dir: Path, tmp_path: Path,
                                               testdata: Callable[[str], Path]) -> None:
    """An MBR disk whose second partition is cut off: the first is still listed, with warnings."""
    full = materialise(testdata("disk_images/dfvfs/mbr.raw.gz"), tmp_path)
    cut = tmp_path / "cut.raw"
    cut.write_bytes(full.read_bytes()[: 140 * 512])  # ends inside the logical partition at sector 131
    before = fingerprint(cut)
    result = cli("parse", cut, "--exhibit", "CUT", "--case", case_dir, code=0)
    assert_clean(result)
    rows = [json.loads(x) for x in cli("files", "--case", case_dir, "--format", "jsonl").stdout.splitlines()]
    first = {r["path"] for r in rows if r["partition"] == 512}
    assert {"/passwords.txt", "/a_directory/a_file"} <= first
    stored = warnings_of(case_dir)
    assert stored and all(f"warning: {w}" in result.stderr for w in stored)  # listed, not only counted
    assert fingerprint(cut) == before


def test_truncated_single_fs(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    cut = tmp_path / "half.dd"
    cut.write_bytes(testdata("disk_images/sleuthkit/image.dd").read_bytes()[:60 * 1024])
    result = cli("parse", cut, "--exhibit", "HALF", "--case", case_dir, code=None)
    assert result.exit_code in (0, 1)
    assert_clean(result)


def test_corrupt_e01_chunk(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    """A damaged chunk (libewf reads it as zeros, silently): the run says the E01 is corrupt."""
    raw = testdata("disk_images/sleuthkit/image.dd").read_bytes()
    data = bytearray(testdata("disk_images/sleuthkit/image.E01").read_bytes())
    start = data.find(raw[2048:2112]) - 2048  # where the first chunk's data sits in this uncompressed EWF
    assert start > 0
    for i in range(start + 2048, start + 30000):
        data[i] ^= 0x5A
    bad = tmp_path / "bad.E01"
    bad.write_bytes(bytes(data))
    before = fingerprint(bad)
    result = cli("parse", bad, "--exhibit", "EWF-BAD", "--case", case_dir, code=1)
    assert_clean(result)
    assert "EWF image corrupt" in result.stderr and "3ebb0b7dcd6b5fcd59a0020625d70994" in result.stderr
    assert any("EWF-BAD:" in w and "EWF image corrupt" in w for w in warnings_of(case_dir))
    assert fingerprint(bad) == before


def test_verify_image_finds_changed_media_the_file_system_does_not_show(
        cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    """A chunk of the E01 changed after acquisition, outside any file-system structure, with its
    Adler-32 recomputed so libewf returns the altered bytes without complaint: the walk cannot
    notice, only the media MD5 against the one stored at acquisition can. Without --verify-image
    the change is silent (known, disclosed); with it the run says so, keeps its listing and exits 1."""
    data = bytearray(testdata("disk_images/sleuthkit/image.E01").read_bytes())
    sectors = data.find(b"sectors" + bytes(9))
    chunk, size = sectors + 76 + (32768 + 4), 32768  # chunk 1: stored uncompressed, all zeros (free space)
    assert sectors > 0 and data[chunk:chunk + size] == bytes(size)
    data[chunk + 100:chunk + 140] = b"planted after acquisition, not in the FS"
    data[chunk + size:chunk + size + 4] = zlib.adler32(bytes(data[chunk:chunk + size])).to_bytes(4, "little")
    bad = tmp_path / "changed.E01"
    bad.write_bytes(bytes(data))
    before = fingerprint(bad)

    silent = cli("parse", bad, "--exhibit", "EWF-QUIET", "--case", case_dir)
    assert_clean(silent)
    assert "EWF image corrupt" not in silent.stderr

    result = cli("parse", bad, "--exhibit", "EWF-CHANGED", "--verify-image", "--case", case_dir, code=1)
    assert_clean(result)
    assert "image verification failed" in result.stderr and "EWF image corrupt" in result.stderr
    assert "3ebb0b7dcd6b5fcd59a0020625d70994" in result.stderr
    assert any("EWF-CHANGED: image verification: EWF image corrupt" in w for w in warnings_of(case_dir))
    with sqlite3.connect(case_dir / "case.db") as db:
        listed = db.execute("SELECT COUNT(*) FROM files WHERE exhibit = 'EWF-CHANGED'").fetchone()[0]
        quiet = db.execute("SELECT COUNT(*) FROM files WHERE exhibit = 'EWF-QUIET'").fetchone()[0]
        details = json.loads(db.execute("SELECT details FROM runs WHERE exhibit = 'EWF-CHANGED'").fetchone()[0])
    assert listed == quiet > 5, "the listing is kept"
    checked = details["image_verification"]
    assert checked["ok"] is False and checked["ewf_media_match"] is False
    assert checked["files_match"] is True  # the file is what was registered a moment ago
    ledger = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    parsed = [e for e in ledger if e.get("action") == "parsed" and "EWF-CHANGED" in json.dumps(e)]
    assert parsed and parsed[-1]["details"]["image_verification"]["ewf_media_match"] is False
    assert fingerprint(bad) == before


def test_verify_image_passes_on_intact_images(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    ewf = cli("parse", testdata("disk_images/sleuthkit/image.E01"), "--exhibit", "EWF-OK", "--verify-image",
              "--case", case_dir)
    assert "image verified: file hashes match the registration, media MD5 matches the one stored in the E01" \
        in ewf.stdout
    raw = cli("parse", testdata("disk_images/sleuthkit/image.dd"), "--exhibit", "RAW-OK", "--verify-image",
              "--case", case_dir)
    assert "image verified: file hashes match the registration" in raw.stdout


def test_truncated_e01(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    cut = tmp_path / "cut.E01"
    cut.write_bytes(testdata("disk_images/sleuthkit/image.E01").read_bytes()[:30000])
    result = cli("parse", cut, "--exhibit", "EWF-CUT", "--case", case_dir, code=1)
    assert_clean(result)
    assert "cannot read the image" in result.stderr and "truncated or corrupt" in result.stderr


def test_e01_under_a_wrong_extension(cli: Any, case_dir: Path, tmp_path: Path,
                                     testdata: Callable[[str], Path]) -> None:
    disguised = tmp_path / "backup.dd"
    shutil.copyfile(testdata("disk_images/sleuthkit/image.E01"), disguised)
    rows = parse_rows(cli, case_dir, disguised, "EWF-DD")
    twin = parse_rows(cli, case_dir, testdata("disk_images/sleuthkit/image.dd"), "RAW")
    assert sorted((r["path"], r["sha256"]) for r in rows) == sorted((r["path"], r["sha256"]) for r in twin)


def test_directory_loop_is_cut(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A FAT sub-directory whose entry points back at its parent's cluster: listed once, no endless walk."""
    image = fat_image(tmp_path, {"A/B/C.TXT": b"c"}, delete=[])
    raw = bytearray(image.read_bytes())
    # find the directory entry "B          " inside A's cluster and point it at A's first cluster
    a_entry = raw.find(b"A          \x10")
    b_entry = raw.find(b"B          \x10")
    a_cluster = raw[a_entry + 26: a_entry + 28]
    raw[b_entry + 26: b_entry + 28] = a_cluster
    image.write_bytes(bytes(raw))
    result = cli("parse", image, "--exhibit", "LOOP", "--case", case_dir, code=0)
    assert_clean(result)
    rows = [json.loads(x) for x in cli("files", "--case", case_dir, "--format", "jsonl").stdout.splitlines()]
    assert max(r["path"].count("/") for r in rows) <= 3  # /A/B/B: the loop is entered once, then cut


def test_invalid_jpegs_in_a_logical_extraction(cli: Any, case_dir: Path, tmp_path: Path,
                                               testdata: Callable[[str], Path]) -> None:
    folder = tmp_path / "phone"
    shutil.copytree(testdata("exif/jpg/invalid"), folder / "invalid")
    shutil.copyfile(testdata("exif/jpg/corrupted.jpg"), folder / "corrupted.jpg")
    before = {p: fingerprint(p) for p in folder.rglob("*") if p.is_file()}
    rows = parse_rows(cli, case_dir, folder)
    files = [r for r in rows if r["type"] == "r"]
    assert len(files) == len(before)
    assert all(r["sha256"] for r in files)
    assert {p: fingerprint(p) for p in before} == before


def test_source_untouched_after_parse_and_export(cli: Any, case_dir: Path, tmp_path: Path,
                                                 testdata: Callable[[str], Path]) -> None:
    src = testdata("disk_images/sleuthkit/image.E01")
    before = fingerprint(src)
    cli("parse", src, "--exhibit", "E", "--case", case_dir)
    cli("export", "--exhibit", "E", "--out", tmp_path / "out", "--case", case_dir)
    assert fingerprint(src) == before


def test_split_image_registered_with_its_segments(cli: Any, case_dir: Path,
                                                  testdata: Callable[[str], Path]) -> None:
    first = testdata("disk_images/dfvfs/ext2.splitraw.000")
    second = first.with_name("ext2.splitraw.001")
    cli("parse", first, "--exhibit", "SPLIT", "--case", case_dir)
    row = json.loads(cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout.splitlines()[0])
    assert row["sha256"] == hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    assert [s["sha256"] for s in row["details"]["segments"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    cli("verify", case_dir, "--evidence")


def test_folder_exhibit_verifies(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    (folder / "sms").mkdir(parents=True)
    (folder / "sms" / "a.txt").write_text("hello")
    (folder / "b.bin").write_bytes(b"\x00" * 10)
    rows = parse_rows(cli, case_dir, folder, "DUMP")
    assert {r["path"] for r in rows} == {"/sms", "/sms/a.txt", "/b.bin"}
    cli("verify", case_dir, "--evidence")
    (folder / "b.bin").write_bytes(b"\x01" * 10)
    cli("verify", case_dir, "--evidence", code=1)


def test_a_crash_of_the_file_system_library_ends_the_child_not_the_command(
        cli: Any, case_dir: Path, testdata: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """libtsk faulting on a crafted file system kills the process that called it. The parse runs in
    a forked child: the command records the gap (warning at the last entry, run 'crashed',
    parse-crashed in the ledger), keeps the rows stored, exits 1 with one message; a later run
    completes. The crash is a real SIGSEGV raised in the child where libtsk would raise it."""
    from crashes import faulting_walk

    from triage.image import engine, walkers

    image = testdata("disk_images/sleuthkit/image.dd")
    before = fingerprint(image)
    real_walk = walkers.walk_fs
    monkeypatch.setattr(walkers, "walk_fs", faulting_walk("/passwords.txt"))
    monkeypatch.setattr(engine, "BATCH_FILES", 1)
    monkeypatch.setattr(engine, "FLUSH_ROWS", 1)
    result = cli("parse", image, "--exhibit", "TSK-CRASH", "--case", case_dir, code=1)
    assert_clean(result)
    assert "the file-system library crashed (signal SIGSEGV)" in result.stderr
    assert "the last entry reached was TSK-CRASH@0:/" in result.stderr
    assert "a re-run is likely to stop at the same place" in result.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        status, details = db.execute("SELECT status, details FROM runs WHERE exhibit = 'TSK-CRASH'").fetchone()
        stored = db.execute("SELECT COUNT(*) FROM files WHERE exhibit = 'TSK-CRASH'").fetchone()[0]
    assert status == "crashed"
    details = json.loads(details)
    assert details["cause"] == "signal SIGSEGV" and details["rows_kept"] == stored
    assert f"{stored} of the {details['entries_reached']} entries reached had been stored" in result.stderr
    assert any("TSK-CRASH@0:/" in w and "crashed (signal SIGSEGV)" in w for w in warnings_of(case_dir))
    ledger = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    assert ledger[-1]["action"] == "parse-crashed" and ledger[-1]["details"]["rows_kept"] == stored
    cli("verify", "--case", case_dir)  # the chain is intact after the crash

    monkeypatch.setattr(walkers, "walk_fs", real_walk)
    again = cli("parse", image, "--exhibit", "TSK-CRASH", "--case", case_dir)
    assert "passwords.txt" not in again.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        paths = {p for (p,) in db.execute("SELECT path FROM files WHERE exhibit = 'TSK-CRASH'")}
    assert "/passwords.txt" in paths and "/a_directory/another_file" in paths
    assert fingerprint(image) == before


def test_the_command_gets_past_a_file_whose_content_crashed_the_library(
        cli: Any, case_dir: Path, testdata: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """libtsk faulting while reading one file's content (a corrupt run list): the crash is recorded,
    a new child parses again and lists that file without reading it, and the command completes."""
    import faulthandler
    import resource
    import signal

    from triage.image import walk

    image = testdata("disk_images/sleuthkit/image.dd")
    before = fingerprint(image)
    real_read = walk.Entry.read

    def faulting_read(self: Any, offset: int, length: int) -> bytes:
        if self.path == "/passwords.txt":
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            faulthandler.disable()
            os.kill(os.getpid(), signal.SIGSEGV)
        return real_read(self, offset, length)

    monkeypatch.setattr(walk.Entry, "read", faulting_read)  # faults every time that file is read
    got_past_crash_reading(cli, case_dir, image, "TSK-AGAIN")
    assert fingerprint(image) == before


def got_past_crash_reading(cli: Any, case_dir: Path, image: Path, exhibit: str) -> dict[str, Any]:
    """Parse `image` as `exhibit`, where reading /passwords.txt crashes the child: the command ends
    well, having recorded the crash on that file, listed it unread and read the rest. Returns the
    crashed run's details."""
    result = cli("parse", image, "--exhibit", exhibit, "--case", case_dir)
    assert_clean(result)
    where = f"{exhibit}@0:/passwords.txt"
    assert f"crashed reading {where} (signal SIGSEGV)" in result.stderr
    with sqlite3.connect(case_dir / "case.db") as db:
        rows = {p: (sha, err) for p, sha, err in db.execute(
            "SELECT path, sha256, error FROM files WHERE exhibit = ?", (exhibit,))}
        runs = db.execute("SELECT status, details FROM runs WHERE exhibit = ? ORDER BY id", (exhibit,)).fetchall()
    assert [status for status, _ in runs] == ["crashed", "done"]
    crash: dict[str, Any] = json.loads(runs[0][1])
    assert crash["crashed_reading"] == where
    sha, err = rows["/passwords.txt"]
    assert sha is None and "crashed at this entry in an earlier run" in err
    assert rows["/a_directory/another_file"][0] not in (None, hashlib.sha256(b"").hexdigest()), "the rest is read"
    found = warnings_of(case_dir)
    assert any(where in w and "crashed (signal SIGSEGV)" in w for w in found)
    assert any(where in w and "content not read" in w for w in found)
    ledger = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    assert [e["action"] for e in ledger[-2:]] == ["parse-crashed", "parsed"]
    cli("verify", "--case", case_dir)
    return crash


def test_a_crash_while_a_large_file_is_streamed_is_put_on_that_file(
        cli: Any, case_dir: Path, testdata: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Files above engine.SMALL are streamed by a thread of the child while the walk goes on. A libtsk
    fault in that thread is put on the file being streamed, not on the entry the walk had reached by
    then (which would have skipped the wrong file, or called it a crash of the listing), and the
    command gets past it like any other crash reading a file's content."""
    import ctypes
    import faulthandler
    import resource
    import threading

    from triage.image import engine, walk

    image = testdata("disk_images/sleuthkit/image.dd")
    before = fingerprint(image)
    real_read = walk.Entry.read

    def faulting_read(self: Any, offset: int, length: int) -> bytes:
        if self.path == "/passwords.txt" and threading.current_thread().name.startswith("dalil-large"):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            faulthandler.disable()
            # a real fault in this thread, as libtsk's would be: os.kill would send SIGSEGV to the main
            # thread and let this one run on until the process dies
            ctypes.string_at(0)
        return real_read(self, offset, length)

    monkeypatch.setattr(engine, "SMALL", 16)  # passwords.txt (116 bytes) and most others are streamed
    monkeypatch.setattr(walk.Entry, "read", faulting_read)
    crash = got_past_crash_reading(cli, case_dir, image, "TSK-LARGE")
    assert crash["walk_location"].startswith("TSK-LARGE@0:/"), "where the walk was is disclosed too"
    assert fingerprint(image) == before
