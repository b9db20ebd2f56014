"""The parse child forked ahead of the options (`isolate.standby`, what `dalil parse` does first):
it parses as a child forked later does, with the same ledger command line; if it dies before it has
the job, a new child does the parse and nothing is recorded; once it has the job, its death is a
crash of the parse, recorded as before; a command that ends without a parse ends it; and Ctrl-C
from the terminal reaches it. Real forks, real signals, a real ext4 image."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from triage.core import invocation
from triage.core.clock import rfc3339
from triage.core.case import Case
from triage.core.errors import Corrupted
from triage.image import isolate, walkers
from triage.image.options import ParseOptions

from build_images import ext4_image
from crashes import faulting_walk

FILES = {"notes/a.txt": b"call +218 91 234 5678 for the boat\n", "b.bin": b"\x00\x01" * 3000,
         "passwords.txt": b"hunter2\n", "z/last.txt": b"the end\n"}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return ext4_image(tmp_path, FILES, [])


@pytest.fixture(autouse=True)
def _no_standby_left() -> Iterator[None]:
    yield
    left = isolate._STANDBY  # noqa: SLF001 - a test that failed half-way must not leave one for the next
    if left is not None:
        isolate._STANDBY = None  # noqa: SLF001
        os.close(left.jobs)
        os.close(left.answers)
        os.waitpid(left.pid, 0)


def ledger(case_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]


def runs(case_dir: Path, exhibit: str) -> list[str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return [s for (s,) in db.execute("SELECT status FROM runs WHERE exhibit = ? ORDER BY id", (exhibit,))]


def paths(case_dir: Path, exhibit: str) -> set[str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return {p for (p,) in db.execute("SELECT path FROM files WHERE exhibit = ?", (exhibit,))}


def no_new_fork(*_args: Any) -> Any:
    raise AssertionError("the standby child should have done this parse")


def test_the_standby_child_does_the_parse_with_the_command_line_of_the_command(
        image: Path, case_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    isolate.standby()
    invocation.set_command_line(["parse", str(image), "--exhibit", "SB-1", "--password", "s3cret"])
    monkeypatch.setattr(isolate, "_fork", no_new_fork)
    result = isolate.run(Case.open(case_dir), str(image), ParseOptions(exhibit="SB-1", no_yara=True))
    assert result.stats.files >= len(FILES) and result.crashes == []
    assert {"/notes/a.txt", "/b.bin", "/passwords.txt", "/z/last.txt"} <= paths(case_dir, "SB-1")
    parsed = [e for e in ledger(case_dir) if e["action"] == "parsed"][-1]
    assert parsed["command"] == ["dalil", "parse", str(image), "--exhibit", "SB-1", "--password", "<redacted>"]
    assert runs(case_dir, "SB-1") == ["done"]
    assert isolate._STANDBY is None  # noqa: SLF001 - used once
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before


def test_a_standby_child_that_died_before_its_job_is_replaced_and_nothing_is_recorded(
        image: Path, case_dir: Path) -> None:
    isolate.standby()
    pid = isolate._STANDBY.pid  # type: ignore[union-attr]  # noqa: SLF001
    os.kill(pid, signal.SIGKILL)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # dead (run() reaps it)
    result = isolate.run(Case.open(case_dir), str(image), ParseOptions(exhibit="SB-2", no_yara=True))
    assert result.stats.files >= len(FILES) and result.crashes == []
    assert runs(case_dir, "SB-2") == ["done"]
    assert not [e for e in ledger(case_dir) if e["action"] == "parse-crashed"]
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped


def test_a_crash_after_the_standby_child_took_its_job_is_recorded_as_a_crash(
        image: Path, case_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walkers, "walk_fs", faulting_walk("/passwords.txt"))  # before the fork: the standby has it
    isolate.standby()
    monkeypatch.setattr(isolate, "_fork", no_new_fork)
    with pytest.raises(Corrupted, match=r"crashed \(signal SIGSEGV\); the last entry reached was SB-3@0:/"):
        isolate.run(Case.open(case_dir), str(image), ParseOptions(exhibit="SB-3", no_yara=True))
    assert runs(case_dir, "SB-3") == ["crashed"]
    assert ledger(case_dir)[-1]["action"] == "parse-crashed"


def test_a_command_that_ends_without_a_parse_ends_its_standby_child() -> None:
    isolate.standby()
    left = isolate._STANDBY  # noqa: SLF001
    assert left is not None
    isolate._STANDBY = None  # noqa: SLF001
    os.close(left.jobs)  # what the command's end does: the job pipe closes empty
    os.close(left.answers)
    _, status = os.waitpid(left.pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_the_dalil_program_parses_through_its_standby_child(image: Path, case_dir: Path) -> None:
    """The console script's entry point (triage.cli.launch:main): the parse, its summary and ledger."""
    from importlib.metadata import entry_points

    assert [e.value for e in entry_points(group="console_scripts", name="dalil")] == ["triage.cli.launch:main"]
    program = "import sys; from triage.cli.launch import main; sys.argv[0] = 'dalil'; main()"
    done = subprocess.run([sys.executable, "-c", program, "parse", str(image), "--exhibit", "SB-4", "--no-yara",
                           "--case", str(case_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "exhibit SB-4:" in done.stdout and "Traceback" not in done.stderr
    assert {"/notes/a.txt", "/b.bin", "/passwords.txt", "/z/last.txt"} <= paths(case_dir, "SB-4")
    parsed = [e for e in ledger(case_dir) if e["action"] == "parsed"][-1]
    assert parsed["command"] == ["dalil", "parse", str(image), "--exhibit", "SB-4", "--no-yara", "--case", str(case_dir)]


def test_ctrl_c_from_the_terminal_reaches_the_parse_started_by_the_program(case_dir: Path, tmp_path: Path) -> None:
    """`python -m triage.cli.main parse` (as `dalil parse`) forks its child first; SIGINT to the
    whole process group, as a terminal sends it, ends the parse: exit 130, the run 'interrupted'."""
    folder = tmp_path / "extraction"
    for n in range(30):
        part = folder / f"d{n:02d}"
        part.mkdir(parents=True)
        for m in range(300):
            (part / f"note{m:03d}.txt").write_bytes(f"note {n} {m}\n".encode() * 40)
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli.main", "parse", str(folder), "--exhibit", "SB-5",
                             "--no-yara", "--jobs", "1", "--case", str(case_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:  # the child is parsing once its run is stored
        if (case_dir / "case.db").exists() and runs(case_dir, "SB-5") == ["running"]:
            break
        time.sleep(0.02)
    sent = rfc3339()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # lost if the run was still going when it was sent (a fork hook once ate it)
        with sqlite3.connect(case_dir / "case.db") as db:
            ended = db.execute("SELECT ended FROM runs WHERE exhibit = 'SB-5'").fetchone()[0]
        assert ended < sent, f"the Ctrl-C sent at {sent} was lost: the run went on to {ended}"
        pytest.skip("the machine parsed 9,000 files before the interrupt")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert runs(case_dir, "SB-5") == ["interrupted"]
