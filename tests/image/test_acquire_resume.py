"""`--resume`: acquisitions interrupted for real (KeyboardInterrupt mid-copy, kill -9) continue correctly."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from triage.core.case import Case
from triage.image.acquire import Request, acquire

SECTOR = 512
CHUNK = 128 * 1024


class Interrupting:
    """The real file; after `limit` bytes have been read, the next read raises KeyboardInterrupt
    (what Ctrl-C does to the reading thread). Sectors in `bad` raise OSError(EIO)."""

    def __init__(self, fh: BinaryIO, limit: int | None, bad: frozenset[int] = frozenset()) -> None:
        self.fh, self.limit, self.bad = fh, limit, bad
        self.pos = 0
        self.served = 0
        self.offsets: list[int] = []

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = self.fh.seek(offset, whence)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        if self.limit is not None and self.served >= self.limit:
            raise KeyboardInterrupt
        if any(s * SECTOR < self.pos + size and (s + 1) * SECTOR > self.pos for s in self.bad):
            raise OSError(errno.EIO, "Input/output error")
        self.offsets.append(self.pos)
        data = self.fh.read(size)
        self.pos += len(data)
        self.served += len(data)
        return data


def digests(data: bytes) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256")}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "disk.dd"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 4096))
    return path


def state_of(case_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((case_dir / "images" / f"{name}.acquire.json").read_text())


def interrupt(case_dir: Path, source: Path, exhibit: str, limit: int, bad: frozenset[int] = frozenset(),
              split: int | None = None) -> dict[str, Any]:
    case = Case.open(case_dir)
    with open(source, "rb") as fh, pytest.raises(KeyboardInterrupt):
        acquire(case, Request(source, exhibit, split_size=split, chunk=CHUNK, sync_interval=0),
                stream=Interrupting(fh, limit, bad))
    case.close()
    return state_of(case_dir, exhibit)


def test_keyboard_interrupt_then_resume_checks_the_copied_part_against_the_source(
        cli: Any, case_dir: Path, source: Path) -> None:
    data = source.read_bytes()
    before = (source.stat().st_mtime_ns, hashlib.sha256(data).hexdigest())
    state = interrupt(case_dir, source, "EXH-R1", limit=10 * CHUNK)
    done = state["bytes_done"]
    assert 0 < done <= 10 * CHUNK and done % CHUNK == 0
    image = case_dir / "images" / "EXH-R1.raw"
    assert image.read_bytes()[:done] == data[:done]
    # nothing is registered until the acquisition completes
    assert "EXH-R1" not in cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout
    assert "add --resume" in cli("image", source, "--exhibit", "EXH-R1", "--case", case_dir, code=2).stderr

    case = Case.open(case_dir)
    with open(source, "rb") as fh:
        counting = Interrupting(fh, None)
        out = acquire(case, Request(source, "EXH-R1", resume=True, chunk=CHUNK), stream=counting)
    # the resumed run read the source from byte 0 again (the hashes are the source's, not the image's)
    assert counting.offsets and min(counting.offsets) == 0 and counting.served == len(data)
    assert out.record["hashes"] == digests(data)
    resumed = out.record["resumed"][0]
    assert resumed["offset"] == resumed["recorded_offset"] == done and resumed["differs_at"] is None
    assert resumed["checked_against_source"] and not out.warnings
    assert image.read_bytes() == data
    assert not (case_dir / "images" / "EXH-R1.acquire.json").exists()
    assert (source.stat().st_mtime_ns, hashlib.sha256(source.read_bytes()).hexdigest()) == before


def test_resume_split_image_through_cli(cli: Any, case_dir: Path, source: Path) -> None:
    data = source.read_bytes()
    state = interrupt(case_dir, source, "EXH-R2", limit=12 * CHUNK, split=1024 * 1024)
    assert 1024 * 1024 < state["bytes_done"] < 2 * 1024 * 1024  # stopped inside the second segment
    # junk written after the last durable point is cut off on resume
    with open(case_dir / "images" / "EXH-R2.002", "ab") as fh:
        fh.write(b"\xff" * 5000)
    out = cli("image", source, "--exhibit", "EXH-R2", "--resume", "--verify", "--case", case_dir)
    assert digests(data)["sha256"] in out.stdout and "source and image match" in out.stdout
    segs = sorted((case_dir / "images").glob("EXH-R2.0*"))
    assert [p.stat().st_size for p in segs] == [1024 * 1024] * 3 + [4096]
    assert b"".join(p.read_bytes() for p in segs) == data
    assert "FAIL" not in cli("verify", case_dir).stdout


def test_bad_ranges_before_the_interruption_are_kept(cli: Any, case_dir: Path, source: Path) -> None:
    data = bytearray(source.read_bytes())
    interrupt(case_dir, source, "EXH-R3", limit=16 * CHUNK, bad=frozenset({40, 41}))
    case = Case.open(case_dir)
    with open(source, "rb") as fh:
        out = acquire(case, Request(source, "EXH-R3", resume=True, chunk=CHUNK),
                      stream=Interrupting(fh, None, frozenset({40, 41, 6000})))
    ranges = [(r["first_sector"], r["last_sector"]) for r in out.record["errors"]["bad_ranges"]]
    assert ranges == [(40, 41), (6000, 6000)]
    for s in (40, 41, 6000):
        data[s * SECTOR:(s + 1) * SECTOR] = bytes(SECTOR)
    assert out.record["hashes"] == digests(bytes(data))


def test_resume_refuses_a_changed_source(cli: Any, case_dir: Path, source: Path) -> None:
    interrupt(case_dir, source, "EXH-R4", limit=4 * CHUNK)
    os.utime(source, ns=(1_000_000_000, 1_000_000_000))
    result = cli("image", source, "--exhibit", "EXH-R4", "--resume", "--case", case_dir, code=2)
    assert "changed since the interrupted acquisition (mtime_ns" in result.stderr and "--restart" in result.stderr
    other = source.with_name("other.dd")
    other.write_bytes(source.read_bytes())
    assert "cannot resume" in cli("image", other, "--exhibit", "EXH-R4", "--resume", "--case", case_dir,
                                  code=2).stderr
    assert "--split-size" in cli("image", source, "--exhibit", "EXH-R4", "--resume", "--split-size", "2MiB",
                                 "--case", case_dir, code=2).stderr


def test_restart_deletes_the_partial_copy_records_it_and_starts_again(cli: Any, case_dir: Path,
                                                                      source: Path) -> None:
    """A source changed since the interruption cannot be resumed; --restart is the way out: the
    partial segments and state go, an `acquisition-discarded` entry says what went, and a full
    acquisition follows."""
    done = interrupt(case_dir, source, "EXH-R8", limit=12 * CHUNK, split=1024 * 1024)["bytes_done"]
    os.utime(source, ns=(2_000_000_000, 2_000_000_000))
    assert "--restart" in cli("image", source, "--exhibit", "EXH-R8", "--case", case_dir, code=2).stderr
    assert "nothing to restart" in cli("image", source, "--exhibit", "EXH-R9", "--restart", "--case", case_dir,
                                       code=2).stderr
    out = cli("image", source, "--exhibit", "EXH-R8", "--restart", "--split-size", "1MiB", "--case", case_dir)
    assert digests(source.read_bytes())["sha256"] in out.stdout
    entries = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    discarded = [e for e in entries if e["action"] == "acquisition-discarded"]
    assert len(discarded) == 1 and discarded[0]["details"]["state"]["bytes_done"] == done
    assert [s["path"] for s in discarded[0]["details"]["segments"]] == ["EXH-R8.001", "EXH-R8.002"]
    assert entries[-1]["action"] == "evidence-registered" and "FAIL" not in cli("verify", case_dir).stdout


SLOW_SOURCE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from triage.core.case import Case
    from triage.image.acquire import Request, acquire

    class Hangs:
        '''The real file; after `limit` bytes every read blocks, like a drive that stops answering.'''
        def __init__(self, fh, limit):
            self.fh, self.limit, self.served = fh, limit, 0
        def seek(self, offset, whence=0):
            return self.fh.seek(offset, whence)
        def read(self, size=-1):
            if self.served >= self.limit:
                time.sleep(3600)
            data = self.fh.read(size)
            self.served += len(data)
            return data

    case_dir, source, limit = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    with open(source, "rb") as fh:
        acquire(Case.open(case_dir), Request(source, "EXH-K", chunk=131072, sync_interval=0),
                stream=Hangs(fh, limit))
""")


