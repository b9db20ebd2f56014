"""`dalil image`: the image, its hashes, the acquisition record, ledger and evidence; bad input."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from triage.core.case import Case
from triage.core.errors import DalilError
from triage.image.acquire import Request, acquire

SECTOR = 512


def digests(data: bytes) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256")}


def snapshot(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def acquisitions(case_dir: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(case_dir / "case.db")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM acquisitions ORDER BY id")]
    con.close()
    return rows


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """3.5 MiB of random bytes with a fixed old mtime (so a change would show)."""
    path = tmp_path / "evidence" / "disk.dd"
    path.parent.mkdir()
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 512 * 1024 + 77))
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return path


@pytest.fixture
def vfat_image(tmp_path: Path) -> Path:
    """A real FAT16 file system built with mkfs.vfat and mtools, holding two files."""
    if not shutil.which("mkfs.vfat") or not shutil.which("mcopy"):
        pytest.skip("mkfs.vfat and mtools are needed")
    path = tmp_path / "card.img"
    subprocess.run(["mkfs.vfat", "-C", "-n", "CARD", str(path), "8192"], check=True, capture_output=True)
    note = tmp_path / "NOTE.TXT"
    note.write_text("boat leaves Zuwara at 02:00\n")
    photo = tmp_path / "IMG.JPG"
    photo.write_bytes(os.urandom(200_000))
    subprocess.run(["mcopy", "-i", str(path), str(note), str(photo), "::"], check=True, capture_output=True)
    return path


def test_image_a_vfat_card_with_verify(cli: Any, case_dir: Path, vfat_image: Path) -> None:
    before = snapshot(vfat_image)
    data = vfat_image.read_bytes()
    result = cli("image", vfat_image, "--exhibit", "EXH-001", "--verify", "--reason", "warrant 42/2026",
                 "--case", case_dir)
    want = digests(data)
    assert want["sha256"] in result.stdout and "source and image match" in result.stdout
    assert snapshot(vfat_image) == before  # the source is never written, its mtime never moves

    image = case_dir / "images" / "EXH-001.raw"
    assert image.read_bytes() == data
    assert not os.access(image, os.W_OK) or os.geteuid() == 0
    assert image.stat().st_mode & 0o222 == 0
    assert not (case_dir / "images" / "EXH-001.acquire.json").exists()
    # mtools reads the copy as a FAT file system with the files put in
    listing = subprocess.run(["mdir", "-i", str(image), "-b", "::"], capture_output=True, text=True, check=True)
    assert "NOTE.TXT" in listing.stdout and "IMG.JPG" in listing.stdout

    rows = jsonl(cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout)
    assert len(rows) == 1
    ev = rows[0]
    assert (ev["exhibit"], ev["kind"], ev["size"], ev["in_place"]) == ("EXH-001", "image", len(data), True)
    assert {a: ev[a] for a in want} == want
    assert Path(ev["path"]) == image.resolve()

    acq = acquisitions(case_dir)
    assert len(acq) == 1 and acq[0]["exhibit"] == "EXH-001" and acq[0]["verified"] == "match"
    record = json.loads(acq[0]["details"])
    assert record["hashes"] == want and record["size"] == len(data)
    assert record["source"]["path"] == str(vfat_image.resolve())
    assert record["source"]["kind"] == "file" and record["source"]["sector_size"] == SECTOR
    assert record["source"]["sectors"] == len(data) // SECTOR
    assert record["errors"] == {"bad_sectors": 0, "bad_ranges": [], "read_retries": 2}
    assert record["verify"]["match"] is True and record["verify"]["source"] == want
    assert record["tool"]["name"] == "dalil" and record["tool"]["version"]
    assert record["started"] <= record["ended"] and record["speed_mb_s"] > 0
    assert record["reason"] == "warrant 42/2026"
    # the JSON copy in objects/ is the same record, named by its hash
    case = Case.open(case_dir)
    with case.objects.open(acq[0]["record_sha256"]) as fh:
        assert json.loads(fh.read()) == record

    entries = jsonl(cli("log", "--case", case_dir, "--format", "jsonl").stdout)
    acquired = [e for e in entries if e["action"] == "acquired"]
    assert len(acquired) == 1
    assert acquired[0]["subject"] == {"exhibit": "EXH-001", "sha256": "sha256:" + want["sha256"]}
    assert acquired[0]["details"]["record"] == "sha256:" + acq[0]["record_sha256"]
    assert acquired[0]["reason"] == "warrant 42/2026"
    assert [e["action"] for e in entries].index("acquired") < [e["action"] for e in entries].index("evidence-registered")
    verify = cli("verify", case_dir, "--evidence")
    assert "FAIL" not in verify.stdout


def test_split_segments(cli: Any, case_dir: Path, source: Path) -> None:
    data = source.read_bytes()
    cli("image", source, "--exhibit", "EXH/002", "--split-size", "1MiB", "--case", case_dir)
    segs = sorted((case_dir / "images").glob("EXH%2F002.*"))
    assert [p.name for p in segs] == ["EXH%2F002.001", "EXH%2F002.002", "EXH%2F002.003", "EXH%2F002.004"]
    assert [p.stat().st_size for p in segs] == [1024 * 1024] * 3 + [512 * 1024 + 77]
    assert b"".join(p.read_bytes() for p in segs) == data
    record = json.loads(acquisitions(case_dir)[0]["details"])
    assert record["image"]["split_size"] == 1024 * 1024
    assert [s["path"] for s in record["image"]["segments"]] == [f"images/{p.name}" for p in segs]
    assert record["hashes"] == digests(data)
    ev = jsonl(cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout)[0]
    assert ev["sha256"] == digests(data)["sha256"] and ev["size"] == len(data)
    assert len(ev["details"]["segments"]) == 4


def test_split_size_in_decimal_units(cli: Any, case_dir: Path, source: Path) -> None:
    cli("image", source, "--exhibit", "EXH-003", "--split-size", "2MB", "--case", case_dir)
    segs = sorted((case_dir / "images").glob("EXH-003.*"))
    assert [p.stat().st_size for p in segs] == [2_000_000, source.stat().st_size - 2_000_000]


class EioSource:
    """The real file, raising OSError(EIO) whenever a read touches one of `bad` sectors."""

    def __init__(self, fh: BinaryIO, bad: set[int]) -> None:
        self.fh, self.bad, self.pos = fh, bad, 0

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = self.fh.seek(offset, whence)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        if any(s * SECTOR < self.pos + size and (s + 1) * SECTOR > self.pos for s in self.bad):
            raise OSError(errno.EIO, "Input/output error")
        data = self.fh.read(size)
        self.pos += len(data)
        return data

    def fileno(self) -> int:
        return self.fh.fileno()


class EioIntoSource(EioSource):
    """The same, with `readinto` (as real files and devices have): the acquisition reads into its buffers."""

    def readinto(self, view: memoryview) -> int:
        size = len(view)
        if any(s * SECTOR < self.pos + size and (s + 1) * SECTOR > self.pos for s in self.bad):
            raise OSError(errno.EIO, "Input/output error")
        got = self.fh.readinto(view)  # type: ignore[attr-defined]
        self.pos += got
        return got


@pytest.mark.parametrize("kind", [EioSource, EioIntoSource])
def test_bad_sectors_zero_filled_and_recorded(cli: Any, case_dir: Path, source: Path, kind: type[EioSource]) -> None:
    data = source.read_bytes()
    bad = {100, 101, 102, 5000, 7000}
    case = Case.open(case_dir)
    with open(source, "rb") as fh:
        out = acquire(case, Request(source, "EXH-004", verify=True, chunk=256 * 1024), stream=kind(fh, bad))
    expected = bytearray(data)
    for s in bad:
        expected[s * SECTOR:(s + 1) * SECTOR] = bytes(SECTOR)
    image = case_dir / "images" / "EXH-004.raw"
    assert image.read_bytes() == bytes(expected)
    record = out.record
    assert record["hashes"] == digests(bytes(expected))
    assert [(r["first_sector"], r["last_sector"], r["sectors"], r["error"]) for r in record["errors"]["bad_ranges"]] \
        == [(100, 102, 3, "EIO"), (5000, 5000, 1, "EIO"), (7000, 7000, 1, "EIO")]
    assert record["errors"]["bad_sectors"] == 5
    # re-reading the failing source zero-fills the same sectors: verify still holds and says so
    assert record["verify"]["match"] is True and record["verify"]["source_bad_sectors"] == 5
    rows = jsonl(cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout)
    assert rows[0]["details"]["bad_sectors"] == 5
    con = sqlite3.connect(case_dir / "case.db")
    warnings = [r[0] for r in con.execute("SELECT location FROM warnings WHERE exhibit = 'EXH-004' ORDER BY id")]
    con.close()
    assert warnings == [f"{source.resolve()} sectors 100-102", f"{source.resolve()} sectors 5000-5000",
                        f"{source.resolve()} sectors 7000-7000"]


def test_verify_mismatch_is_exit_1_and_recorded(cli: Any, case_dir: Path, source: Path) -> None:
    """A source that reads differently the second time (a failing drive) fails verification."""

    class Drifting(EioSource):
        passes = 0

        def seek(self, offset: int, whence: int = 0) -> int:
            if offset == 0 and whence == 0:
                Drifting.passes += 1
                self.bad = {3} if Drifting.passes > 2 else set()  # 1: size probe, 2: copy, 3: verify
            return super().seek(offset, whence)

    case = Case.open(case_dir)
    with open(source, "rb") as fh:
        out = acquire(case, Request(source, "EXH-005", verify=True), stream=Drifting(fh, set()))
    assert out.record["verify"]["match"] is False
    assert out.record["verify"]["image"] == out.record["hashes"]
    assert out.record["verify"]["source"] != out.record["hashes"]
    assert acquisitions(case_dir)[0]["verified"] == "mismatch"


@pytest.mark.parametrize("make,code,message", [
    (lambda d: d / "nope.dd", 1, "no such file"),
    (lambda d: d.mkdir() or d, 2, "is a directory"),
])
def test_bad_sources(cli: Any, case_dir: Path, tmp_path: Path, make: Any, code: int, message: str) -> None:
    result = cli("image", make(tmp_path / "src"), "--exhibit", "EXH-9", "--case", case_dir, code=code)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert acquisitions(case_dir) == []


def test_empty_source_refused(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.dd"
    empty.touch()
    assert "empty" in cli("image", empty, "--exhibit", "EXH-9", "--case", case_dir, code=1).stderr


def test_unreadable_source(cli: Any, case_dir: Path, source: Path) -> None:
    if os.geteuid() == 0:  # root reads any file it may open: a write-only sysfs attribute refuses even root
        source = Path("/sys/bus/pci/rescan")
        if not source.exists():
            pytest.skip("no unreadable file for root here")
    else:
        source.chmod(0)
    result = cli("image", source, "--exhibit", "EXH-9", "--case", case_dir, code=1)
    assert "cannot read" in result.stderr and "ermission denied" in result.stderr
    assert "internal error" not in result.stderr and not list((case_dir / "images").iterdir())


def test_exhibit_already_registered(cli: Any, case_dir: Path, source: Path) -> None:
    cli("evidence", "add", source, "--exhibit", "EXH-010", "--in-place", "--case", case_dir)
    result = cli("image", source, "--exhibit", "EXH-010", "--case", case_dir, code=2)
    assert "already registered" in result.stderr
    assert not list((case_dir / "images").iterdir())


@pytest.mark.parametrize("args,message", [
    (["--exhibit", "../evil"], "invalid exhibit id"),
    (["--exhibit", "EXH-1\n"], "invalid exhibit id"),  # `$` alone would let a final newline through
    (["--exhibit", "EXH-1", "--split-size", "lots"], "--split-size"),
    (["--exhibit", "EXH-1", "--split-size", ""], "--split-size"),  # was taken as "no split"
    (["--exhibit", "EXH-1", "--split-size", "1000"], "too small"),
    (["--exhibit", "EXH-1", "--resume"], "nothing to resume"),
    (["--exhibit", "EXH-1", "--tsa", "ftp://tsa.example"], "--tsa must be"),
])
def test_usage_errors(cli: Any, case_dir: Path, source: Path, args: list[str], message: str) -> None:
    result = cli("image", source, *args, "--case", case_dir, code=2)
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not list((case_dir / "images").iterdir())


def test_image_twice_refused_and_first_untouched(cli: Any, case_dir: Path, source: Path) -> None:
    cli("image", source, "--exhibit", "EXH-011", "--case", case_dir)
    first = snapshot(case_dir / "images" / "EXH-011.raw")
    assert "already registered" in cli("image", source, "--exhibit", "EXH-011", "--case", case_dir, code=2).stderr
    assert snapshot(case_dir / "images" / "EXH-011.raw") == first


def test_ids_with_a_slash_never_share_image_files(cli: Any, case_dir: Path, source: Path) -> None:
    cli("image", source, "--exhibit", "A/B", "--case", case_dir)
    cli("image", source, "--exhibit", "A_B", "--case", case_dir)
    names = sorted(p.name for p in (case_dir / "images").iterdir())
    assert names == ["A%2FB.raw", "A_B.raw"]


def test_source_inside_images_refused(cli: Any, case_dir: Path, source: Path) -> None:
    cli("image", source, "--exhibit", "EXH-012", "--case", case_dir)
    result = cli("image", case_dir / "images" / "EXH-012.raw", "--exhibit", "EXH-013", "--case", case_dir, code=2)
    assert "images/ folder" in result.stderr


def test_tsa_stamps_the_hashes(cli: Any, case_dir: Path, source: Path, tsa: Any) -> None:
    from triage.core.timestamp import verify_timestamp

    out = cli("image", source, "--exhibit", "EXH-T1", "--tsa", tsa.url, "--case", case_dir)
    record = json.loads(acquisitions(case_dir)[0]["details"])
    stamp = record["timestamp"]
    assert stamp["url"] == tsa.url and stamp["tsr"] in out.stdout
    case = Case.open(case_dir)
    with case.objects.open(stamp["statement"]) as fh:
        statement = fh.read()
    with case.objects.open(stamp["tsr"]) as fh:
        tsr = fh.read()
    said = json.loads(statement)
    assert {a: said[a] for a in ("md5", "sha1", "sha256")} == digests(source.read_bytes())
    assert said["exhibit"] == "EXH-T1" and said["size"] == source.stat().st_size
    checked = verify_timestamp(tsr, statement, tsa.ca_pem)
    assert checked["chain_checked"] is True and checked["gen_time"] == stamp["gen_time"]
    entry = [e for e in jsonl(cli("log", "--case", case_dir, "--format", "jsonl").stdout) if e["action"] == "acquired"]
    # stamped once the hashes existed, before the acquisition was recorded
    assert record["ended"][:19] <= stamp["gen_time"][:19] <= entry[0]["time"][:19]
    assert entry[0]["details"]["timestamp"]["tsr"] == stamp["tsr"]
    assert "FAIL" not in cli("verify", case_dir).stdout  # statement and token are recorded objects


def test_unreachable_tsa_is_a_disclosed_warning(cli: Any, case_dir: Path, source: Path) -> None:
    out = cli("image", source, "--exhibit", "EXH-T2", "--tsa", "http://127.0.0.1:9/tsa", "--case", case_dir)
    assert "time-stamp from http://127.0.0.1:9/tsa failed" in out.stderr
    record = json.loads(acquisitions(case_dir)[0]["details"])
    assert "unreachable" in record["timestamp"]["error"] and "tsr" not in record["timestamp"]
    assert (case_dir / "images" / "EXH-T2.raw").read_bytes() == source.read_bytes()
    con = sqlite3.connect(case_dir / "case.db")
    assert con.execute("SELECT count(*) FROM warnings WHERE exhibit = 'EXH-T2' AND message LIKE '%time-stamp%'"
                       ).fetchone()[0] == 1
    con.close()


def test_concurrent_acquisition_of_one_exhibit_refused(cli: Any, case_dir: Path, source: Path) -> None:
    import fcntl

    lock = case_dir / "images" / "EXH-L.lock"
    with open(lock, "w") as held:  # what a running `dalil image --exhibit EXH-L` holds
        fcntl.flock(held, fcntl.LOCK_EX)
        result = cli("image", source, "--exhibit", "EXH-L", "--case", case_dir, code=1)
        assert "another dalil process is acquiring EXH-L" in result.stderr
        assert not (case_dir / "images" / "EXH-L.raw").exists()
    cli("image", source, "--exhibit", "EXH-L", "--case", case_dir)
    assert not lock.exists()


def test_verify_evidence_rehashes_a_split_image(cli: Any, case_dir: Path, source: Path) -> None:
    cli("image", source, "--exhibit", "EXH-V", "--split-size", "1MiB", "--case", case_dir)
    assert "FAIL" not in cli("verify", case_dir, "--evidence").stdout
    segment = case_dir / "images" / "EXH-V.003"
    segment.chmod(0o644)
    with open(segment, "r+b") as fh:  # one flipped byte in a later segment must be found
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 1]))
    assert "FAIL  evidence in place" in cli("verify", case_dir, "--evidence", code=1).stdout


@pytest.mark.parametrize("batch", [64 * 1024 * 1024, 64 * 1024])
@pytest.mark.parametrize("split", [None, 1024 * 1024, 1_500_007])
def test_segment_writer_with_unaligned_pieces(tmp_path: Path, split: int | None, batch: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of every alignment (direct-I/O bulk gathered in batches, buffered edges) land byte for
    byte in the segments, whether a batch fills many times (64 KiB) or never (64 MiB)."""
    import random

    from triage.image import segments as segments_module
    from triage.image.segments import SegmentWriter, iter_image

    monkeypatch.setattr(segments_module, "DIRECT_BATCH", batch)

    rng = random.Random(7)
    data = os.urandom(4 * 1024 * 1024 + 333)
    writer = SegmentWriter(tmp_path / "img", split)
    pos = 0
    while pos < len(data):
        n = rng.choice([1, 511, 4096, 4097, 8191, 3 * 4096 + 5, 300_000, 1024 * 1024 + 17])
        writer.write(data[pos:pos + n])
        pos += n
    writer.close()
    paths = writer.paths()
    assert b"".join(iter_image(paths)) == data
    if writer._direct and batch < len(data):  # batches were written: the disk was asked to flush them early
        assert writer.background_flushes >= 1
    if split:
        assert all(p.stat().st_size == split for p in paths[:-1])
    # resuming in the middle of a segment, at an unaligned byte, then writing the rest again from 0
    writer = SegmentWriter(tmp_path / "img", split, start=2_000_001, resume=True)
    for at in range(2_000_001, len(data), 777_777):
        writer.write(data[at:at + 777_777])
    writer.close()
    assert b"".join(iter_image(writer.paths())) == data


