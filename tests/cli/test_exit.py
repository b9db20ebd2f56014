"""The quick end of a finished command (`triage.cli._exit.leave`): what the interpreter's teardown
would have done that matters is still done, and a command's exit status is kept."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

DALIL = [sys.executable, "-m", "triage.cli.main"]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ))


def test_open_files_are_closed_and_connections_checkpointed(tmp_path: Path) -> None:
    r = _python("""
        import atexit, gzip, sqlite3, sys, tempfile
        from triage.cli._exit import leave
        text = open("text.txt", "w")                   # buffered text, never flushed by the code
        text.write("kept " * 1000)
        packed = gzip.open("packed.gz", "wt")          # its trailer is written only by close()
        packed.write("inside")
        temp = tempfile.NamedTemporaryFile(dir=".", prefix="temp-", delete=True)
        temp.write(b"x")
        db = sqlite3.connect("case.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (v TEXT)")
        db.execute("INSERT INTO t VALUES ('row')")
        atexit.register(lambda: open("atexit.txt", "w").write("ran"))
        print("to stdout", end="")                     # in sys.stdout's buffer until flushed
        leave(3)
        print("not reached", file=sys.stderr)
    """, tmp_path)
    assert r.returncode == 3, r.stderr
    assert r.stdout == "to stdout" and "not reached" not in r.stderr
    assert (tmp_path / "text.txt").read_text() == "kept " * 1000
    import gzip

    assert gzip.decompress((tmp_path / "packed.gz").read_bytes()) == b"inside"
    assert not list(tmp_path.glob("temp-*")), "a temporary file that deletes itself on close was left"
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert not (tmp_path / "case.db-wal").exists(), "the connection was not closed (WAL not checkpointed)"
    with sqlite3.connect(tmp_path / "case.db") as db:
        assert db.execute("SELECT v FROM t").fetchall() == [("row",)]


def test_another_thread_alive_means_the_normal_exit(tmp_path: Path) -> None:
    """leave() returns: the thread finishes its work under the interpreter's own exit."""
    r = _python("""
        import threading, time
        from triage.cli._exit import leave
        def late():
            time.sleep(0.3)
            open("late.txt", "w").write("done")
        threading.Thread(target=late).start()
        leave(0)
        print("returned")
    """, tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "returned", r.stderr
    assert (tmp_path / "late.txt").read_text() == "done"


def test_a_command_keeps_its_exit_status_and_output(tmp_path: Path) -> None:
    """The real entry point: output written, status kept, the case database closed cleanly."""
    case_dir = tmp_path / "case"
    made = subprocess.run([*DALIL, "case", "init", str(case_dir), "--case-id", "EXIT-1", "--title", "t",
                           "--examiner", "Test Examiner"], capture_output=True, text=True)
    assert made.returncode == 0 and not (case_dir / "case.db-wal").exists(), made.stderr
    ok = subprocess.run([*DALIL, "log", "--format", "jsonl", "--case", str(case_dir)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.count("\n") >= 1 and '"case-opened"' in ok.stdout, ok.stderr
    assert not (case_dir / "case.db-wal").exists()
    usage = subprocess.run([*DALIL, "log", "--no-such-option"], capture_output=True, text=True)
    assert usage.returncode == 2 and "no-such-option" in usage.stderr
    missing = subprocess.run([*DALIL, "log", "--case", str(case_dir / "absent")], capture_output=True, text=True)
    assert missing.returncode != 0 and missing.stderr.startswith("error:"), missing.stderr