def test_kill_9_then_resume(cli: Any, case_dir: Path, source: Path, tmp_path: Path) -> None:
    data = source.read_bytes()
    script = tmp_path / "slow_acquire.py"
    script.write_text(SLOW_SOURCE)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(script), str(case_dir), str(source), str(20 * CHUNK)], env=env)
    state_file = case_dir / "images" / "EXH-K.acquire.json"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if state_file.exists() and json.loads(state_file.read_text() or "{}").get("bytes_done", 0) >= 20 * CHUNK:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the acquisition should still be running (its source hangs)"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert state_of(case_dir, "EXH-K")["bytes_done"] == 20 * CHUNK
    out = cli("image", source, "--exhibit", "EXH-K", "--resume", "--case", case_dir)
    assert digests(data)["sha256"] in out.stdout
    assert (case_dir / "images" / "EXH-K.raw").read_bytes() == data
    assert "FAIL" not in cli("verify", case_dir, "--evidence").stdout


def test_a_sector_unreadable_before_the_interruption_that_reads_now_is_copied(case_dir: Path, source: Path) -> None:
    """Sectors 255-256 straddle the first chunk boundary; Ctrl-C comes while the second chunk is read
    sector by sector, so sector 255 is zero-filled in the durable part. On resume both read fine: the
    check finds the image differing from the source in the first chunk and copies from there."""
    data = bytearray(source.read_bytes())
    data[255 * SECTOR] |= 1  # the zero-filled copy differs from its first byte on (random: 1 in 256 was 0)
    source.write_bytes(data)
    per_chunk = CHUNK // SECTOR
    state = interrupt(case_dir, source, "EXH-R5", limit=per_chunk * SECTOR, bad=frozenset({255, 256}))
    assert state["bytes_done"] == CHUNK
    assert [(r["first_sector"], r["last_sector"]) for r in state["bad_ranges"]] == [(255, 255)]
    case = Case.open(case_dir)
    with open(source, "rb") as fh:
        out = acquire(case, Request(source, "EXH-R5", resume=True, chunk=CHUNK), stream=Interrupting(fh, None))
    assert out.record["errors"]["bad_ranges"] == [] and out.record["resumed"][0]["differs_at"] == 255 * SECTOR
    assert out.record["hashes"] == digests(bytes(data))
    assert (case_dir / "images" / "EXH-R5.raw").read_bytes() == data