@pytest.mark.parametrize("split", [None, 1024 * 1024, 1_500_007])
def test_segment_writer_sends_ring_buffers_to_disk_without_a_copy(tmp_path: Path, split: int | None) -> None:
    """Views of the acquisition's page-aligned buffers go to the disk as they are; where a split
    boundary or the end of the stream breaks the alignment, the batch buffer takes over, and the
    image is byte for byte the stream either way."""
    from triage.image.segments import SegmentWriter, _page_aligned, iter_image
    from triage.image.ring import BufferRing

    try:
        os.close(os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644))
    except (OSError, AttributeError):
        pytest.skip("this file system refuses O_DIRECT")
    ring = BufferRing(2, 256 * 1024)
    index, view = ring.take()
    assert _page_aligned(view) and not _page_aligned(view[1:]) and not _page_aligned(memoryview(bytes(8192)))
    data = os.urandom(4 * 1024 * 1024 + 1000)
    writer = SegmentWriter(tmp_path / "img", split)
    for at in range(0, len(data), len(view)):
        part = data[at:at + len(view)]
        view[:len(part)] = part
        writer.write(view[:len(part)])
    if split is None:
        assert writer._buf is None  # the aligned bulk never went through the batch buffer
    writer.close()
    assert b"".join(iter_image(writer.paths())) == data
    assert writer.background_flushes >= 1


@pytest.mark.parametrize("split", [None, 3 * 256 * 1024, 3 * 256 * 1024 + 512])
@pytest.mark.parametrize("resume_at", [0, 256 * 1024, 1000])
def test_segment_writer_writes_gathered_ring_buffers_in_one_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: int | None, resume_at: int) -> None:
    """`write_many` (the acquisition's sink): consecutive page-aligned buffers go to the disk in one
    vectored O_DIRECT call; a split boundary, an unaligned split size, a resume at an unaligned
    byte and the unaligned tail go the way `write` takes them. The image is the stream, byte for
    byte, whatever the mix."""
    from triage.image import segments as segments_module
    from triage.image.segments import SegmentWriter, iter_image
    from triage.image.ring import BufferRing

    try:
        os.close(os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644))
    except (OSError, AttributeError):
        pytest.skip("this file system refuses O_DIRECT")
    calls: list[int] = []
    real = segments_module._pwritev_all

    def counting(fd: int, views: list[memoryview], offset: int) -> None:
        calls.append(len(views))
        real(fd, views, offset)

    monkeypatch.setattr(segments_module, "_pwritev_all", counting)
    piece = 256 * 1024
    data = os.urandom(12 * piece + 3000)
    if resume_at:  # what an interrupted run left durable: the writer goes on after it
        first = SegmentWriter(tmp_path / "img", split)
        first.write(data[:resume_at])
        first.close()
    writer = SegmentWriter(tmp_path / "img", split, start=resume_at, resume=bool(resume_at))
    ring = BufferRing(4, piece)
    for at in range(resume_at, len(data), 4 * piece):
        taken = []
        for sub in range(at, min(at + 4 * piece, len(data)), piece):
            index, view = ring.take()
            part = data[sub:sub + piece]
            view[:len(part)] = part
            taken.append((index, view[:len(part)]))
        writer.write_many([view for _, view in taken])
        for index, _ in taken:
            ring.give(index)
    writer.close()
    assert b"".join(iter_image(writer.paths())) == data
    if split is None and not resume_at:
        assert max(calls) == 4  # four 256 KiB ring buffers in one call
    assert writer.position == len(data)