def test_a_copied_part_changed_before_the_resume_is_copied_again(cli: Any, case_dir: Path, source: Path) -> None:
    """Bytes changed in images/ between the interruption and --resume are never certified as the
    source's: the check finds them, the copy goes on from that chunk, and the record says so."""
    data = source.read_bytes()
    done = interrupt(case_dir, source, "EXH-R6", limit=16 * CHUNK)["bytes_done"]
    image = case_dir / "images" / "EXH-R6.raw"
    image.chmod(0o644)
    at = 5 * CHUNK + 100
    with open(image, "r+b") as fh:  # every byte changed (random "tampered" text met the source's byte 1 in 256)
        fh.seek(at)
        fh.write(bytes(b ^ 0xFF for b in data[at:at + 8]))
    out = cli("image", source, "--exhibit", "EXH-R6", "--resume", "--case", case_dir)
    assert digests(data)["sha256"] in out.stdout and "differed from the source from byte" in out.stderr
    record = json.loads(Case.open(case_dir).store.query("SELECT details FROM acquisitions")[0]["details"])
    resumed = record["resumed"][0]
    assert resumed["differs_at"] == 5 * CHUNK + 100 and resumed["recorded_offset"] == done
    assert resumed["offset"] <= 5 * CHUNK + 100  # the copy went on from the start of that chunk
    assert record["hashes"] == digests(data) and image.read_bytes() == data
    assert "FAIL" not in cli("verify", case_dir, "--evidence").stdout


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_on_the_cli_then_resume(cli: Any, case_dir: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """SIGINT (or SIGTERM) to a real `dalil image` process: exit 128+signal with a --resume hint,
    the lock removed; --resume completes it."""
    size = 512 * 1024 * 1024
    source = tmp_path / "sparse.dd"
    with open(source, "wb") as fh:
        fh.truncate(size)  # sparse: reads as zeros, costs no disk
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli.main", "image", str(source), "--exhibit", "EXH-C",
                             "--case", str(case_dir)], env=env, stderr=subprocess.PIPE, text=True)
    state_file = case_dir / "images" / "EXH-C.acquire.json"
    deadline = time.monotonic() + 60
    while not state_file.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("the acquisition finished before it could be interrupted")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the acquisition finished before the signal arrived")
    assert proc.returncode == 128 + sig and "--resume" in err and "Traceback" not in err
    assert state_file.exists() and not (case_dir / "images" / "EXH-C.lock").exists()
    out = cli("image", source, "--exhibit", "EXH-C", "--resume", "--case", case_dir)
    zeros = hashlib.sha256()
    block = bytes(8 * 1024 * 1024)
    for _ in range(size // len(block)):
        zeros.update(block)
    assert zeros.hexdigest() in out.stdout
    assert (case_dir / "images" / "EXH-C.raw").stat().st_size == size


def test_an_id_being_acquired_cannot_be_registered_meanwhile(cli: Any, case_dir: Path, source: Path,
                                                              tmp_path: Path) -> None:
    """The resume state reserves the id: `evidence add` of another file under it is refused (it used to
    succeed, leaving the acquisition unable to finish and the ledger naming two files for one id)."""
    interrupt(case_dir, source, "EXH-R7", limit=4 * CHUNK)
    other = tmp_path / "other.bin"
    other.write_bytes(b"something else")
    result = cli("evidence", "add", other, "--exhibit", "EXH-R7", "--case", case_dir, code=2)
    assert "being acquired" in result.stderr and "--resume" in result.stderr
    cli("image", source, "--exhibit", "EXH-R7", "--resume", "--case", case_dir)
    log = cli("log", "--case", case_dir, "--format", "jsonl").stdout
    assert log.count('"evidence-registered"') == 1 and "FAIL" not in cli("verify", case_dir).stdout


@pytest.mark.parametrize("change", ["short", "long", "missing"])
def test_an_earlier_segment_of_the_wrong_size_is_copied_again(case_dir: Path, tmp_path: Path, change: str) -> None:
    """Segments read as one stream: a first segment cut by 4 KiB shifted the rest, and where both
    sides are zeros it compared equal; the image registered was 4 KiB short of its hashes."""
    source = tmp_path / "zeros.dd"
    source.write_bytes(os.urandom(512 * 1024) + bytes(3 * 1024 * 1024))
    data = source.read_bytes()
    interrupt(case_dir, source, "EXH-R10", limit=20 * CHUNK, split=1024 * 1024)
    first = case_dir / "images" / "EXH-R10.001"
    first.chmod(0o644)
    if change == "missing":
        first.unlink()
    else:
        with open(first, "r+b") as fh:
            fh.truncate(1024 * 1024 - 4096) if change == "short" else (fh.seek(0, 2), fh.write(bytes(4096)))
    case = Case.open(case_dir)
    with open(source, "rb") as fh:
        out = acquire(case, Request(source, "EXH-R10", resume=True, chunk=CHUNK), stream=Interrupting(fh, None))
    segs = sorted((case_dir / "images").glob("EXH-R10.0*"))
    assert b"".join(p.read_bytes() for p in segs) == data and out.record["hashes"] == digests(data)
    assert out.record["resumed"][0]["differs_at"] is not None and out.record["resumed"][0]["offset"] == 0


def test_ctrl_c_while_the_acquisition_is_recorded_waits_for_it(cli: Any, case_dir: Path, source: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SIGINT arriving while the result is recorded takes effect once the record and the
    removal of the resume state are done: no exhibit left half recorded, no stale state pointing
    to a --resume that could only fail."""
    from triage.image import acquire as acquire_module

    real = acquire_module._record

    def interrupted_record(*args: Any, **kwargs: Any) -> Any:
        signal.raise_signal(signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(acquire_module, "_record", interrupted_record)
    result = cli("image", source, "--exhibit", "EXH-R11", "--case", case_dir, code=130)
    assert "acquisition is complete" in result.stderr
    assert not (case_dir / "images" / "EXH-R11.acquire.json").exists()
    assert "EXH-R11" in cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout
    assert "FAIL" not in cli("verify", case_dir).stdout