def test_failed_background_flush_is_raised_not_swallowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linux reports a writeback error once per open file: when the early flush meets it, the
    writer must raise it (naming the segment), never let the final fsync succeed without it."""
    from triage.core.errors import DalilError
    from triage.image import segments as segments_module
    from triage.image.segments import SegmentWriter

    monkeypatch.setattr(segments_module, "DIRECT_BATCH", 64 * 1024)
    calls: list[int] = []

    def failing_flush(fd: int) -> None:
        calls.append(fd)
        os.fdatasync(fd)  # the real flush happens; then the error the disk reported
        raise OSError(errno.EIO, "Input/output error")

    try:
        os.close(os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644))
    except (OSError, AttributeError):
        pytest.skip("this file system refuses O_DIRECT: no batched writes, no early flushes")
    durable: list[int] = []
    writer = SegmentWriter(tmp_path / "img", 1024 * 1024, on_sync=durable.append, flush=failing_flush)
    with pytest.raises(DalilError, match=r"cannot write the image img\.00\d: Input/output error"):
        for _ in range(64):
            writer.write(os.urandom(64 * 1024))
        writer.close()
    assert calls
    # what an interrupted acquisition does next: sync to record the durable position. The fsync
    # itself would succeed now (the error was reported once); the writer still refuses
    with pytest.raises(DalilError, match="Input/output error"):
        writer.interrupted()
    assert durable == []


class Pulled(EioSource):
    """A USB drive pulled out after its first MiB."""

    def read(self, size: int = -1) -> bytes:
        if self.pos >= 1024 * 1024:
            raise OSError(errno.ENODEV, "No such device")
        return super().read(size)


class PulledInto(EioIntoSource):
    def readinto(self, view: memoryview) -> int:
        if self.pos >= 1024 * 1024:
            raise OSError(errno.ENODEV, "No such device")
        return super().readinto(view)


@pytest.mark.parametrize("kind", [Pulled, PulledInto])
def test_vanishing_device_stops_with_a_resume_hint(cli: Any, case_dir: Path, source: Path,
                                                   kind: type[EioSource]) -> None:
    """ENODEV mid-way (a USB drive pulled out): the run stops, keeps what it has, and can be resumed."""
    case = Case.open(case_dir)
    with open(source, "rb") as fh, pytest.raises(DalilError, match="vanished.*--resume"):
        acquire(case, Request(source, "EXH-U", chunk=256 * 1024, sync_interval=0), stream=kind(fh, set()))
    assert json.loads((case_dir / "images" / "EXH-U.acquire.json").read_text())["bytes_done"] == 1024 * 1024
    out = cli("image", source, "--exhibit", "EXH-U", "--resume", "--case", case_dir)
    assert digests(source.read_bytes())["sha256"] in out.stdout


def test_source_modified_during_acquisition_is_disclosed(cli: Any, case_dir: Path, source: Path) -> None:
    class Touched(EioSource):
        def read(self, size: int = -1) -> bytes:
            os.utime(source, ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))  # someone else writes
            return super().read(size)

    with open(source, "rb") as fh:
        out = acquire(Case.open(case_dir), Request(source, "EXH-M"), stream=Touched(fh, set()))
    assert out.warnings == [f"{source.resolve()} was modified while it was being read"]
    con = sqlite3.connect(case_dir / "case.db")
    assert con.execute("SELECT message FROM warnings WHERE exhibit = 'EXH-M'").fetchall() == [(out.warnings[0],)]
    con.close()


def _dalil_without_override(*args: Any) -> subprocess.CompletedProcess[str]:
    """`dalil ARGS` in a process that file permissions bind (root drops CAP_DAC_OVERRIDE for it)."""
    cmd = [sys.executable, "-m", "triage.cli.main", *map(str, args)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root without setpriv: permissions cannot be made to bind")
        drop = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *cmd]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_unwritable_case_folders_are_named_and_a_copied_image_can_still_be_recorded(
        cli: Any, case_dir: Path, source: Path) -> None:
    images, objects = case_dir / "images", case_dir / "objects"
    images.mkdir(exist_ok=True)
    images.chmod(0o555)
    try:
        result = _dalil_without_override("image", source, "--exhibit", "EXH-P1", "--case", case_dir)
    finally:
        images.chmod(0o755)
    assert result.returncode == 1 and "cannot write in" in result.stderr and "internal error" not in result.stderr
    objects.chmod(0o555)  # the copy succeeds, recording it cannot
    try:
        result = _dalil_without_override("image", source, "--exhibit", "EXH-P2", "--case", case_dir)
    finally:
        objects.chmod(0o755)
    assert result.returncode == 1 and "complete in images/ but could not be recorded" in result.stderr
    assert "internal error" not in result.stderr and "--resume" in result.stderr
    out = cli("image", source, "--exhibit", "EXH-P2", "--resume", "--case", case_dir)
    assert hashlib.sha256(source.read_bytes()).hexdigest() in out.stdout
